import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from '../db/transaction';
import type { VersionStamp } from '../db/versioned';
import { queryAll } from '../db/query';
import type { AlertResponse, AlertStatus, Needs, ResourceKind, Severity } from '$lib/shared/hospitals';

/**
 * Every DynamoDB call of hospitals and ambulance alerts, plain. A hospital's counters live on its
 * row (`resources.<kind>`), so a reservation is one conditional update of one item, written in
 * the alert's transaction; the rules (who, how many, hold-back) are in services/hospitals.ts and
 * services/ambulance.ts.
 */
export type CountersItem = {
	total: number;
	available: number;
	reserved: number;
	occupied: number;
	out_of_service: number;
	held_back: number;
};

export type HospitalItem = VersionStamp & {
	id: string;
	kind: 'hospital';
	name: string;
	name_lower: string;
	latitude: number;
	longitude: number;
	departments: string[];
	pandemic: { enabled: boolean; held_back_share: number };
	resources: Record<ResourceKind, CountersItem>;
	created_at: string;
};

export type AlertItem = VersionStamp & {
	id: string;
	status: AlertStatus;
	condition: string;
	severity: Severity;
	needs: Needs;
	latitude: number;
	longitude: number;
	radius_km: number;
	paramedic_id: string;
	paramedic_name: string;
	hospital_id?: string;
	hospital_ids: string[];
	responses: Record<string, AlertResponse>;
	created_at: string;
};

type Stamp = Omit<VersionStamp, 'version'>;

export function hospitalPut(ctx: Ctx, item: HospitalItem) {
	return {
		Put: { TableName: ctx.db.tables.hospitals, Item: item, ConditionExpression: 'attribute_not_exists(id)' }
	} satisfies TransactItem;
}

export async function getHospital(ctx: Ctx, id: string): Promise<HospitalItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.hospitals, Key: { id }, ConsistentRead: true }));
	return res.Item?.kind === 'hospital' ? (res.Item as HospitalItem) : undefined;
}

/** Every hospital by name (a deployment has a handful of sites). */
export async function listHospitals(ctx: Ctx): Promise<HospitalItem[]> {
	return queryAll<HospitalItem>(ctx, {
		TableName: ctx.db.tables.hospitals,
		IndexName: 'kind-name-index',
		KeyConditionExpression: 'kind = :k',
		ExpressionAttributeValues: { ':k': 'hospital' }
	});
}

type Bucket = 'available' | 'reserved' | 'occupied' | 'out_of_service';
type Move = { kind: ResourceKind; n: number; from: Bucket; to: Bucket; /** `from` must hold at least this (≥ n). */ atLeast: number; /** The hold-back must still be this. */ heldBack?: number };

/**
 * The one counter update of a hospital's row: each move takes `n` of a resource from one
 * bucket to another, only while `from` still holds `atLeast` (never below zero) and, where
 * given, the hold-back is still what was read; bumps the version, stamps who did it.
 */
