import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { VersionStamp } from '../db/versioned';
import { indexWrites, searchTerm, type SearchEntry, type SearchFilter } from '../db/search-index';
import type { TransactItem } from '../db/transaction';
import type { Allergy } from '$lib/shared/allergies';
import { namePrefixes } from '$lib/shared/search';

export type PatientItem = VersionStamp & {
	id: string;
	user_id?: string;
	name: string;
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

export async function getPatient(ctx: Ctx, id: string): Promise<PatientItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.patients, Key: { id }, ConsistentRead: true })
	);
	return res.Item as PatientItem | undefined;
}

/** A patient as the search index holds them: name prefixes, phone and blood group, carrying the result's fields. */
export function patientSearchEntry(p: Pick<PatientItem, 'id' | 'name' | 'phone' | 'blood_group' | 'date_of_birth'>): SearchEntry {
	return {
		kind: 'patient',
		id: p.id,
		name: p.name,
		terms: [...namePrefixes(p.name).map((w) => `n:${w}`), ...(p.phone ? [`p:${p.phone}`] : []), ...(p.blood_group ? [`b:${p.blood_group}`] : [])],
		data: { phone: p.phone, blood_group: p.blood_group, date_of_birth: p.date_of_birth }
	};
}

/** The index items of a patient's creation (`before` undefined) or change, for its transaction. */
export function patientIndexWrites(ctx: Ctx, before: Parameters<typeof patientSearchEntry>[0] | undefined, after: Parameters<typeof patientSearchEntry>[0]): TransactItem[] {
	return indexWrites(ctx, before && patientSearchEntry(before), patientSearchEntry(after));
}

export type PatientHit = { id: string; name: string; phone?: string; blood_group?: string; date_of_birth?: string };

/** One page of patients under one index term (`n:<prefix>`, `p:<E.164>`, `b:<group>`), by name. */
export async function searchPatientTerm(ctx: Ctx, q: { term: string; filter?: SearchFilter; limit: number; after?: string }) {
	const page = await searchTerm(ctx, { kind: 'patient', ...q });
	return {
		hits: page.hits.map((h): PatientHit => ({ id: h.entity_id, name: h.name, phone: h.phone, blood_group: h.blood_group, date_of_birth: h.date_of_birth })),
		next: page.next
	};
}

/** A page of every patient, for the search-index backfill job only (a maintenance job, never a request path). */
export async function scanPatientsForMaintenance(ctx: Ctx, startKey?: Record<string, unknown>) {
	const res = await ctx.db.doc.send(new ScanCommand({ TableName: ctx.db.tables.patients, Limit: 200, ExclusiveStartKey: startKey }));
	return { items: (res.Items ?? []) as PatientItem[], lastKey: res.LastEvaluatedKey };
}
