import crypto from 'node:crypto';
import type { Ctx } from '../context';

/**
 * Every outbound SMS or e-mail is first an `outbox` row, written in the same transaction
 * as the change that caused it; a worker delivers it later with retries. Nothing is sent
 * from a request path, so nothing is lost when SNS is slow or absent.
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
	};
}
