import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { resumeQuery } from '../db/cursor';
import type { TransactItem } from '../db/transaction';
import type { ChatSide } from '$lib/shared/chat';

/**
 * Conversation rows (`conversations`) and the counts read from their messages
 * (`chat_messages`). Every change to a conversation adds 1 to its `rev`: a count written
 * from a read is conditioned on the rev it was counted against, so a message stored
 * meanwhile is never overwritten, and events carry the rev so a browser keeps the newest.
 */
export type ConversationItem = {
	id: string;
	patient_id: string;
	patient_user_id: string;
	patient_name: string;
	doctor_id: string;
	doctor_user_id: string;
	doctor_name: string;
	created_at: string;
	/** The index sort key: creation time until the first message. */
	last_message_at: string;
	last_message_preview?: string;
	last_sender_id?: string;
	unread_patient: number;
	unread_doctor: number;
	patient_read_upto?: string;
	doctor_read_upto?: string;
	patient_delivered_upto?: string;
	doctor_delivered_upto?: string;
	/** +1 on every change; absent on rows written before it existed (read as 0). */
	rev?: number;
};

export const revOf = (c: Pick<ConversationItem, 'rev'>) => Number(c.rev ?? 0);

export async function getConversation(ctx: Ctx, id: string): Promise<ConversationItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.conversations, Key: { id }, ConsistentRead: true })
	);
	return res.Item as ConversationItem | undefined;
}

/**
 * A page of one side's conversations, most recent message first (`<side>-user-index`),
 * resumed after `after` (a position inside that user's own partition).
 */
export async function conversationsOfUser(
	ctx: Ctx,
	side: ChatSide,
	userId: string,
	limit: number,
	after: { last_message_at: string; id: string } | undefined
): Promise<{ items: ConversationItem[]; lastKey: Record<string, unknown> | undefined }> {
	const userKey = `${side}_user_id`;
	const startKey = after ? { [userKey]: userId, last_message_at: after.last_message_at, id: after.id } : undefined;
	const res = await resumeQuery(startKey, () =>
		ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.conversations,
				IndexName: `${side}-user-index`,
				KeyConditionExpression: '#u = :u',
				ExpressionAttributeNames: { '#u': userKey },
				ExpressionAttributeValues: { ':u': userId },
				ScanIndexForward: false,
				Limit: limit,
				ExclusiveStartKey: startKey
			})
		)
	);
	return { items: (res.Items ?? []) as ConversationItem[], lastKey: res.LastEvaluatedKey };
}

/** Creates the pair's conversation once (a second opener's put fails its condition). */
export function conversationCreatePut(ctx: Ctx, item: ConversationItem): TransactItem {
	return {
		Put: {
			TableName: ctx.db.tables.conversations,
			Item: item,
			ConditionExpression: 'attribute_not_exists(id)'
		}
	};
}

/**
 * A message stored (in the same transaction): the preview, one more unread for the
 * recipient, rev + 1. Only while the recipient has not read past this message's place; a
 * message whose place is already behind their read cursor would never be unread, so the
 * condition fails and the sender stores it at a fresh place instead.
 */
export function conversationMessageUpdate(
	ctx: Ctx,
	conversationId: string,
	m: { to: ChatSide; sortKey: string; createdAt: string; preview: string; senderUserId: string }
): TransactItem {
	return {
		Update: {
			TableName: ctx.db.tables.conversations,
			Key: { id: conversationId },
			UpdateExpression: 'SET last_message_at = :t, last_message_preview = :p, last_sender_id = :s ADD #unread :one, #rev :one',
			ConditionExpression: 'attribute_exists(id) AND (attribute_not_exists(#read) OR #read < :k)',
			ExpressionAttributeNames: { '#unread': `unread_${m.to}`, '#rev': 'rev', '#read': `${m.to}_read_upto` },
			ExpressionAttributeValues: { ':t': m.createdAt, ':p': m.preview, ':s': m.senderUserId, ':one': 1, ':k': m.sortKey }
		}
	};
}

/**
 * Moves one side's delivered or read cursor forward to `upTo` (never back), rev + 1. For a
 * read, also sets that side's unread count to `unread`, which was counted against `rev`:
 * conditioned on the rev still being that, so a message stored since fails it (and the
 * caller counts again). Fetches the row as it was when the condition failed.
 */
export function conversationCursorUpdate(
	ctx: Ctx,
	conversationId: string,
	c: { side: ChatSide; kind: 'delivered' | 'read'; upTo: string; at: string; counted?: { unread: number; rev: number } }
): TransactItem {
	const names: Record<string, string> = { '#c': `${c.side}_${c.kind}_upto`, '#at': `${c.side}_${c.kind}_at`, '#rev': 'rev' };
	const values: Record<string, unknown> = { ':u': c.upTo, ':now': c.at, ':one': 1 };
	let set = '#c = :u, #at = :now';
	let condition = 'attribute_exists(id) AND (attribute_not_exists(#c) OR #c < :u)';
	if (c.counted) {
		names['#unread'] = `unread_${c.side}`;
		values[':n'] = c.counted.unread;
		set += ', #unread = :n';
		if (c.counted.rev === 0) condition += ' AND attribute_not_exists(#rev)';
		else {
			values[':rev'] = c.counted.rev;
			condition += ' AND #rev = :rev';
		}
	}
	return {
		Update: {
			TableName: ctx.db.tables.conversations,
			Key: { id: conversationId },
			UpdateExpression: `SET ${set} ADD #rev :one`,
			ConditionExpression: condition,
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	};
}

/** Messages not sent by `readerUserId` placed after `upTo`: what is unread once the reader reached it. */
export async function countIncomingAfter(ctx: Ctx, conversationId: string, readerUserId: string, upTo: string): Promise<number> {
	let n = 0;
	let startKey: Record<string, unknown> | undefined;
	do {
		const res = await ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.chat_messages,
				KeyConditionExpression: 'conversation_id = :c AND sort_key > :u',
				FilterExpression: 'sender_user_id <> :me',
				ExpressionAttributeValues: { ':c': conversationId, ':u': upTo, ':me': readerUserId },
				Select: 'COUNT',
				ConsistentRead: true,
				ExclusiveStartKey: startKey
			})
		);
		n += res.Count ?? 0;
		startKey = res.LastEvaluatedKey;
	} while (startKey);
	return n;
}
