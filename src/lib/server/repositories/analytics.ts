import { BatchGetCommand, BatchWriteCommand, GetCommand, ScanCommand, type BatchWriteCommandOutput, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from '../db/transaction';
import type { AppointmentItem } from './appointments';
import { categorize } from '$lib/shared/symptom-categories';
import { addDays, isoWeekday } from '$lib/shared/time';

/**
 * `analytics_daily`: the dashboards' daily aggregates, and the one module that builds them.
 * Every write that moves a figure adds this module's items to its own transaction, so a
 * figure can never disagree with the appointments it counts; a dashboard reads only the rows
 * of the days it shows (BatchGet), never the appointments.
 *
 * Rows: `pk` = `<scope>#<shard>`, `sk` = the visit date (YYYY-MM-DD, hospital zone) or `total`.
 * Scopes: `all` (the hospital) and `doctor#<doctorId>`. Counters are numbers changed with ADD:
 *   total, s_<STATUS> (appointments on that visit date by their status now), c_<category>
 *   (symptom categories, `all` only), consult_ms / consult_n (completed visits with a
 *   consultation start), revenue_cents (`all`: invoices raised by completion, on the visit
 *   date), first_week (doctor: patients served for the first time in that ISO week, counted
 *   on the visit's date), and on `total` rows patients_served (distinct, all time) and the
 *   all-time consult_ms / consult_n.
 * Every figure is counted on the appointment's visit date (`date`), whatever the day of the
 * write: a move takes its counts from the old date to the new one.
 *
 * Shards: concurrent bookings of one day would all update one row and cancel each other
 * (TransactionConflict); each write picks one of SHARDS rows at random and readers add them up.
 *
 * Guards (`pk` = `served#<doctorId>` or `served#<doctorId>#<weekMonday>`, `sk` = patient id):
 * written once, conditionally, in the completion's transaction, so "patients served" counts a
 * patient once per doctor (all time) and once per doctor and week.
 */
export const ANALYTICS_SHARDS = 4;
export const TOTAL_SK = 'total';

export type Counters = Record<string, number>;
/** A change of some counters of one (scope, date) row. */
export type Delta = { scope: string; sk: string; counters: Counters };

export const scopeAll = 'all';
export const scopeDoctor = (doctorId: string) => `doctor#${doctorId}`;
export const statusCounter = (status: string) => `s_${status}`;
export const categoryCounter = (category: string) => `c_${category}`;

/** The Monday of the ISO week a date falls in. */
export const weekMonday = (date: string) => addDays(date, 1 - isoWeekday(date));

type Counted = Pick<AppointmentItem, 'date' | 'status' | 'symptoms' | 'doctor_id' | 'consultation_started_at' | 'completed_at'>;

/** Consultation length of a completed visit, in ms (undefined without both times). */
export function consultationMs(a: Pick<AppointmentItem, 'status' | 'consultation_started_at' | 'completed_at'>): number | undefined {
	if (a.status !== 'COMPLETED' || !a.consultation_started_at || !a.completed_at) return undefined;
	const ms = Date.parse(a.completed_at) - Date.parse(a.consultation_started_at);
	return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** What one appointment, as it is, adds to the aggregates (the rebuild sums these; a write applies after − before). */
export function contribution(a: Counted): Delta[] {
	const day: Counters = { total: 1, [statusCounter(a.status)]: 1 };
	const ms = consultationMs(a);
	const consult: Counters = ms === undefined ? {} : { consult_ms: ms, consult_n: 1 };
	const cats = Object.fromEntries(categorize(a.symptoms ?? '').map((c) => [categoryCounter(c), 1]));
	const out: Delta[] = [
		{ scope: scopeAll, sk: a.date, counters: { ...day, ...cats, ...consult } },
		{ scope: scopeDoctor(a.doctor_id), sk: a.date, counters: { ...day, ...consult } }
	];
	if (ms !== undefined) out.push({ scope: scopeDoctor(a.doctor_id), sk: TOTAL_SK, counters: consult });
	return out;
}

/** Revenue of an invoice, on its visit date. */
export const revenueDelta = (date: string, cents: number): Delta => ({ scope: scopeAll, sk: date, counters: { revenue_cents: cents } });

/** Deltas added up by row, zeros dropped. */
export function mergeDeltas(deltas: Delta[]): Delta[] {
	const byKey = new Map<string, Delta>();
	for (const d of deltas) {
		const key = `${d.scope}\u0000${d.sk}`;
		const into = byKey.get(key) ?? { scope: d.scope, sk: d.sk, counters: {} };
		for (const [k, v] of Object.entries(d.counters)) into.counters[k] = (into.counters[k] ?? 0) + v;
		byKey.set(key, into);
	}
	return [...byKey.values()]
		.map((d) => ({ ...d, counters: Object.fromEntries(Object.entries(d.counters).filter(([, v]) => v !== 0)) }))
		.filter((d) => Object.keys(d.counters).length > 0);
}

const negate = (ds: Delta[]): Delta[] => ds.map((d) => ({ ...d, counters: Object.fromEntries(Object.entries(d.counters).map(([k, v]) => [k, -v])) }));

/** The counter changes of an appointment going from `before` (undefined: new) to `after`, plus any others. */
export function appointmentDeltas(before: Counted | undefined, after: Counted | undefined, more: Delta[] = []): Delta[] {
	return mergeDeltas([...(before ? negate(contribution(before)) : []), ...(after ? contribution(after) : []), ...more]);
}

/** One ADD update per row, on one shard chosen for this write. */
export function deltaUpdates(ctx: Ctx, deltas: Delta[], shard = Math.floor(Math.random() * ANALYTICS_SHARDS)): TransactItem[] {
	return mergeDeltas(deltas).map((d) => {
		const names: Record<string, string> = {};
		const values: Record<string, number> = {};
		const adds = Object.entries(d.counters).map(([k, v], i) => {
			names[`#c${i}`] = k;
			values[`:c${i}`] = v;
			return `#c${i} :c${i}`;
		});
		return {
			Update: {
				TableName: ctx.db.tables.analytics_daily,
				Key: { pk: `${d.scope}#${shard}`, sk: d.sk },
				UpdateExpression: `ADD ${adds.join(', ')}`,
				ExpressionAttributeNames: names,
				ExpressionAttributeValues: values
			}
		};
	});
}

/** The aggregate items of an appointment write, for the write's own transaction (empty when no figure moves). */
export const appointmentAggregates = (ctx: Ctx, before: Counted | undefined, after: Counted | undefined, more: Delta[] = []): TransactItem[] =>
	deltaUpdates(ctx, appointmentDeltas(before, after, more));

// ——— Patients served (distinct), by guard rows ———

export const servedGuardKey = (doctorId: string, patientId: string, week?: string) => ({
	pk: week ? `served#${doctorId}#${week}` : `served#${doctorId}`,
	sk: patientId
});

/**
 * For a completion: the guard Puts of a patient not yet served by this doctor (ever / this
 * week), and the counters they add. Read first (strongly), then written with
 * `attribute_not_exists`, so a concurrent completion of the same pair fails its transaction
 * rather than counting the patient twice.
 */
export async function servedGuards(ctx: Ctx, doctorId: string, patientId: string, date: string): Promise<{ items: Record<string, TransactItem>; deltas: Delta[] }> {
	const keys = { servedEver: servedGuardKey(doctorId, patientId), servedWeek: servedGuardKey(doctorId, patientId, weekMonday(date)) };
	const got = await Promise.all(
		Object.values(keys).map((Key) => ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.analytics_daily, Key, ConsistentRead: true })))
	);
	const items: Record<string, TransactItem> = {};
	const deltas: Delta[] = [];
	const put = (Key: { pk: string; sk: string }): TransactItem => ({
		Put: { TableName: ctx.db.tables.analytics_daily, Item: { ...Key, kind: 'served_guard', at: date }, ConditionExpression: 'attribute_not_exists(pk)' }
	});
	if (!got[0]!.Item) {
		items.servedEver = put(keys.servedEver);
		deltas.push({ scope: scopeDoctor(doctorId), sk: TOTAL_SK, counters: { patients_served: 1 } });
	}
	if (!got[1]!.Item) {
		items.servedWeek = put(keys.servedWeek);
		deltas.push({ scope: scopeDoctor(doctorId), sk: date, counters: { first_week: 1 } });
	}
	return { items, deltas };
}

