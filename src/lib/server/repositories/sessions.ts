import {
	BatchWriteCommand,
	DeleteCommand,
	GetCommand,
	PutCommand,
	UpdateCommand
} from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { queryAll } from '../db/query';
import { applied } from '../db/conditional';

/** A row of `sessions`: a login session or a one-time password-reset token, by token hash. */
export type SessionItem = {
	id: string;
	kind: 'session' | 'password_reset';
	user_id: string;
	created_at: string;
	/** Idle expiry (ms since epoch), pushed forward on use. */
	expires_at: number;
	/** Absolute expiry (ms since epoch); never moves. */
	absolute_expires_at: number;
	renewed_at: number;
	/** DynamoDB TTL, seconds since epoch. */
	ttl: number;
};

/** The Put of a new row (session or reset token), refused if its id exists, for a transaction. */
export function sessionCreatePut(ctx: Ctx, item: SessionItem) {
	return { Put: { TableName: ctx.db.tables.sessions, Item: item, ConditionExpression: 'attribute_not_exists(id)' } };
}

export async function putSession(ctx: Ctx, item: SessionItem): Promise<void> {
	await ctx.db.doc.send(
		new PutCommand({
			TableName: ctx.db.tables.sessions,
			Item: item,
			ConditionExpression: 'attribute_not_exists(id)'
		})
	);
}

export async function getSession(ctx: Ctx, id: string): Promise<SessionItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.sessions, Key: { id }, ConsistentRead: true })
	);
	return res.Item as SessionItem | undefined;
}

/** Slides the session's expiry; false when the session is gone (logged out meanwhile). */
export async function touchSession(ctx: Ctx, id: string, expiresAt: number, now: number): Promise<boolean> {
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.sessions,
				Key: { id },
				UpdateExpression: 'SET expires_at = :e, renewed_at = :n, #ttl = :t',
				ConditionExpression: 'attribute_exists(id)',
				ExpressionAttributeNames: { '#ttl': 'ttl' },
				ExpressionAttributeValues: { ':e': expiresAt, ':n': now, ':t': Math.ceil(expiresAt / 1000) }
			})
		)
	);
}

export async function deleteSession(ctx: Ctx, id: string): Promise<void> {
	await ctx.db.doc.send(new DeleteCommand({ TableName: ctx.db.tables.sessions, Key: { id } }));
}

/** Delete item for a transaction; fails the transaction if the token was already used. */
export function consumeSessionDelete(ctx: Ctx, id: string) {
	return {
		Delete: {
			TableName: ctx.db.tables.sessions,
			Key: { id },
			ConditionExpression: 'attribute_exists(id)'
		}
	};
}

export async function listUserSessionIds(ctx: Ctx, userId: string): Promise<string[]> {
	const rows = await queryAll<{ id: string }>(ctx, {
		TableName: ctx.db.tables.sessions,
		IndexName: 'user-index',
		KeyConditionExpression: 'user_id = :u',
		ExpressionAttributeValues: { ':u': userId },
		ProjectionExpression: 'id'
	});
	return rows.map((r) => r.id);
}

export async function deleteSessions(ctx: Ctx, ids: string[]): Promise<void> {
	for (let i = 0; i < ids.length; i += 25) {
		await ctx.db.doc.send(
			new BatchWriteCommand({
				RequestItems: {
					[ctx.db.tables.sessions]: ids
						.slice(i, i + 25)
						.map((id) => ({ DeleteRequest: { Key: { id } } }))
				}
			})
		);
	}
}
