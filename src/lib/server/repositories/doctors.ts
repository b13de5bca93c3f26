import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { VersionStamp } from '../db/versioned';

export type WeeklySlot = { day: number; start: string; end: string };
export type DoctorItem = VersionStamp & {
	id: string;
	user_id: string;
	name: string;
	name_lower: string;
	specialization: string;
	licence_number: string;
	status: 'available' | 'busy' | 'off';
	slot_minutes: number;
	weekly: WeeklySlot[];
	created_at: string;
};

/** A new doctor works Monday–Friday 09:00–17:00 in 15-minute slots until changed. */
export const DEFAULT_WEEKLY: WeeklySlot[] = [1, 2, 3, 4, 5].map((day) => ({
	day,
	start: '09:00',
	end: '17:00'
}));

/** A transaction's check that the doctor is not off duty at the moment it commits. */
export function doctorOnDutyCheck(ctx: Ctx, doctorId: string) {
	return {
		ConditionCheck: {
			TableName: ctx.db.tables.doctors,
			Key: { id: doctorId },
			ConditionExpression: 'attribute_exists(id) AND #s <> :off',
			ExpressionAttributeNames: { '#s': 'status' },
			ExpressionAttributeValues: { ':off': 'off' }
		}
	};
}

export async function getDoctor(ctx: Ctx, id: string): Promise<DoctorItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.doctors, Key: { id }, ConsistentRead: true })
	);
	return res.Item as DoctorItem | undefined;
}

/** Every doctor of a specialization, through `specialization-index`. */
export async function doctorsOfSpecialization(ctx: Ctx, specialization: string): Promise<DoctorItem[]> {
	const out: DoctorItem[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.doctors,
				IndexName: 'specialization-index',
				KeyConditionExpression: 'specialization = :s',
				ExpressionAttributeValues: { ':s': specialization },
				ExclusiveStartKey: startKey
			})
		);
		out.push(...((page.Items ?? []) as DoctorItem[]));
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return out;
}
