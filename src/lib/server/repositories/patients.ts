import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { VersionStamp } from '../db/versioned';
import type { Allergy } from '$lib/shared/allergies';

export type PatientItem = VersionStamp & {
	id: string;
	user_id?: string;
	name: string;
	name_lower: string;
	name_initial: string;
	email?: string;
	phone: string;
	date_of_birth: string;
	blood_group: string;
	gender?: string;
	address?: string;
	emergency_contact_name?: string;
	emergency_contact_phone?: string;
	/** On the chart; shown wherever a medicine is prescribed or dispensed. */
	allergies?: Allergy[];
	/** The last changes of the allergy list, newest last, each with the list it replaced. */
	allergy_history?: { at: string; by: string; by_name: string; reason?: string; previous: Allergy[] }[];
	created_at: string;
};

/** Index attributes derived from a name, for prefix search. */
export function nameKeys(name: string) {
	const lower = name.trim().toLowerCase();
	return { name_lower: lower, name_initial: lower.charAt(0) || '_' };
}

export async function getPatient(ctx: Ctx, id: string): Promise<PatientItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.patients, Key: { id }, ConsistentRead: true })
	);
	return res.Item as PatientItem | undefined;
}

export async function searchPatientsByName(
	ctx: Ctx,
	prefix: string,
	limit: number,
	startKey?: Record<string, unknown>
) {
	const lower = prefix.trim().toLowerCase();
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.patients,
			IndexName: 'name-index',
			KeyConditionExpression: 'name_initial = :i AND begins_with(name_lower, :p)',
			ExpressionAttributeValues: { ':i': lower.charAt(0), ':p': lower },
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as PatientItem[], lastKey: res.LastEvaluatedKey };
}
