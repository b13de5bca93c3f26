import { BatchGetCommand, DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { queryAll } from '../db/query';
import type { TableName } from '../db/tables';
import type { VersionStamp } from '../db/versioned';
import type { MedicineForm } from '$lib/shared/pharmacy';

/**
 * The pharmacy's DynamoDB calls, plain: medicines, their batches, stock movements,
 * dispensing records and the alert claims in `locks`. Rules live in services/pharmacy.ts.
 */
export type MedicineItem = VersionStamp & {
	id: string;
	kind: 'medicine';
	name: string;
	name_lower: string;
	form: MedicineForm;
	strength: string;
	threshold: number;
	/** Units in unexpired, not written-off batches: every stock change moves it in the same transaction. */
	on_hand: number;
	created_at: string;
};

export type BatchItem = {
	medicine_id: string;
	/** `b#<expiresOn>#<batchNumber>`: a medicine's batches in expiry order. */
	sort_key: string;
	/** 'batch' while it may hold stock (the expiry index), 'spent' once written off. */
	kind: 'batch' | 'spent';
	batch_number: string;
	quantity: number;
	received_quantity: number;
	expires_on: string;
	received_at: string;
	expired_quantity?: number;
	written_off_at?: string;
};

export type MovementKind = 'received' | 'dispensed' | 'expired';
export type MovementItem = {
	id: string;
	ledger: 'pharmacy';
	at: string;
	kind: MovementKind;
	medicine_id: string;
	quantity: number;
	batch_number?: string;
	ref_id?: string;
};

export type DispensationItem = {
	id: string;
	medicine_id: string;
	medicine_name: string;
	quantity: number;
	prescription_id?: string;
	patient_id?: string;
	batches: { batch_number: string; quantity: number; expires_on: string }[];
	created_at: string;
	by: string;
	by_name: string;
};

export const batchSortKey = (expiresOn: string, batchNumber: string) => `b#${expiresOn}#${batchNumber}`;
const batchGuardKey = (batchNumber: string) => `n#${batchNumber.toLowerCase()}`;

const put = (ctx: Ctx, table: TableName, item: Record<string, unknown>, condition?: string, names?: Record<string, string>) => ({
	Put: {
		TableName: ctx.db.tables[table],
		Item: item,
		...(condition ? { ConditionExpression: condition, ExpressionAttributeNames: names } : {})
	}
});

export const medicinePut = (ctx: Ctx, item: MedicineItem) => put(ctx, 'medicines', item, 'attribute_not_exists(id)');

export async function getMedicine(ctx: Ctx, id: string): Promise<MedicineItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.medicines, Key: { id }, ConsistentRead: true }));
	return res.Item as MedicineItem | undefined;
}

export async function batchGetMedicines(ctx: Ctx, ids: string[]): Promise<MedicineItem[]> {
	const out: MedicineItem[] = [];
	const table = ctx.db.tables.medicines;
	const unique = [...new Set(ids)];
	for (let i = 0; i < unique.length; i += 100) {
		let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map((id) => ({ id }));
		while (keys && keys.length) {
			const res = await ctx.db.doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }));
			out.push(...((res.Responses?.[table] ?? []) as MedicineItem[]));
			keys = res.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
		}
	}
	return out;
}

/** Medicines whose lower-cased name starts with `prefix` (all of them for ''), by name. */
export async function searchMedicines(ctx: Ctx, prefix: string, limit: number, startKey?: Record<string, unknown>) {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.medicines,
			IndexName: 'name-index',
			KeyConditionExpression: prefix ? 'kind = :k AND begins_with(name_lower, :p)' : 'kind = :k',
			ExpressionAttributeValues: { ':k': 'medicine', ...(prefix ? { ':p': prefix } : {}) },
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as MedicineItem[], lastKey: res.LastEvaluatedKey };
}

/** The whole formulary (the worker's and the report's listing: one partition, by name). */
export function allMedicines(ctx: Ctx): Promise<MedicineItem[]> {
	return queryAll<MedicineItem>(ctx, {
		TableName: ctx.db.tables.medicines,
		IndexName: 'name-index',
		KeyConditionExpression: 'kind = :k',
		ExpressionAttributeValues: { ':k': 'medicine' }
	});
}

/** A medicine's batches, first-expiring first, strongly consistent. */
export function batchesOf(ctx: Ctx, medicineId: string): Promise<BatchItem[]> {
	return queryAll<BatchItem>(ctx, {
		TableName: ctx.db.tables.medicine_batches,
		KeyConditionExpression: 'medicine_id = :m AND begins_with(sort_key, :b)',
		ExpressionAttributeValues: { ':m': medicineId, ':b': 'b#' },
		ConsistentRead: true
	});
}

/** The guard that claims a batch number for one medicine (case-insensitive), with the batch. */
export const batchGuardPut = (ctx: Ctx, medicineId: string, batchNumber: string) =>
	put(ctx, 'medicine_batches', { medicine_id: medicineId, sort_key: batchGuardKey(batchNumber), batch_number: batchNumber }, 'attribute_not_exists(sort_key)');

export const batchPut = (ctx: Ctx, item: BatchItem) => put(ctx, 'medicine_batches', item, 'attribute_not_exists(sort_key)');

