import { OUTBOX_STATUSES, type OutboxEntryView, type OutboxStatus } from '$lib/shared/views';
import os from 'node:os';
import crypto from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { refuse, requireActor } from '../auth/guard';
import { transact } from '../db/versioned';
import { decodeCursor, encodeCursor, invalidCursor, resumeQuery } from '../db/cursor';
import { z } from 'zod';
import { auditPut } from './audit';
import { getUser } from '../repositories/users';
import type { UserItem } from '../repositories/users';

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

export type OutboxItem = {
	id: string;
	kind: string;
	channel: 'sms' | 'email';
	recipient?: string;
	user_id: string;
	related_id?: string;
	subject?: string;
	body: string;
	status: OutboxStatus;
	attempts: number;
	created_at: string;
	next_attempt_at: string;
	claimed_by?: string;
	lease_until?: string;
	last_attempt_at?: string;
	last_error?: string;
	/** The address used at the last attempt (the user's current one when the row named none). */
	delivered_to?: string;
	sent_at?: string;
	sns_message_id?: string;
	retries?: number;
};

/** What publishes one message; SNS in production, a local SNS-compatible endpoint in tests. */
export type Publisher = (input: {
	id: string;
	channel: 'sms' | 'email';
	to: string;
	subject?: string;
	body: string;
	attributes: Record<string, string>;
}) => Promise<{ messageId: string | undefined }>;

export const workerIdentity = () => `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;

const publishers = new WeakMap<Ctx, Publisher | null>();

/** The SNS publisher of this context, or null for the "outbox only" transport. */
export function snsPublisher(ctx: Ctx): Publisher | null {
	const cached = publishers.get(ctx);
	if (cached !== undefined) return cached;
	const { topicArn, endpoint, region } = ctx.config.sns;
	let publisher: Publisher | null = null;
	if (topicArn) {
		const client = new SNSClient({
			region,
			endpoint,
			// The outbox retries with its own backoff and dead-letter state; SDK retries would hide failures.
			maxAttempts: 1,
			...(endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {})
		});
		const fifo = topicArn.endsWith('.fifo');
		const attr = (v: string): MessageAttributeValue => ({ DataType: 'String', StringValue: v });
		publisher = async (m) => {
			const res = await client.send(
				m.channel === 'sms'
					? new PublishCommand({
							PhoneNumber: m.to,
							Message: m.body,
							MessageAttributes: { 'AWS.SNS.SMS.SMSType': attr('Transactional') }
						})
					: new PublishCommand({
							TopicArn: topicArn,
							Subject: (m.subject ?? 'MedTrack').slice(0, 100),
							Message: m.body,
							// Subscription filter policies route on these (e.g. { "channel": ["email"] }).
							MessageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, attr(v)])),
							...(fifo ? { MessageDeduplicationId: m.id, MessageGroupId: m.attributes.user_id ?? 'medtrack' } : {})
						})
			);
			return { messageId: res.MessageId };
		};
	}
	publishers.set(ctx, publisher);
	return publisher;
}

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

async function queryDue(ctx: Ctx, status: 'pending' | 'sending', nowIso: string, limit: number): Promise<OutboxItem[]> {
	const out: OutboxItem[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const res = await ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.outbox,
				IndexName: 'status-index',
				KeyConditionExpression: '#s = :s',
				FilterExpression: status === 'pending' ? 'next_attempt_at <= :now' : 'lease_until <= :now',
				ExpressionAttributeNames: { '#s': 'status' },
				ExpressionAttributeValues: { ':s': status, ':now': nowIso },
				ExclusiveStartKey: startKey
			})
		);
		out.push(...((res.Items ?? []) as OutboxItem[]));
		startKey = res.LastEvaluatedKey;
	} while (startKey && out.length < limit);
	return out.slice(0, limit);
}

/** Claims a due row for this worker, recording the attempt; undefined if another got it. */
async function claim(ctx: Ctx, id: string, workerId: string, now: number): Promise<OutboxItem | undefined> {
	const nowIso = new Date(now).toISOString();
	try {
		const res = await ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.outbox,
				Key: { id },
				UpdateExpression:
					'SET #s = :sending, attempts = if_not_exists(attempts, :zero) + :one, claimed_by = :me, lease_until = :lease, last_attempt_at = :now',
				ConditionExpression: '(#s = :pending AND next_attempt_at <= :now) OR (#s = :sending AND lease_until <= :now)',
				ExpressionAttributeNames: { '#s': 'status' },
				ExpressionAttributeValues: {
					':sending': 'sending',
					':pending': 'pending',
					':zero': 0,
					':one': 1,
					':me': workerId,
					':now': nowIso,
					':lease': new Date(now + ctx.config.outbox.leaseMs).toISOString()
				},
				ReturnValues: 'ALL_NEW'
			})
		);
		return res.Attributes as OutboxItem;
	} catch (err) {
		if ((err as Error).name === 'ConditionalCheckFailedException') return undefined;
		throw err;
	}
}

/** Ends this worker's attempt; a no-op if the lease was lost and another worker owns the row now. */
async function finish(
	ctx: Ctx,
	row: OutboxItem,
	workerId: string,
	status: OutboxStatus,
	set: Record<string, unknown> = {}
): Promise<boolean> {
	const names: Record<string, string> = { '#s': 'status' };
	const values: Record<string, unknown> = { ':to': status, ':sending': 'sending', ':me': workerId, ':n': row.attempts };
	const sets = ['#s = :to'];
	Object.entries(set).forEach(([k, v], i) => {
		names[`#f${i}`] = k;
		values[`:f${i}`] = v;
		sets.push(`#f${i} = :f${i}`);
	});
	try {
		await ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.outbox,
				Key: { id: row.id },
				UpdateExpression: `SET ${sets.join(', ')} REMOVE lease_until`,
				ConditionExpression: '#s = :sending AND claimed_by = :me AND attempts = :n',
				ExpressionAttributeNames: names,
				ExpressionAttributeValues: values
			})
		);
		return true;
	} catch (err) {
		if ((err as Error).name === 'ConditionalCheckFailedException') return false;
		throw err;
	}
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
		...(await queryDue(ctx, 'pending', nowIso, limit)),
		...(await queryDue(ctx, 'sending', nowIso, limit))
	].slice(0, limit);
	const users = new Map<string, Promise<UserItem | undefined>>();
	const userOf = (id: string) => {
		if (!users.has(id)) users.set(id, getUser(ctx, id));
		return users.get(id)!;
	};

	const deliverOne = async (candidate: OutboxItem) => {
		const row = await claim(ctx, candidate.id, workerId, now);
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
		if (!(await finish(ctx, row, workerId, outcome, set))) {
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
	const page = async (status: OutboxStatus, startKey?: Record<string, unknown>) =>
		ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.outbox,
				IndexName: 'status-index',
				KeyConditionExpression: '#s = :s',
				ExpressionAttributeNames: { '#s': 'status' },
				ExpressionAttributeValues: { ':s': status },
				ScanIndexForward: false,
				Limit: q.limit,
				ExclusiveStartKey: startKey
			})
		);
	if (q.status) {
		const status = q.status;
		const scope = `outbox:${status}`;
		const c = q.cursor
			? decodeCursor(ctx.cursorKey, scope, q.cursor, z.object({ at: z.string().min(1), id: z.string().min(1) }).strict())
			: undefined;
		const startKey = c ? { status, created_at: c.at, id: c.id } : undefined;
		const res = await resumeQuery(startKey, () => page(status, startKey));
		const last = res.LastEvaluatedKey;
		return {
			items: ((res.Items ?? []) as OutboxItem[]).map(entryView),
			nextCursor: last ? encodeCursor(ctx.cursorKey, scope, { at: last.created_at, id: last.id }) : null
		};
	}
	// Every status: the newest `limit` rows across them (filter by status to page further).
	if (q.cursor) throw invalidCursor('the outbox pages only within one status; add status=');
	const all = (await Promise.all(OUTBOX_STATUSES.map((s) => page(s)))).flatMap((r) => (r.Items ?? []) as OutboxItem[]);
	all.sort((a, b) => b.created_at.localeCompare(a.created_at));
	return { items: all.slice(0, q.limit).map(entryView), nextCursor: null };
}