// ——— Reading ———

/** The rows of `scope` on these sort keys, shards added up (missing rows: no counters). One BatchGet per 100 keys. */
export async function readAggregates(ctx: Ctx, scope: string, sks: string[]): Promise<Map<string, Counters>> {
	const keys = sks.flatMap((sk) => Array.from({ length: ANALYTICS_SHARDS }, (_, s) => ({ pk: `${scope}#${s}`, sk })));
	const out = new Map<string, Counters>(sks.map((sk) => [sk, {}]));
	const table = ctx.db.tables.analytics_daily;
	for (let i = 0; i < keys.length; i += 100) {
		let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
		while (pending && pending.length) {
			const res = await ctx.db.doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }));
			for (const row of res.Responses?.[table] ?? []) {
				const into = out.get(row.sk as string)!;
				for (const [k, v] of Object.entries(row)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
			}
			pending = res.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
		}
	}
	return out;
}

// ——— Maintenance (the rebuild job only: never on a request path) ———

/**
 * Every item of a table, page by page (a Scan: for the offline rebuild alone). Pages of 500
 * items, so each request stays well inside the database deadline even on a busy database with
 * 100,000 appointments (a 1 MB page did not: bench:search-analytics).
 */
export async function scanTable<T>(ctx: Ctx, table: 'appointments' | 'invoices' | 'analytics_daily', input: Omit<ScanCommandInput, 'TableName'> = {}): Promise<T[]> {
	const out: T[] = [];
	let start: Record<string, unknown> | undefined;
	do {
		const res = await ctx.db.doc.send(new ScanCommand({ TableName: ctx.db.tables[table], ExclusiveStartKey: start, Limit: 500, ...input }));
		out.push(...((res.Items ?? []) as T[]));
		start = res.LastEvaluatedKey;
	} while (start);
	return out;
}

/** Puts and deletes on `analytics_daily`, 25 per request, unprocessed ones retried. */
export async function writeAnalyticsRows(ctx: Ctx, puts: Record<string, unknown>[], deletes: { pk: string; sk: string }[]): Promise<void> {
	const table = ctx.db.tables.analytics_daily;
	const requests = [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
	for (let i = 0; i < requests.length; i += 25) {
		let batch: unknown[] | undefined = requests.slice(i, i + 25);
		for (let attempt = 0; batch && batch.length; attempt++) {
			if (attempt) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
			const res: BatchWriteCommandOutput = await ctx.db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: batch as never } }));
			batch = res.UnprocessedItems?.[table];
		}
	}
}
