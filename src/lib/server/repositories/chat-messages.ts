import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from '../db/transaction';
import type { ChatSide } from '$lib/shared/chat';

/**
 * Chat messages (`chat_messages`: partition per conversation, sorted by `created_at#id`)
 * and the claim rows in `locks` that make a client's message id store once
 * (`chat-msg#<sender>#<clientId>`, naming where the message went).
 */
export type ChatMessageItem = {
	conversation_id: string;
	sort_key: string;
	id: string;
	sender_user_id: string;
	sender_role: ChatSide;
	sender_name: string;
	text: string;
	created_at: string;
};

export type MessageClaim = { conversation_id: string; sort_key: string };

export async function getMessage(ctx: Ctx, conversationId: string, sortKey: string): Promise<ChatMessageItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({
			TableName: ctx.db.tables.chat_messages,
			Key: { conversation_id: conversationId, sort_key: sortKey },
			ConsistentRead: true
		})
	);
	return res.Item as ChatMessageItem | undefined;
}

/** Up to `limit` messages of a conversation, newest first, placed before `before` when given. */
export async function messagesBefore(ctx: Ctx, conversationId: string, before: string | undefined, limit: number): Promise<ChatMessageItem[]> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.chat_messages,
			KeyConditionExpression: before ? 'conversation_id = :c AND sort_key < :b' : 'conversation_id = :c',
			ExpressionAttributeValues: before ? { ':c': conversationId, ':b': before } : { ':c': conversationId },
			ScanIndexForward: false,
			Limit: limit,
			ConsistentRead: true
		})
	);
	return (res.Items ?? []) as ChatMessageItem[];
}

/** The Put of a message at its place, refused if the place is taken. */
export function messagePut(ctx: Ctx, item: ChatMessageItem) {
	return {
		Put: {
			TableName: ctx.db.tables.chat_messages,
			Item: item,
			ConditionExpression: 'attribute_not_exists(sort_key)'
		}
	} satisfies TransactItem;
}

const messageClaimId = (senderUserId: string, clientId: string) => `chat-msg#${senderUserId}#${clientId}`;

export async function getMessageClaim(ctx: Ctx, senderUserId: string, clientId: string): Promise<MessageClaim | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.locks, Key: { id: messageClaimId(senderUserId, clientId) }, ConsistentRead: true })
	);
	return res.Item as MessageClaim | undefined;
}

/** The claim of a client's message id, refused if the sender already used it; expires at `ttl` (seconds). */
export function messageClaimPut(ctx: Ctx, senderUserId: string, clientId: string, claim: MessageClaim & { ttl: number }) {
	return {
		Put: {
			TableName: ctx.db.tables.locks,
			Item: {
				id: messageClaimId(senderUserId, clientId),
				kind: 'chat_message',
				conversation_id: claim.conversation_id,
				sort_key: claim.sort_key,
				ttl: claim.ttl
			},
			ConditionExpression: 'attribute_not_exists(id)'
		}
	} satisfies TransactItem;
}
