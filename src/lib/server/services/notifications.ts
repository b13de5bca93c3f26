import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { requireActor } from '../auth/guard';
import { decodeCursor, encodeCursor, startKeySchema } from '../db/cursor';
import { countUnread, markRead, notificationItemPut, notificationsPage } from '../repositories/notifications';
import { room } from '$lib/shared/rooms';
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
		item: notificationItemPut(ctx, {
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
		})
	};
}

export function announce(ctx: Ctx, userId: string, event: NotificationEvent): void {
	ctx.bus.emit(room.user(userId), 'notification:new', event);
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
	const page = await notificationsPage(ctx, actor.id, q.limit, startKey);
	const unread = await countUnread(ctx, actor.id);
	return {
		items: page.items.map((n) => ({
			id: n.id,
			kind: n.kind,
			title: n.title,
			body: n.body,
			relatedType: n.related_type,
			relatedId: n.related_id,
			createdAt: n.created_at,
			read: n.read,
			sortKey: n.sort_key
		})),
		unread,
		nextCursor: page.lastKey ? encodeCursor(ctx.cursorKey, scope, page.lastKey) : null
	};
}

export async function markNotificationRead(ctx: Ctx, caller: Caller, sortKey: string): Promise<void> {
	const actor = requireActor(caller);
	// Marking a notification that is not there (another user's, or gone) changes nothing.
	await markRead(ctx, actor.id, sortKey);
}
