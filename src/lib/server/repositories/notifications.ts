import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { applied } from '../db/conditional';
import { resumeQuery } from '../db/cursor';
import type { TransactItem } from '../db/transaction';

/** `notifications`: one partition per user, sorted by `created_at#id`. */
export type NotificationItem = {
	user_id: string;
	sort_key: string;
	id: string;
	kind: string;
	title: string;
	body: string;
	related_type?: string;
	related_id?: string;
	read: boolean;
	created_at: string;
};

/** The Put of a new notification, for the transaction of the change that caused it. */
export function notificationItemPut(ctx: Ctx, item: NotificationItem) {
	return { Put: { TableName: ctx.db.tables.notifications, Item: item } } satisfies TransactItem;
}

/** A page of a user's notifications, newest first (resumed from a client's start key). */
export async function notificationsPage(
	ctx: Ctx,
	userId: string,
	limit: number,
	startKey: Record<string, unknown> | undefined
): Promise<{ items: NotificationItem[]; lastKey: Record<string, unknown> | undefined }> {
	const res = await resumeQuery(startKey, () =>
		ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.notifications,
				KeyConditionExpression: 'user_id = :u',
				ExpressionAttributeValues: { ':u': userId },
				ScanIndexForward: false,
				Limit: limit,
				ExclusiveStartKey: startKey
			})
		)
	);
	return { items: (res.Items ?? []) as NotificationItem[], lastKey: res.LastEvaluatedKey };
}

export async function countUnread(ctx: Ctx, userId: string): Promise<number> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.notifications,
			KeyConditionExpression: 'user_id = :u',
			FilterExpression: '#r = :f',
			ExpressionAttributeNames: { '#r': 'read' },
			ExpressionAttributeValues: { ':u': userId, ':f': false },
			Select: 'COUNT'
		})
	);
	return res.Count ?? 0;
}

/** Marks one of the user's notifications read; false when there is no such notification. */
export async function markRead(ctx: Ctx, userId: string, sortKey: string): Promise<boolean> {
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.notifications,
				Key: { user_id: userId, sort_key: sortKey },
				UpdateExpression: 'SET #r = :t',
				ConditionExpression: 'attribute_exists(user_id)',
				ExpressionAttributeNames: { '#r': 'read' },
				ExpressionAttributeValues: { ':t': true }
			})
		)
	);
}
