import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { PatientItem } from './patients';
import type { PrescriptionStatus } from '$lib/shared/pharmacy';

/**
 * One row per prescription written in a visit: the record keeps the list as the doctor wrote
 * it; this row makes each prescription addressable (its id), queued for the pharmacy while
 * `queue` = 'pending' (a sparse index), and dispensed once.
 */
export type PrescriptionItem = {
	id: string;
	record_id: string;
	appointment_id: string;
	patient_id: string;
	patient_name: string;
	doctor_id: string;
	doctor_name: string;
	doctor_user_id?: string;
	medicine: string;
	dosage: string;
	frequency: string;
	days: number;
	status: PrescriptionStatus;
	queue?: 'pending';
	created_at: string;
	updated_at: string;
	dispensed_at?: string;
	dispensed_by_name?: string;
	dispensation_id?: string;
};

export const prescriptionPut = (ctx: Ctx, item: PrescriptionItem) => ({
	Put: { TableName: ctx.db.tables.prescriptions, Item: item, ConditionExpression: 'attribute_not_exists(id)' }
});

/** Leaves the queue as `status`, only if it is still pending (a dispensed one stays dispensed). */
export function prescriptionSettleUpdate(
	ctx: Ctx,
	id: string,
	status: 'dispensed' | 'cancelled',
	at: string,
	extra: { dispensationId?: string; byName?: string } = {}
) {
	const values: Record<string, unknown> = { ':s': status, ':at': at, ':pending': 'pending' };
	let set = '#s = :s, updated_at = :at';
	if (status === 'dispensed') {
		set += ', dispensed_at = :at, dispensed_by_name = :by, dispensation_id = :d';
		values[':by'] = extra.byName ?? 'MedTrack';
		values[':d'] = extra.dispensationId ?? '-';
	}
	return {
		Update: {
			TableName: ctx.db.tables.prescriptions,
			Key: { id },
			UpdateExpression: `SET ${set} REMOVE #q`,
			ConditionExpression: 'attribute_exists(id) AND #s = :pending',
			ExpressionAttributeNames: { '#s': 'status', '#q': 'queue' },
			ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const
		}
	};
}

export async function getPrescription(ctx: Ctx, id: string): Promise<PrescriptionItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.prescriptions, Key: { id }, ConsistentRead: true }));
	return res.Item as PrescriptionItem | undefined;
}

async function batchGet<T>(ctx: Ctx, table: string, ids: string[]): Promise<T[]> {
	const out: T[] = [];
	const unique = [...new Set(ids)];
	for (let i = 0; i < unique.length; i += 100) {
		let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map((id) => ({ id }));
		while (keys && keys.length) {
			const res = await ctx.db.doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
			out.push(...((res.Responses?.[table] ?? []) as T[]));
			keys = res.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
		}
	}
	return out;
}

export const batchGetPrescriptions = (ctx: Ctx, ids: string[]) => batchGet<PrescriptionItem>(ctx, ctx.db.tables.prescriptions, ids);

/** Patients by id (the queue's names and allergies). */
export const batchGetPatientsById = (ctx: Ctx, ids: string[]) => batchGet<PatientItem>(ctx, ctx.db.tables.patients, ids);

/** Pending prescriptions, newest first. */
export async function pendingPrescriptions(ctx: Ctx, limit: number, startKey?: Record<string, unknown>) {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.prescriptions,
			IndexName: 'queue-index',
			KeyConditionExpression: '#q = :p',
			ExpressionAttributeNames: { '#q': 'queue' },
			ExpressionAttributeValues: { ':p': 'pending' },
			ScanIndexForward: false,
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as PrescriptionItem[], lastKey: res.LastEvaluatedKey };
}
