import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { VersionStamp } from '../db/versioned';
import { queryAll } from '../db/query';
import type { BloodComponent, BloodGroup, BloodUnitStatus } from '$lib/shared/blood';

/**
 * Every DynamoDB call of the blood bank, plain: items in, items out, the condition of each
 * write stated where the write is built. Rules (who, when, how many) live in
 * services/blood-bank.ts.
 */
export type BloodUnitItem = VersionStamp & {
	id: string;
	bag_number: string;
	blood_group: BloodGroup;
	component: BloodComponent;
	status: BloodUnitStatus;
	/** group#component while available, absent otherwise (the sparse stock index). */
	available_key?: string;
	collected_at: string;
	expires_at: string;
	donor_id?: string;
	issue_id?: string;
	issued_to?: string;
	issued_at?: string;
	status_reason?: string;
	created_at: string;
};

export type StockItem = VersionStamp & {
	stock_key: string;
	blood_group: BloodGroup;
	component: BloodComponent;
	available: number;
	threshold: number;
	/** Crossing state: true from the critical alert of a crossing until its recovery. */
	alerted?: boolean;
	alerted_at?: string;
	created_at?: string;
};

export type DonorItem = VersionStamp & {
	/** The patient's id. */
	id: string;
	user_id: string;
	name: string;
	blood_group: BloodGroup;
	/** Set (to blood_group) only while the donor consents: the sparse matching index. */
	donor_group?: BloodGroup;
	/** YYYY-MM-DD; '0000-01-01' for someone who never gave. */
	last_donation_on: string;
	consent: boolean;
	created_at: string;
};

export type DonationRequestItem = VersionStamp & {
	id: string;
	blood_group: BloodGroup;
	component: BloodComponent;
	note?: string;
	status: 'open' | 'closed';
	notified: number;
	donations: number;
	created_at: string;
	created_by_name: string;
};

export const NEVER_DONATED = '0000-01-01';
export const bagGuardId = (bag: string) => `bag#${bag.trim().toUpperCase()}`;

type Stamp = Omit<VersionStamp, 'version'>;

// ---- units

export async function getUnit(ctx: Ctx, id: string): Promise<BloodUnitItem | undefined> {
	if (id.startsWith('bag#')) return undefined;
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.blood_units, Key: { id }, ConsistentRead: true }));
	return res.Item as BloodUnitItem | undefined;
}

/** The guard that claims a bag number (case-insensitive); written with its unit. */
export function bagGuardPut(ctx: Ctx, bag: string, unitId: string) {
	return {
		Put: {
			TableName: ctx.db.tables.blood_units,
			Item: { id: bagGuardId(bag), unit_id: unitId },
			ConditionExpression: 'attribute_not_exists(id)'
		}
	};
}

export function unitPut(ctx: Ctx, unit: BloodUnitItem) {
	return {
		Put: { TableName: ctx.db.tables.blood_units, Item: unit, ConditionExpression: 'attribute_not_exists(id)' }
	};
}

/**
 * Available units of one group × component, first-expiring first, up to `limit`. The index
 * is eventually consistent: a unit listed may have just been taken, which the conditional
 * write that takes it finds out.
 */
export async function availableUnits(ctx: Ctx, key: string, limit: number, expiringBy?: string): Promise<BloodUnitItem[]> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.blood_units,
			IndexName: 'available-expiry-index',
			KeyConditionExpression: expiringBy ? 'available_key = :k AND expires_at <= :t' : 'available_key = :k',
			ExpressionAttributeValues: expiringBy ? { ':k': key, ':t': expiringBy } : { ':k': key },
			ScanIndexForward: true,
			Limit: limit
		})
	);
	return (res.Items ?? []) as BloodUnitItem[];
}

/**
 * A unit leaves the stock (issued, expired, reserved, quarantined, discarded): only if it is
 * still available at the moment of the write. Bumps its version.
 */
export function unitTakeUpdate(ctx: Ctx, unitId: string, status: BloodUnitStatus, stamp: Stamp, extra: Record<string, string> = {}) {
	const names: Record<string, string> = { '#s': 'status', '#ak': 'available_key', '#v': 'version' };
	const values: Record<string, unknown> = { ':avail': 'available', ':to': status, ':one': 1 };
	const sets = ['#s = :to', '#v = #v + :one'];
	Object.entries({ ...extra, ...stamp }).forEach(([field, value], i) => {
		names[`#f${i}`] = field;
		values[`:f${i}`] = value;
		sets.push(`#f${i} = :f${i}`);
	});
	return {
		Update: {
			TableName: ctx.db.tables.blood_units,
			Key: { id: unitId },
			UpdateExpression: `SET ${sets.join(', ')} REMOVE #ak`,
			ConditionExpression: 'attribute_exists(id) AND #s = :avail',
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: values
		}
	};
}

