import crypto from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { applied, ifConditionHolds } from '../db/conditional';
import type { TransactItem } from '../db/transaction';
import type { OutboxStatus } from '$lib/shared/views';

/**
 * `outbox` rows: written in the transaction of the change that caused them (`outboxPut`),
 * then claimed, published and finished by a worker (`services/delivery.ts`). The
 * `status-index` (status, created_at) finds what is due and lists rows per status.
 */
export type OutboxMessage = {
	kind: string;
	channel: 'sms' | 'email';
	/** Phone or address; omitted, the worker reads the user's current one at delivery. */
	recipient?: string;
	userId: string;
	relatedId?: string;
	subject?: string;
	body: string;
};

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

/** A new pending row, due at once. */
export function outboxPut(ctx: Ctx, msg: OutboxMessage) {
	const now = new Date().toISOString();
	return {
		Put: {
			TableName: ctx.db.tables.outbox,
			Item: {
				id: crypto.randomUUID(),
				kind: msg.kind,
				channel: msg.channel,
				recipient: msg.recipient,
				user_id: msg.userId,
				related_id: msg.relatedId,
				subject: msg.subject,
				body: msg.body,
				status: 'pending',
				attempts: 0,
				created_at: now,
				next_attempt_at: now
			}
		}
	} satisfies TransactItem;
}

export async function getOutboxRow(ctx: Ctx, id: string): Promise<OutboxItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.outbox, Key: { id }, ConsistentRead: true }));
	return res.Item as OutboxItem | undefined;
}

/** Rows of `status` due by `nowIso` (pending: next attempt; sending: lease ended), at most `limit`. */
export async function dueRows(ctx: Ctx, status: 'pending' | 'sending', nowIso: string, limit: number): Promise<OutboxItem[]> {
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

/** One page of the rows of `status`, newest first. */
export async function rowsByStatus(
	ctx: Ctx,
	status: OutboxStatus,
	limit: number,
	startKey?: Record<string, unknown>
): Promise<{ items: OutboxItem[]; lastKey: Record<string, unknown> | undefined }> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.outbox,
			IndexName: 'status-index',
			KeyConditionExpression: '#s = :s',
			ExpressionAttributeNames: { '#s': 'status' },
			ExpressionAttributeValues: { ':s': status },
			ScanIndexForward: false,
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as OutboxItem[], lastKey: res.LastEvaluatedKey };
}

/**
 * Claims a due row for `workerId`, recording the attempt (status `sending`, attempts + 1, a
 * lease until `now + leaseMs`): the row as claimed, or undefined if it is not due (another
 * worker got it, or it was sent).
 */
export async function claimDue(ctx: Ctx, id: string, workerId: string, now: number, leaseMs: number): Promise<OutboxItem | undefined> {
	const nowIso = new Date(now).toISOString();
	const res = await ifConditionHolds(
		ctx.db.doc.send(
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
					':lease': new Date(now + leaseMs).toISOString()
				},
				ReturnValues: 'ALL_NEW'
			})
		)
	);
	return res?.Attributes as OutboxItem | undefined;
}

/**
 * Ends `workerId`'s attempt on a row it claimed: the new status and fields, lease removed.
 * False (and no change) when the claim is no longer its own (the lease lapsed and another
 * worker took the row).
 */
export async function finishClaim(
	ctx: Ctx,
	row: Pick<OutboxItem, 'id' | 'attempts'>,
	workerId: string,
	status: OutboxStatus,
	set: Record<string, unknown>
): Promise<boolean> {
	const names: Record<string, string> = { '#s': 'status' };
	const values: Record<string, unknown> = { ':to': status, ':sending': 'sending', ':me': workerId, ':n': row.attempts };
	const sets = ['#s = :to'];
	Object.entries(set).forEach(([k, v], i) => {
		names[`#f${i}`] = k;
		values[`:f${i}`] = v;
		sets.push(`#f${i} = :f${i}`);
	});
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.outbox,
				Key: { id: row.id },
				UpdateExpression: `SET ${sets.join(', ')} REMOVE lease_until`,
				ConditionExpression: '#s = :sending AND claimed_by = :me AND attempts = :n',
				ExpressionAttributeNames: names,
				ExpressionAttributeValues: values
			})
		)
	);
}

/** A dead row back to pending with a fresh set of attempts (for a transaction with its audit entry). */
export function reviveDeadUpdate(ctx: Ctx, id: string, by: string, now: string) {
	return {
		Update: {
			TableName: ctx.db.tables.outbox,
			Key: { id },
			UpdateExpression:
				'SET #s = :pending, attempts = :zero, next_attempt_at = :now, retried_at = :now, retried_by = :by ADD retries :one REMOVE lease_until, claimed_by',
			ConditionExpression: '#s = :dead',
			ExpressionAttributeNames: { '#s': 'status' },
			ExpressionAttributeValues: { ':pending': 'pending', ':dead': 'dead', ':zero': 0, ':one': 1, ':now': now, ':by': by },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}
