import { OUTBOX_STATUSES, type OutboxEntryView, type OutboxStatus } from '$lib/shared/views';
import os from 'node:os';
import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { refuse, requireActor } from '../auth/guard';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { decodeCursor, encodeCursor, invalidCursor, resumeQuery } from '../db/cursor';
import { z } from 'zod';
import { auditPut } from './audit';
import { getUser } from '../repositories/users';
import type { UserItem } from '../repositories/users';
import { claimDue, dueRows, finishClaim, getOutboxRow, reviveDeadUpdate, rowsByStatus, type OutboxItem } from '../repositories/outbox';
import { snsPublisher, type Publisher } from '../sns';

/**
 * Outbox delivery: the worker's side of `services/outbox.ts`. A due row is claimed with a
 * conditional update that records the attempt (status `sending`, attempts + 1, who, a lease)
 * BEFORE anything is published, then published through SNS and marked `sent`. A failure
 * goes back to `pending` with an exponential backoff, and to `dead` after
 * OUTBOX_MAX_ATTEMPTS, where an admin can see it and retry it.
 *
 * Duplicates: a `sent` row is never claimed again, and two workers cannot claim the same
 * row at once. The one window left is a worker that dies after SNS accepted a message but
 * before it marked the row `sent`: once the lease expires the row is retried with the SAME
 * id. SNS standard topics and direct SMS do not deduplicate, so delivery is at-least-once,
 * bounded to that crash window. A FIFO topic (ARN ending in `.fifo`) gets the outbox id as
 * MessageDeduplicationId, and SNS drops such a repeat within its 5-minute window.
 *
 * Without SNS_TOPIC_ARN the transport is "outbox only": rows become `logged`, visible to
 * admins as what would have been sent. Nothing is dropped silently.
 */
export { OUTBOX_STATUSES, type OutboxStatus, type OutboxEntryView };

