import { z } from 'zod';
import type { Ctx } from '../../context';
import type { Caller } from '../../actor';
import { AppError } from '../../errors';
import { requireActor } from '../../auth/guard';
import { transactNamed, unexpectedFailure } from '../../db/transaction';
import { decodeCursor, encodeCursor } from '../../db/cursor';
import { auditPut } from '../audit';
import { room } from '$lib/shared/rooms';
import { conversationMessageUpdate, getConversation, type ConversationItem } from '../../repositories/conversations';
import { getMessage, getMessageClaim, messageClaimPut, messagePut, messagesBefore, type ChatMessageItem } from '../../repositories/chat-messages';
import { CHAT_PAGE_SIZE, chatSortKey, type ChatMessageView, type ChatSide } from '$lib/shared/chat';
import { conversationEvent, conversationFor, otherSide } from './conversations';
import { assertSendAllowed, recipientNotice } from './throttle';

/**
 * Messages. A message's id is the client's `clientId`: a claim row in `locks` makes a
 * retried send store it once. Its place (`sort_key`) is the time it is stored; a send adds
 * one unread for the recipient only while the recipient has not read past that place (else
 * it is stored again at a fresh place). Every send carries its audit entry (never the text)
 * in the same transaction.
 */
export type { ChatMessageItem };

