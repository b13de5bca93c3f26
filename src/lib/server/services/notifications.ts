import crypto from 'node:crypto';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { requireActor } from '../auth/guard';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { rooms } from '../realtime/bus';
import type { NotificationEvent } from '$lib/shared/realtime';

/**
 * The in-app notification centre. A notification row is written in the transaction of the
 * change that caused it (`notificationPut`), then announced live (`announce`) after commit.
 */
export type NotificationInput = {
	kind: string;
	title: string;
	body: string;
	relatedType?: string;
	relatedId?: string;
};

export function notificationPut(ctx: Ctx, userId: string, n: NotificationInput) {
	const createdAt = new Date().toISOString();
	const id = crypto.randomUUID();
	const sortKey = `${createdAt}#${id}`;
	const event: NotificationEvent = { id, createdAt, sortKey, ...n };
	return {
		event,
		item: {
			Put: {
				TableName: ctx.db.tables.notifications,
				Item: {
					user_id: userId,
					sort_key: sortKey,
					id,
					kind: n.kind,
					title: n.title,
					body: n.body,
					related_type: n.relatedType,
					related_id: n.relatedId,
					read: false,
					created_at: createdAt
				}
			}
		}
	};
}

export function announce(ctx: Ctx, userId: string, event: NotificationEvent): void {
	ctx.bus.emit(rooms.user(userId), 'notification:new', event);
}

export type NotificationView = NotificationEvent & { read: boolean; sortKey: string };

export async function listNotifications(
	ctx: Ctx,
	caller: Caller,
	q: { cursor?: string; limit: number }
): Promise<{ items: NotificationView[]; unread: number; nextCursor: string | null }> {
	const actor = requireActor(caller);
	const scope = `notifications:${actor.id}`;
	const startKey = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, startKeySchema) : undefined;
	const res = await resumeQuery(startKey, () =>
		ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.notifications,
				KeyConditionExpression: 'user_id = :u',
				ExpressionAttributeValues: { ':u': actor.id },
				ScanIndexForward: false,
				Limit: q.limit,
				ExclusiveStartKey: startKey
			})
		)
	);
	const unread = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.notifications,
			KeyConditionExpression: 'user_id = :u',
			FilterExpression: '#r = :f',
			ExpressionAttributeNames: { '#r': 'read' },
			ExpressionAttributeValues: { ':u': actor.id, ':f': false },
			Select: 'COUNT'
		})
	);
	return {
		items: (res.Items ?? []).map((n) => ({
			id: n.id as string,
			kind: n.kind as string,
			title: n.title as string,
			body: n.body as string,
			relatedType: n.related_type as string | undefined,
			relatedId: n.related_id as string | undefined,
			createdAt: n.created_at as string,
			read: n.read as boolean,
			sortKey: n.sort_key as string
		})),
		unread: unread.Count ?? 0,
		nextCursor: res.LastEvaluatedKey ? encodeCursor(ctx.cursorKey, scope, res.LastEvaluatedKey) : null
	};
}

export async function markNotificationRead(ctx: Ctx, caller: Caller, sortKey: string): Promise<void> {
	const actor = requireActor(caller);
	await ctx.db.doc
		.send(
			new UpdateCommand({
				TableName: ctx.db.tables.notifications,
				Key: { user_id: actor.id, sort_key: sortKey },
				UpdateExpression: 'SET #r = :t',
				ConditionExpression: 'attribute_exists(user_id)',
				ExpressionAttributeNames: { '#r': 'read' },
				ExpressionAttributeValues: { ':t': true }
			})
		)
		.catch((err: Error) => {
			if (err.name !== 'ConditionalCheckFailedException') throw err;
		});
}