// ---- stock counters

export async function getStockItem(ctx: Ctx, key: string): Promise<StockItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.blood_stock, Key: { stock_key: key }, ConsistentRead: true }));
	return res.Item as StockItem | undefined;
}

/** The stored rows among `keys` (missing ones are simply absent), strongly consistent. */
export async function getStockItems(ctx: Ctx, keys: string[]): Promise<StockItem[]> {
	const out: StockItem[] = [];
	let pending: Record<string, unknown>[] = keys.map((k) => ({ stock_key: k }));
	for (let round = 0; pending.length && round < 10; round++) {
		const res = await ctx.db.doc.send(
			new BatchGetCommand({ RequestItems: { [ctx.db.tables.blood_stock]: { Keys: pending, ConsistentRead: true } } })
		);
		out.push(...((res.Responses?.[ctx.db.tables.blood_stock] ?? []) as StockItem[]));
		pending = (res.UnprocessedKeys?.[ctx.db.tables.blood_stock]?.Keys ?? []) as Record<string, unknown>[];
		if (pending.length) await new Promise((r) => setTimeout(r, 20 * (round + 1)));
	}
	return out;
}

/** Adds `by` to a counter, creating the row (version 1, the default threshold) on its first unit. */
export function stockIncrement(
	ctx: Ctx,
	row: { key: string; group: BloodGroup; component: BloodComponent; by: number; defaultThreshold: number },
	stamp: Stamp
) {
	return {
		Update: {
			TableName: ctx.db.tables.blood_stock,
			Key: { stock_key: row.key },
			UpdateExpression:
				'SET #a = if_not_exists(#a, :zero) + :by, #v = if_not_exists(#v, :zero) + :one, #t = if_not_exists(#t, :thr), ' +
				'#g = :g, #c = :c, #ca = if_not_exists(#ca, :now), #ua = :now, #ub = :ub, #ubn = :ubn',
			ExpressionAttributeNames: {
				'#a': 'available',
				'#v': 'version',
				'#t': 'threshold',
				'#g': 'blood_group',
				'#c': 'component',
				'#ca': 'created_at',
				'#ua': 'updated_at',
				'#ub': 'updated_by',
				'#ubn': 'updated_by_name'
			},
			ExpressionAttributeValues: {
				':zero': 0,
				':one': 1,
				':by': row.by,
				':thr': row.defaultThreshold,
				':g': row.group,
				':c': row.component,
				':now': stamp.updated_at,
				':ub': stamp.updated_by,
				':ubn': stamp.updated_by_name
			}
		}
	};
}

/** Takes `by` from a counter, only while at least `by` are available: the counter never goes below zero. */
export function stockDecrement(ctx: Ctx, key: string, by: number, stamp: Stamp) {
	return {
		Update: {
			TableName: ctx.db.tables.blood_stock,
			Key: { stock_key: key },
			UpdateExpression: 'SET #a = #a - :by, #v = #v + :one, #ua = :now, #ub = :ub, #ubn = :ubn',
			ConditionExpression: 'attribute_exists(stock_key) AND #a >= :by',
			ExpressionAttributeNames: { '#a': 'available', '#v': 'version', '#ua': 'updated_at', '#ub': 'updated_by', '#ubn': 'updated_by_name' },
			ExpressionAttributeValues: { ':by': by, ':one': 1, ':now': stamp.updated_at, ':ub': stamp.updated_by, ':ubn': stamp.updated_by_name },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const
		}
	};
}

/** A threshold row that does not exist yet (version 0 on the screen): created at version 1. */
export function stockCreatePut(ctx: Ctx, item: StockItem) {
	return {
		Put: {
			TableName: ctx.db.tables.blood_stock,
			Item: item,
			ConditionExpression: 'attribute_not_exists(stock_key)',
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const
		}
	};
}

/**
 * Flips the crossing state, only if the row is exactly as the caller saw it: `available`
 * unchanged, on the right side of the threshold, and not flipped already. Of two
 * concurrent callers at most one succeeds, so a crossing alerts once. Bookkeeping: the
 * version is not bumped (nobody edits the flag).
 */