function counterMove(ctx: Ctx, hospitalId: string, moves: Move[], stamp: Stamp) {
	const names: Record<string, string> = { '#r': 'resources', '#v': 'version', '#ua': 'updated_at', '#ub': 'updated_by', '#un': 'updated_by_name' };
	const values: Record<string, unknown> = { ':one': 1, ':ua': stamp.updated_at, ':ub': stamp.updated_by, ':un': stamp.updated_by_name };
	const sets = ['#v = #v + :one', '#ua = :ua', '#ub = :ub', '#un = :un'];
	const conds = ['attribute_exists(id)'];
	moves.forEach((m, i) => {
		const k = `#r.#k${i}`;
		names[`#k${i}`] = m.kind;
		names[`#${m.from}`] = m.from;
		names[`#${m.to}`] = m.to;
		values[`:n${i}`] = m.n;
		values[`:m${i}`] = m.atLeast;
		sets.push(`${k}.#${m.from} = ${k}.#${m.from} - :n${i}`, `${k}.#${m.to} = ${k}.#${m.to} + :n${i}`);
		conds.push(`${k}.#${m.from} >= :m${i}`);
		if (m.heldBack !== undefined) {
			names['#hb'] = 'held_back';
			values[`:h${i}`] = m.heldBack;
			conds.push(`${k}.#hb = :h${i}`);
		}
	});
	return {
		Update: {
			TableName: ctx.db.tables.hospitals,
			Key: { id: hospitalId },
			UpdateExpression: `SET ${sets.join(', ')}`,
			ConditionExpression: conds.join(' AND '),
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}

/**
 * Moves `needs` from available to reserved, only while each resource still has at least
 * `min[kind]` available and (for a case that may not use the hold-back) the hold-back is still
 * what was read. Bumps the version. Never below zero: `min` is at least the need.
 */
export function reserveUpdate(
	ctx: Ctx,
	hospitalId: string,
	needs: [ResourceKind, number][],
	min: Partial<Record<ResourceKind, number>>,
	heldBack: Partial<Record<ResourceKind, number>>,
	stamp: Stamp
) {
	const moves = needs.map(([kind, n]): Move => ({ kind, n, from: 'available', to: 'reserved', atLeast: min[kind] ?? n, heldBack: heldBack[kind] }));
	return counterMove(ctx, hospitalId, moves, stamp);
}

/** Moves `needs` out of reserved, into occupied (arrival) or back to available (cancellation), per kind; only while reserved holds them. */
export function releaseUpdate(
	ctx: Ctx,
	hospitalId: string,
	needs: [ResourceKind, number][],
	into: 'occupied' | 'available' | ((kind: ResourceKind) => 'occupied' | 'available'),
	stamp: Stamp
) {
	const moves = needs.map(([kind, n]): Move => ({ kind, n, from: 'reserved', to: typeof into === 'function' ? into(kind) : into, atLeast: n }));
	return counterMove(ctx, hospitalId, moves, stamp);
}

/**
 * One ventilator changes counter bucket (put in use, freed, sent to cleaning or maintenance…):
 * moves 1 from `from` to `to` only while `from` still holds one, so the counters never go
 * below zero and a device cannot be put in use when every counted one is reserved or taken.
 */
export function ventilatorCounterMove(ctx: Ctx, hospitalId: string, from: Exclude<Bucket, 'reserved'>, to: Exclude<Bucket, 'reserved'>, stamp: Stamp) {
	return counterMove(ctx, hospitalId, [{ kind: 'ventilators', n: 1, from, to, atLeast: 1 }], stamp);
}

/**
 * `n` newly registered ventilators join the counters (total and available), only while the
 * total is still what was read, so the pandemic hold-back computed from it stays right.
 */
export function ventilatorsAdded(ctx: Ctx, hospitalId: string, n: number, readTotal: number, heldBack: number, stamp: Stamp) {
	return {
		Update: {
			TableName: ctx.db.tables.hospitals,
			Key: { id: hospitalId },
			UpdateExpression:
				'SET #r.#k.#t = #r.#k.#t + :n, #r.#k.#a = #r.#k.#a + :n, #r.#k.#hb = :hb, #v = #v + :one, #ua = :ua, #ub = :ub, #un = :un',
			ConditionExpression: 'attribute_exists(id) AND #r.#k.#t = :read',
			ExpressionAttributeNames: { '#r': 'resources', '#k': 'ventilators', '#t': 'total', '#a': 'available', '#hb': 'held_back', '#v': 'version', '#ua': 'updated_at', '#ub': 'updated_by', '#un': 'updated_by_name' },
			ExpressionAttributeValues: { ':n': n, ':read': readTotal, ':hb': heldBack, ':one': 1, ':ua': stamp.updated_at, ':ub': stamp.updated_by, ':un': stamp.updated_by_name },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}

export function alertPut(ctx: Ctx, item: AlertItem) {
	return {
		Put: { TableName: ctx.db.tables.ambulance_alerts, Item: item, ConditionExpression: 'attribute_not_exists(id)' }
	} satisfies TransactItem;
}

export async function getAlert(ctx: Ctx, id: string): Promise<AlertItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.ambulance_alerts, Key: { id }, ConsistentRead: true }));
	return res.Item as AlertItem | undefined;
}