/** Gives a dead message a fresh set of attempts; audited. */
export async function retryOutbox(ctx: Ctx, caller: Caller, id: string): Promise<OutboxEntryView> {
	await assertAdmin(ctx, caller, 'write', id);
	const actor = requireActor(caller);
	const now = new Date().toISOString();
	await transact(
		ctx,
		[
			{
				Update: {
					TableName: ctx.db.tables.outbox,
					Key: { id },
					UpdateExpression:
						'SET #s = :pending, attempts = :zero, next_attempt_at = :now, retried_at = :now, retried_by = :by ADD retries :one REMOVE lease_until, claimed_by',
					ConditionExpression: '#s = :dead',
					ExpressionAttributeNames: { '#s': 'status' },
					ExpressionAttributeValues: { ':pending': 'pending', ':dead': 'dead', ':zero': 0, ':one': 1, ':now': now, ':by': actor.id },
					ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
				}
			},
			auditPut(ctx, caller, { action: 'outbox_retry', resourceType: 'outbox', resourceId: id, changedFields: ['status', 'attempts'] })
		],
		(reasons) => {
			const first = reasons[0];
			if (first?.Code !== 'ConditionalCheckFailed') return undefined;
			if (!first.Item) return notFound('This message');
			const status = first.Item.status?.S ?? 'unknown';
			return new AppError(409, 'INVALID_TRANSITION', `Only dead messages can be retried; this one is ${status}.`, { currentStatus: status });
		}
	);
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.outbox, Key: { id }, ConsistentRead: true }));
	return entryView(res.Item as OutboxItem);
}