/** Takes `take` units from a batch, only while it still holds them and is not written off. */
export function batchTakeUpdate(ctx: Ctx, medicineId: string, sortKey: string, take: number) {
	return {
		Update: {
			TableName: ctx.db.tables.medicine_batches,
			Key: { medicine_id: medicineId, sort_key: sortKey },
			UpdateExpression: 'SET quantity = quantity - :t',
			ConditionExpression: 'attribute_exists(sort_key) AND kind = :batch AND quantity >= :t',
			ExpressionAttributeValues: { ':t': take, ':batch': 'batch' },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const
		}
	};
}

/** Writes off what an expired batch still holds (exactly `quantity`, as read). */
export function batchWriteOffUpdate(ctx: Ctx, medicineId: string, sortKey: string, quantity: number, at: string) {
	return {
		Update: {
			TableName: ctx.db.tables.medicine_batches,
			Key: { medicine_id: medicineId, sort_key: sortKey },
			UpdateExpression: 'SET quantity = :zero, expired_quantity = :q, written_off_at = :at, kind = :spent',
			ConditionExpression: 'kind = :batch AND quantity = :q',
			ExpressionAttributeValues: { ':zero': 0, ':q': quantity, ':at': at, ':spent': 'spent', ':batch': 'batch' }
		}
	};
}

/**
 * Moves a medicine's `on_hand` by `delta` (never below zero: a decrement is conditioned on
 * the units being there) and bumps its version, stamped with who did it; with
 * `expectVersion`, only if nothing else changed it since that version.
 */
export function medicineStockUpdate(ctx: Ctx, caller: Caller, medicineId: string, delta: number, at: string, expectVersion?: number) {
	const values: Record<string, unknown> = {
		':d': delta,
		':one': 1,
		':at': at,
		':by': caller.actor?.id ?? 'system',
		':byName': caller.actor?.name ?? 'MedTrack'
	};
	if (delta < 0) values[':need'] = -delta;
	if (expectVersion !== undefined) values[':read'] = expectVersion;
	const conditions = ['attribute_exists(id)', ...(delta < 0 ? ['on_hand >= :need'] : []), ...(expectVersion !== undefined ? ['#v = :read'] : [])];
	return {
		Update: {
			TableName: ctx.db.tables.medicines,
			Key: { id: medicineId },
			UpdateExpression: 'SET on_hand = on_hand + :d, #v = #v + :one, updated_at = :at, updated_by = :by, updated_by_name = :byName',
			ConditionExpression: conditions.join(' AND '),
			ExpressionAttributeNames: { '#v': 'version' },
			ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const
		}
	};
}

export const movementPut = (ctx: Ctx, m: MovementItem) => put(ctx, 'stock_movements', m, 'attribute_not_exists(id)');
export const dispensationPut = (ctx: Ctx, d: DispensationItem) => put(ctx, 'dispensing', d, 'attribute_not_exists(id)');

/** Stock movements from `fromIso` on, oldest first. */
export function movementsSince(ctx: Ctx, fromIso: string): Promise<MovementItem[]> {
	return queryAll<MovementItem>(ctx, {
		TableName: ctx.db.tables.stock_movements,
		IndexName: 'ledger-time-index',
		KeyConditionExpression: 'ledger = :l AND #at >= :f',
		ExpressionAttributeNames: { '#at': 'at' },
		ExpressionAttributeValues: { ':l': 'pharmacy', ':f': fromIso }
	});
}

/** Batches still holding stock that expire on or before `toDate` (ISO dates), first-expiring first. */
export function batchesExpiringBy(ctx: Ctx, toDate: string): Promise<BatchItem[]> {
	return queryAll<BatchItem>(ctx, {
		TableName: ctx.db.tables.medicine_batches,
		IndexName: 'expiry-index',
		KeyConditionExpression: 'kind = :k AND expires_on <= :t',
		FilterExpression: 'quantity > :zero',
		ExpressionAttributeValues: { ':k': 'batch', ':t': toDate, ':zero': 0 }
	});
}

/** Dispensing records of one prescription. */
export function dispensationsOfPrescription(ctx: Ctx, prescriptionId: string): Promise<DispensationItem[]> {
	return queryAll<DispensationItem>(ctx, {
		TableName: ctx.db.tables.dispensing,
		IndexName: 'prescription-index',
		KeyConditionExpression: 'prescription_id = :p',
		ExpressionAttributeValues: { ':p': prescriptionId }
	});
}

/**
 * An alert's claim: a `locks` row put only if absent, in the transaction that writes the
 * alert's notifications, so an alert goes out once however often the job runs.
 */
export function alertClaimPut(ctx: Ctx, id: string, kind: string, ttlSeconds: number) {
	return put(ctx, 'locks', { id, kind, ttl: ttlSeconds, claimed_at: new Date().toISOString() }, 'attribute_not_exists(id)');
}

export async function deleteAlertClaim(ctx: Ctx, id: string): Promise<void> {
	await ctx.db.doc.send(new DeleteCommand({ TableName: ctx.db.tables.locks, Key: { id } }));
}

export async function alertClaimExists(ctx: Ctx, id: string): Promise<boolean> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.locks, Key: { id }, ConsistentRead: true }));
	return !!res.Item;
}