/** The alert moves from `from` to `to` (and takes the given fields), only if it is still `from`. Bumps its version. */
export function alertStatusUpdate(ctx: Ctx, id: string, from: AlertStatus, to: AlertStatus, set: Record<string, unknown>, stamp: Stamp) {
	const names: Record<string, string> = { '#s': 'status', '#v': 'version' };
	const values: Record<string, unknown> = { ':from': from, ':to': to, ':one': 1 };
	const sets = ['#s = :to', '#v = #v + :one'];
	Object.entries({ ...set, ...stamp }).forEach(([field, value], i) => {
		names[`#f${i}`] = field;
		values[`:f${i}`] = value;
		sets.push(`#f${i} = :f${i}`);
	});
	return {
		Update: {
			TableName: ctx.db.tables.ambulance_alerts,
			Key: { id },
			UpdateExpression: `SET ${sets.join(', ')}`,
			ConditionExpression: 'attribute_exists(id) AND #s = :from',
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}

/**
 * A hospital's answer to an open alert (accept / decline), kept per hospital; only the first
 * answer of a hospital counts (`attribute_not_exists`), so a second is refused with the stored one.
 */
export function alertResponseUpdate(ctx: Ctx, id: string, hospitalId: string, response: AlertResponse, stamp: Stamp) {
	return {
		Update: {
			TableName: ctx.db.tables.ambulance_alerts,
			Key: { id },
			UpdateExpression: 'SET #resp.#h = :r, #v = #v + :one, updated_at = :ua, updated_by = :ub, updated_by_name = :un',
			ConditionExpression: 'attribute_exists(id) AND #s = :open AND attribute_not_exists(#resp.#h)',
			ExpressionAttributeNames: { '#resp': 'responses', '#h': hospitalId, '#v': 'version', '#s': 'status' },
			ExpressionAttributeValues: { ':r': response, ':one': 1, ':open': 'open', ':ua': stamp.updated_at, ':ub': stamp.updated_by, ':un': stamp.updated_by_name },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}

/** A hospital that can now take the patient joins an open alert's candidates (once). Bumps its version. */
export function alertCandidateAdd(ctx: Ctx, id: string, hospitalId: string, stamp: Stamp) {
	return {
		Update: {
			TableName: ctx.db.tables.ambulance_alerts,
			Key: { id },
			UpdateExpression: 'SET #hs = list_append(#hs, :hl), #v = #v + :one, updated_at = :ua, updated_by = :ub, updated_by_name = :un',
			ConditionExpression: 'attribute_exists(id) AND #s = :open AND NOT contains(#hs, :h)',
			ExpressionAttributeNames: { '#hs': 'hospital_ids', '#v': 'version', '#s': 'status' },
			ExpressionAttributeValues: { ':hl': [hospitalId], ':h': hospitalId, ':one': 1, ':open': 'open', ':ua': stamp.updated_at, ':ub': stamp.updated_by, ':un': stamp.updated_by_name },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}

export async function alertsOfParamedic(ctx: Ctx, paramedicId: string): Promise<AlertItem[]> {
	return queryAll<AlertItem>(ctx, {
		TableName: ctx.db.tables.ambulance_alerts,
		IndexName: 'paramedic-created-index',
		KeyConditionExpression: 'paramedic_id = :p',
		ExpressionAttributeValues: { ':p': paramedicId },
		ScanIndexForward: false,
		Limit: 50
	});
}

/**
 * Alerts in one status, newest first: one Query of that status's partition of
 * `status-created-index` (open and en route alerts are few at any time; never a Scan).
 */
export async function alertsInStatus(ctx: Ctx, status: AlertStatus, limit = 100): Promise<AlertItem[]> {
	return queryAll<AlertItem>(ctx, {
		TableName: ctx.db.tables.ambulance_alerts,
		IndexName: 'status-created-index',
		KeyConditionExpression: '#s = :s',
		ExpressionAttributeNames: { '#s': 'status' },
		ExpressionAttributeValues: { ':s': status },
		ScanIndexForward: false,
		Limit: limit
	});
}
