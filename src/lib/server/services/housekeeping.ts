import type { Ctx } from '../context';
import { deleteIfExpired, expiredPage, type ExpiringTable } from '../repositories/expiry';

/**
 * Daily housekeeping: expired sessions, reset tokens and lock rows (throttles, message
 * claims, rate windows, past days' queue sequences). DynamoDB's TTL removes them too, but up to 48 hours late, and
 * DynamoDB Local not at all. Found by query on sparse indexes (`kind-expiry-index`,
 * `kind-ttl-index`), never by Scan; each delete is conditioned on the row still being
 * expired, so a session renewed meanwhile survives.
 */
const SESSION_KINDS = ['session', 'password_reset'];
const LOCK_KINDS = ['login_fail', 'chat_rate', 'chat_notify', 'chat_message', 'queue_seq'];

async function sweep(
	ctx: Ctx,
	table: ExpiringTable,
	index: string,
	kind: string,
	attr: string,
	before: number,
	signal: AbortSignal | undefined
): Promise<number> {
	let removed = 0;
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await expiredPage(ctx, { table, index, kind, attr, before, startKey });
		for (const id of page.ids) {
			if (signal?.aborted) return removed;
			if (await deleteIfExpired(ctx, table, id, attr, before)) removed++;
		}
		startKey = page.lastKey;
	} while (startKey && !signal?.aborted);
	return removed;
}

export async function removeExpired(
	ctx: Ctx,
	opts: { now?: number; signal?: AbortSignal } = {}
): Promise<{ sessions: number; locks: number }> {
	const now = opts.now ?? Date.now();
	let sessions = 0;
	let locks = 0;
	for (const kind of SESSION_KINDS) sessions += await sweep(ctx, 'sessions', 'kind-expiry-index', kind, 'expires_at', now, opts.signal);
	for (const kind of LOCK_KINDS) locks += await sweep(ctx, 'locks', 'kind-ttl-index', kind, 'ttl', Math.floor(now / 1000), opts.signal);
	return { sessions, locks };
}