export function stockAlertFlip(ctx: Ctx, key: string, to: boolean, seenAvailable: number, now: string) {
	return {
		Update: {
			TableName: ctx.db.tables.blood_stock,
			Key: { stock_key: key },
			UpdateExpression: to ? 'SET #al = :t, #at = :now' : 'SET #al = :f REMOVE #at',
			ConditionExpression: to
				? '(attribute_not_exists(#al) OR #al = :f) AND #a = :seen AND #a < #th'
				: '#al = :t AND #a = :seen AND #a >= #th',
			ExpressionAttributeNames: { '#al': 'alerted', '#a': 'available', '#th': 'threshold', '#at': 'alerted_at' },
			ExpressionAttributeValues: { ':t': true, ':f': false, ':seen': seenAvailable, ...(to ? { ':now': now } : {}) }
		}
	};
}

// ---- donors

export async function getDonor(ctx: Ctx, patientId: string): Promise<DonorItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.donors, Key: { id: patientId }, ConsistentRead: true }));
	return res.Item as DonorItem | undefined;
}

export function donorPut(ctx: Ctx, donor: DonorItem) {
	return { Put: { TableName: ctx.db.tables.donors, Item: donor, ConditionExpression: 'attribute_not_exists(id)' } };
}

/** Consenting donors of a group who last gave on or before `lastOnOrBefore` (or never). */
export async function eligibleDonors(ctx: Ctx, group: BloodGroup, lastOnOrBefore: string): Promise<DonorItem[]> {
	return queryAll<DonorItem>(ctx, {
		TableName: ctx.db.tables.donors,
		IndexName: 'group-donation-index',
		KeyConditionExpression: 'donor_group = :g AND last_donation_on <= :d',
		ExpressionAttributeValues: { ':g': group, ':d': lastOnOrBefore }
	});
}

/** Every consenting donor of a group (the admin's list). */
export async function donorsOfGroup(ctx: Ctx, group: BloodGroup): Promise<DonorItem[]> {
	return queryAll<DonorItem>(ctx, {
		TableName: ctx.db.tables.donors,
		IndexName: 'group-donation-index',
		KeyConditionExpression: 'donor_group = :g',
		ExpressionAttributeValues: { ':g': group }
	});
}

// ---- donation requests

export function donationRequestPut(ctx: Ctx, item: DonationRequestItem) {
	return { Put: { TableName: ctx.db.tables.donation_requests, Item: item, ConditionExpression: 'attribute_not_exists(id)' } };
}

export async function getDonationRequest(ctx: Ctx, id: string): Promise<DonationRequestItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.donation_requests, Key: { id }, ConsistentRead: true }));
	return res.Item as DonationRequestItem | undefined;
}

export async function openDonationRequests(ctx: Ctx, limit = 50): Promise<DonationRequestItem[]> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.donation_requests,
			IndexName: 'status-created-index',
			KeyConditionExpression: '#s = :open',
			ExpressionAttributeNames: { '#s': 'status' },
			ExpressionAttributeValues: { ':open': 'open' },
			ScanIndexForward: false,
			Limit: limit
		})
	);
	return (res.Items ?? []) as DonationRequestItem[];
}

export function donationRequestCount(ctx: Ctx, id: string, field: 'notified' | 'donations', by: number) {
	return {
		Update: {
			TableName: ctx.db.tables.donation_requests,
			Key: { id },
			UpdateExpression: 'SET #f = if_not_exists(#f, :zero) + :by',
			ConditionExpression: 'attribute_exists(id)',
			ExpressionAttributeNames: { '#f': field },
			ExpressionAttributeValues: { ':zero': 0, ':by': by }
		}
	};
}

/** Claims "this donor was asked for this request" once (a `locks` row), in the notice's transaction. */
/**
 * A donor is asked to give at most once a window, whichever request asks: the row is
 * claimed only if absent or past its time (`ttl`, epoch seconds; DynamoDB's TTL removes it later).
 */
export function donorAskedClaimPut(ctx: Ctx, donorId: string, nowSec: number, windowSec: number) {
	return {
		Put: {
			TableName: ctx.db.tables.locks,
			Item: { id: `donor-asked#${donorId}`, ttl: nowSec + windowSec },
			ConditionExpression: 'attribute_not_exists(id) OR #ttl <= :now',
			ExpressionAttributeNames: { '#ttl': 'ttl' },
			ExpressionAttributeValues: { ':now': nowSec }
		}
	};
}

export function donorNoticeClaimPut(ctx: Ctx, requestId: string, donorId: string, now: string) {
	return {
		Put: {
			TableName: ctx.db.tables.locks,
			Item: { id: `donation-notice#${requestId}#${donorId}`, created_at: now },
			ConditionExpression: 'attribute_not_exists(id)'
		}
	};
}