const PREVIEW_CHARS = 140;
export const preview = (text: string) => {
	const chars = [...text];
	return chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…` : text;
};

const CLAIM_TTL_S = 30 * 86_400;
/** Tries of a send whose place the recipient read past. */
const SEND_ATTEMPTS = 5;

/** A message's receipt state, read from the recipient side's cursors. */
export function messageView(m: ChatMessageItem, c: Pick<ConversationItem, `${ChatSide}_${'read' | 'delivered'}_upto`>): ChatMessageView {
	const to = otherSide(m.sender_role);
	const read = c[`${to}_read_upto`];
	const delivered = c[`${to}_delivered_upto`];
	const status = read && read >= m.sort_key ? 'read' : (delivered && delivered >= m.sort_key) ? 'delivered' : 'sent';
	return {
		id: m.id,
		conversationId: m.conversation_id,
		sortKey: m.sort_key,
		senderId: m.sender_user_id,
		senderRole: m.sender_role,
		senderName: m.sender_name,
		text: m.text,
		createdAt: m.created_at,
		status
	};
}

export async function listMessages(
	ctx: Ctx,
	caller: Caller,
	conversationId: string,
	q: { cursor?: string; limit?: number }
): Promise<{ messages: ChatMessageView[]; nextCursor: string | null }> {
	const { conversation } = await conversationFor(ctx, caller, conversationId);
	const limit = q.limit ?? CHAT_PAGE_SIZE;
	const before = q.cursor
		? decodeCursor(ctx.cursorKey, `messages:${conversationId}`, q.cursor, z.object({ before: chatSortKey }).strict()).before
		: undefined;
	// One more than a page tells whether an older page exists without an empty last page.
	const items = await messagesBefore(ctx, conversationId, before, limit + 1);
	const page = items.slice(0, limit);
	const more = items.length > limit;
	return {
		messages: page.map((m) => messageView(m, conversation)),
		nextCursor: more && page.length ? encodeCursor(ctx.cursorKey, `messages:${conversationId}`, { before: page[page.length - 1]!.sort_key }) : null
	};
}

/** The message a clientId already stored, if any (a retry after a lost acknowledgement). */
async function alreadySent(ctx: Ctx, senderUserId: string, clientId: string, conversationId: string) {
	const claim = await getMessageClaim(ctx, senderUserId, clientId);
	if (!claim) return undefined;
	if (claim.conversation_id !== conversationId) {
		throw new AppError(409, 'ALREADY_EXISTS', 'This clientId was already used for a message in another conversation; generate a new one.', {
			field: 'clientId'
		});
	}
	return getMessage(ctx, conversationId, claim.sort_key);
}

async function freshCursors(ctx: Ctx, c: ConversationItem): Promise<ConversationItem> {
	return (await getConversation(ctx, c.id)) ?? c;
}

export async function sendMessage(
	ctx: Ctx,
	caller: Caller,
	conversationId: string,
	input: { clientId: string; text: string }
): Promise<{ message: ChatMessageView; created: boolean }> {
	const actor = requireActor(caller);
	const clientId = input.clientId.toLowerCase();
	// Independent reads side by side: a message costs few round trips.
	const [{ conversation: c, side }, earlier] = await Promise.all([
		conversationFor(ctx, caller, conversationId, 'write'),
		alreadySent(ctx, actor.id, clientId, conversationId)
	]);
	if (earlier) return { message: messageView(earlier, await freshCursors(ctx, c)), created: false };
	const to = otherSide(side);
	const recipientUserId = to === 'patient' ? c.patient_user_id : c.doctor_user_id;
	// Not looking at this conversation: an in-app notification. Not connected at all: also SMS/e-mail.
	const [, recipientOnline, recipientViewing] = await Promise.all([
		assertSendAllowed(ctx, actor.id),
		ctx.bus.online(room.user(recipientUserId)),
		ctx.bus.online(room.chat(c.id), recipientUserId)
	]);

	let withOutbox = !recipientOnline;
	let message: ChatMessageItem | undefined;
	for (let attempt = 0; !message; attempt++) {
		// The message's place is the time it is stored; a retry below takes a fresh one.
		const createdAt = new Date().toISOString();
		const candidate: ChatMessageItem = {
			conversation_id: c.id,
			sort_key: `${createdAt}#${clientId}`,
			id: clientId,
			sender_user_id: actor.id,
			sender_role: side,
			sender_name: actor.name,
			text: input.text,
			created_at: createdAt
		};
		const notice = recipientViewing ? undefined : await recipientNotice(ctx, c, recipientUserId, actor.name, preview(input.text), withOutbox);
		const outcome = await transactNamed(ctx, {
			// a retry is recognised for 30 days; housekeeping drops the claim after that
			claim: messageClaimPut(ctx, actor.id, clientId, { conversation_id: c.id, sort_key: candidate.sort_key, ttl: Math.ceil(Date.now() / 1000) + CLAIM_TTL_S }),
			message: messagePut(ctx, candidate),
			conversation: conversationMessageUpdate(ctx, c.id, { to, sortKey: candidate.sort_key, createdAt, preview: preview(input.text), senderUserId: actor.id }),
			audit: auditPut(ctx, caller, { action: 'send_message', resourceType: 'conversation', resourceId: c.id, changedFields: ['message'] }),
			...notice?.items
		});
		if (!outcome.ok) {
			if (outcome.failed === 'throttle' && withOutbox) {
				// Another message claimed this quarter hour's SMS a moment ago: send without one.
				withOutbox = false;
				continue;
			}
			if (outcome.failed === 'conversation' && attempt < SEND_ATTEMPTS - 1) {
				// The recipient read past this place while it was being stored (a message written
				// after it was): it would count as read unseen. Store it at a fresh place.
				await new Promise((r) => setTimeout(r, 1 + attempt * 5));
				continue;
			}
			if (outcome.failed === 'claim') {
				// The same clientId arrived twice at once; the first one stored it.
				const stored = await alreadySent(ctx, actor.id, clientId, c.id);
				if (!stored) throw new AppError(409, 'ALREADY_EXISTS', 'This message is being stored; retry in a moment.');
				return { message: messageView(stored, await freshCursors(ctx, c)), created: false };
			}
			if (outcome.failed === 'conversation') throw new AppError(503, 'SERVICE_UNAVAILABLE', 'This conversation is busy right now; your message was not sent. Try again.');
			throw unexpectedFailure(outcome);
		}
		notice?.announce();
		message = candidate;
	}

	const view = messageView(message, c);
	ctx.bus.emit(room.chat(c.id), 'chat:message', view);
	// Both sides' lists, with the counts as stored now (other sends and reads may have landed
	// too) and the rev they belong to; after the response, like every broadcast.
	void getConversation(ctx, c.id)
		.then((now) => {
			if (!now) return;
			ctx.bus.emit(room.user(recipientUserId), 'chat:conversation', conversationEvent(now, to));
			ctx.bus.emit(room.user(actor.id), 'chat:conversation', conversationEvent(now, side));
		})
		.catch((err: Error) => ctx.log.warn('chat: conversation counts not broadcast', { error: err.name, conversationId: c.id }));
	return { message: view, created: true };
}