export const workerIdentity = () => `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;

export function backoffMs(ctx: Ctx, attempts: number): number {
	return Math.min(ctx.config.outbox.backoffMs * 2 ** Math.max(0, attempts - 1), 86_400_000);
}

/** An error as the outbox keeps it: its kind and HTTP status, never an address or a body. */
function describeError(err: unknown): string {
	const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
	const status = e.$metadata?.httpStatusCode;
	const message = (e.message ?? '').replace(/\+?\d[\d\s-]{5,}\d/g, '•••').replace(/\S+@\S+/g, '•••').slice(0, 160);
	return `${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}${message ? `: ${message}` : ''}`;
}

export type DeliveryReport = Record<'sent' | 'logged' | 'retrying' | 'dead' | 'skipped' | 'lost', number>;

/**
 * Delivers what is due: pending rows whose next attempt has come, and rows left `sending`
 * past their lease by a worker that died. Several workers may run this at once.
 */
export async function deliverDue(
	ctx: Ctx,
	opts: { now?: number; limit?: number; workerId?: string; signal?: AbortSignal; publisher?: Publisher | null; concurrency?: number } = {}
): Promise<DeliveryReport> {
	const now = opts.now ?? Date.now();
	const nowIso = new Date(now).toISOString();
	const limit = opts.limit ?? 500;
	const workerId = opts.workerId ?? workerIdentity();
	const publisher = opts.publisher === undefined ? snsPublisher(ctx) : opts.publisher;
	const report: DeliveryReport = { sent: 0, logged: 0, retrying: 0, dead: 0, skipped: 0, lost: 0 };
	const due = [
		...(await dueRows(ctx, 'pending', nowIso, limit)),
		...(await dueRows(ctx, 'sending', nowIso, limit))
	].slice(0, limit);
	const users = new Map<string, Promise<UserItem | undefined>>();
	const userOf = (id: string) => {
		if (!users.has(id)) users.set(id, getUser(ctx, id));
		return users.get(id)!;
	};

	const deliverOne = async (candidate: OutboxItem) => {
		const row = await claimDue(ctx, candidate.id, workerId, now, ctx.config.outbox.leaseMs);
		if (!row) return;
		const user = row.recipient ? undefined : await userOf(row.user_id);
		const to = row.recipient ?? (row.channel === 'sms' ? user?.phone : user?.email);
		let outcome: OutboxStatus;
		let set: Record<string, unknown>;
		if (row.channel === 'email' && user?.notify_email === false) {
			outcome = 'skipped';
			set = { last_error: 'The user turned e-mail notifications off.' };
		} else if (!to) {
			outcome = 'dead';
			set = { last_error: row.channel === 'sms' ? 'No phone number on file.' : 'No e-mail address on file.' };
		} else if (!publisher) {
			outcome = 'logged';
			set = { delivered_to: to, sent_at: new Date().toISOString() };
		} else {
			try {
				const res = await publisher({
					id: row.id,
					channel: row.channel,
					to,
					subject: row.subject,
					body: row.body,
					attributes: {
						kind: row.kind,
						channel: row.channel,
						user_id: row.user_id,
						...(row.channel === 'email' ? { email: to } : {}),
						outbox_id: row.id
					}
				});
				outcome = 'sent';
				set = { delivered_to: to, sent_at: new Date().toISOString(), ...(res.messageId ? { sns_message_id: res.messageId } : {}) };
			} catch (err) {
				const error = describeError(err);
				ctx.log.warn('outbox: publish failed', { outboxId: row.id, attempts: row.attempts, error: error.slice(0, 80) });
				if (row.attempts >= ctx.config.outbox.maxAttempts) {
					outcome = 'dead';
					set = { last_error: error, delivered_to: to };
				} else {
					outcome = 'pending';
					set = { last_error: error, delivered_to: to, next_attempt_at: new Date(now + backoffMs(ctx, row.attempts)).toISOString() };
				}
			}
		}
		if (!(await finishClaim(ctx, row, workerId, outcome, set))) {
			report.lost++;
			return;
		}
		if (outcome === 'pending') report.retrying++;
		else report[outcome as 'sent' | 'logged' | 'dead' | 'skipped']++;
	};

	const queue = [...due];
	const lanes = Array.from({ length: Math.min(opts.concurrency ?? 8, queue.length) }, async () => {
		while (queue.length && !opts.signal?.aborted) await deliverOne(queue.shift()!);
	});
	await Promise.all(lanes);
	return report;
}

// ---------------------------------------------------------------- administration

/** +15550001234 → +1•••••1234; jane@example.org → j•••@example.org. */
export function maskRecipient(channel: 'sms' | 'email', to: string | undefined): string | null {
	if (!to) return null;
	if (channel === 'sms') return `${to.slice(0, 2)}•••••${to.slice(-4)}`;
	const [local = '', domain = ''] = to.split('@');
	return `${local.slice(0, 1)}•••@${domain}`;
}

/** One-time links (password reset) stay out of the admin view: an admin must not be able to use them. */
const redactSecrets = (body: string) => body.replace(/([?&]token=)[^\s&]+/gi, '$1•••');

function entryView(r: OutboxItem): OutboxEntryView {
	return {
		id: r.id,
		kind: r.kind,
		channel: r.channel,
		recipient: maskRecipient(r.channel, r.delivered_to ?? r.recipient) ?? (r.recipient ? null : '(current contact of the user)'),
		userId: r.user_id,
		relatedId: r.related_id ?? null,
		status: r.status,
		attempts: r.attempts ?? 0,
		lastError: r.last_error ?? null,
		subject: r.subject ?? null,
		body: redactSecrets(r.body),
		createdAt: r.created_at,
		nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
		sentAt: r.sent_at ?? null
	};
}

async function assertAdmin(ctx: Ctx, caller: Caller, mode: 'read' | 'write', id?: string) {
	const actor = requireActor(caller);
	if (actor.role !== 'admin' && actor.role !== 'super_admin') {
		await refuse(ctx, caller, 'users', mode, id, 'The outbox is for administrators.');
	}
}

export async function listOutbox(
	ctx: Ctx,
	caller: Caller,
	q: { status?: OutboxStatus; cursor?: string; limit: number }
): Promise<{ items: OutboxEntryView[]; nextCursor: string | null }> {
	await assertAdmin(ctx, caller, 'read');
	const page = (status: OutboxStatus, startKey?: Record<string, unknown>) => rowsByStatus(ctx, status, q.limit, startKey);
	if (q.status) {
		const status = q.status;
		const scope = `outbox:${status}`;
		const c = q.cursor
			? decodeCursor(ctx.cursorKey, scope, q.cursor, z.object({ at: z.string().min(1), id: z.string().min(1) }).strict())
			: undefined;
		const startKey = c ? { status, created_at: c.at, id: c.id } : undefined;
		const res = await resumeQuery(startKey, () => page(status, startKey));
		const last = res.lastKey;
		return {
			items: res.items.map(entryView),
			nextCursor: last ? encodeCursor(ctx.cursorKey, scope, { at: last.created_at, id: last.id }) : null
		};
	}
	// Every status: the newest `limit` rows across them (filter by status to page further).
	if (q.cursor) throw invalidCursor('the outbox pages only within one status; add status=');
	const all = (await Promise.all(OUTBOX_STATUSES.map((s) => page(s)))).flatMap((r) => r.items);
	all.sort((a, b) => b.created_at.localeCompare(a.created_at));
	return { items: all.slice(0, q.limit).map(entryView), nextCursor: null };
}

/** Gives a dead message a fresh set of attempts; audited. */
export async function retryOutbox(ctx: Ctx, caller: Caller, id: string): Promise<OutboxEntryView> {
	await assertAdmin(ctx, caller, 'write', id);
	const actor = requireActor(caller);
	const now = new Date().toISOString();
	const outcome = await transactNamed(ctx, {
		row: reviveDeadUpdate(ctx, id, actor.id, now),
		audit: auditPut(ctx, caller, { action: 'outbox_retry', resourceType: 'outbox', resourceId: id, changedFields: ['status', 'attempts'] })
	});
	if (!outcome.ok) {
		if (outcome.failed !== 'row') throw unexpectedFailure(outcome);
		if (!outcome.current) throw notFound('This message');
		const status = typeof outcome.current.status === 'string' ? outcome.current.status : 'unknown';
		throw new AppError(409, 'INVALID_TRANSITION', `Only dead messages can be retried; this one is ${status}.`, { currentStatus: status });
	}
	return entryView((await getOutboxRow(ctx, id))!);
}
