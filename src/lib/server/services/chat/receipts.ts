import type { Ctx } from '../../context';
import type { Actor, Caller } from '../../actor';
import { AppError, badRequest, notFound } from '../../errors';
import { requireActor } from '../../auth/guard';
import { transactNamed, unexpectedFailure } from '../../db/transaction';
import { auditPut } from '../audit';
import { room } from '$lib/shared/rooms';
import { conversationCursorUpdate, countIncomingAfter, revOf, type ConversationItem } from '../../repositories/conversations';
import { getMessage } from '../../repositories/chat-messages';
import type { ChatReceiptEvent } from '$lib/shared/chat';
import { conversationFor } from './conversations';

/**
 * Delivery and read receipts are per-side cursors on the conversation (delivered up to, read
 * up to), so one write acknowledges many messages. Unread counts stay equal to the messages
 * from the other side placed after that side's read cursor: a read receipt sets the count it
 * counted, conditioned on the conversation's `rev` being the one it counted against (every
 * change bumps it), and counts again if it lost that race. Typing is relayed, never stored.
 */

/** Tries of a read receipt that lost a race. */
const ACK_ATTEMPTS = 10;

/**
 * Moves the caller's delivered or read cursor forward to `upTo` (never back), with its
 * audit entry, and tells the conversation's room. Reading also sets what is left unread:
 * counted against the conversation's rev and written only if the rev is still that, so a
 * message stored meanwhile is never overwritten; a lost race counts again (bounded).
 * Returns false when the cursor was already there or further.
 */
export async function acknowledge(
	ctx: Ctx,
	caller: Caller,
	conversationId: string,
	kind: 'delivered' | 'read',
	upTo: string
): Promise<boolean> {
	const actor = requireActor(caller);
	const found = await conversationFor(ctx, caller, conversationId);
	const side = found.side;
	let c = found.conversation;
	if (!(await getMessage(ctx, c.id, upTo))) {
		throw badRequest('There is no such message in this conversation.', [{ field: 'upTo', message: 'not a message of this conversation' }]);
	}
	const cursor = `${side}_${kind}_upto` as const;
	for (let attempt = 0; ; attempt++) {
		if ((c[cursor] ?? '') >= upTo) return false;
		const counted = kind === 'read' ? { unread: await countIncomingAfter(ctx, c.id, actor.id, upTo), rev: revOf(c) } : undefined;
		const at = new Date().toISOString();
		const outcome = await transactNamed(ctx, {
			cursor: conversationCursorUpdate(ctx, c.id, { side, kind, upTo, at, counted }),
			audit: auditPut(ctx, caller, { action: `chat_${kind}`, resourceType: 'conversation', resourceId: c.id, changedFields: [cursor] })
		});
		if (!outcome.ok) {
			if (outcome.failed !== 'cursor') throw unexpectedFailure(outcome);
			if (!outcome.current) throw notFound('This conversation');
			// Either the cursor is already there (checked at the top) or the rev moved on: count again.
			c = outcome.current as ConversationItem;
			if ((c[cursor] ?? '') < upTo) {
				if (attempt >= ACK_ATTEMPTS - 1) {
					throw new AppError(503, 'SERVICE_UNAVAILABLE', 'This conversation is busy right now; the read receipt was not saved. Try again.');
				}
				// Messages are arriving right now: let the burst pass, then count again.
				await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** attempt, 250) * (0.5 + Math.random())));
			}
			continue;
		}
		const event: ChatReceiptEvent = { conversationId: c.id, userId: actor.id, side, upTo, at };
		ctx.bus.emit(room.chat(c.id), kind === 'read' ? 'chat:read' : 'chat:delivered', event);
		if (counted && c.last_message_preview !== undefined) {
			// Exactly the row that was written: the one counted against, one rev on.
			ctx.bus.emit(room.user(actor.id), 'chat:conversation', {
				conversationId: c.id,
				lastMessageAt: c.last_message_at,
				lastMessagePreview: c.last_message_preview,
				unread: counted.unread,
				rev: counted.rev + 1
			});
		}
		return true;
	}
}

/** Typing indicators are ephemeral: relayed to the room, never stored. */
export function relayTyping(ctx: Ctx, actor: Actor, conversationId: string, typing: boolean): void {
	ctx.bus.emit(room.chat(conversationId), 'chat:typing', { conversationId, userId: actor.id, name: actor.name, typing });
}
