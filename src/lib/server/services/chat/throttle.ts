import type { Ctx } from '../../context';
import { AppError } from '../../errors';
import type { TransactItem } from '../../db/transaction';
import { announce, notificationPut } from '../notifications';
import { outboxPut } from '../outbox';
import { getUser } from '../../repositories/users';
import { increment } from '../../repositories/counters';
import { throttleClaimUpdate, throttledUntil } from '../../repositories/throttles';
import type { ConversationItem } from '../../repositories/conversations';

/**
 * Chat's limits: how fast a sender may send (a fixed window per sender, shared by every
 * instance through a counter in `locks`), and how often an offline recipient is texted or
 * e-mailed about a conversation (a throttle row claimed in the message's transaction). The
 * decisions are pure functions; the rows live in repositories/counters.ts and throttles.ts.
 */

/** The fixed window `now` falls in: its number, its counter's expiry (seconds) and when it ends. */
export function rateWindow(now: number, windowMs: number): { window: number; ttl: number; endsAt: number } {
	const window = Math.floor(now / windowMs);
	return { window, ttl: Math.ceil(((window + 2) * windowMs) / 1000), endsAt: (window + 1) * windowMs };
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Whether the `count`-th send of a window is allowed, and if not, how long until the next window (at least 1 s). */
export function rateDecision(count: number, limit: number, now: number, windowMs: number): RateDecision {
	if (count <= limit) return { allowed: true };
	return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((rateWindow(now, windowMs).endsAt - now) / 1000)) };
}

/** Per-sender fixed window in `locks`, shared by every instance: CHAT_RATE_LIMIT per CHAT_RATE_WINDOW_SECONDS. */
export async function assertSendAllowed(ctx: Ctx, userId: string): Promise<void> {
	const { rateLimit, rateWindowMs } = ctx.config.chat;
	const now = Date.now();
	const { window, ttl } = rateWindow(now, rateWindowMs);
	const count = await increment(ctx, `rate#chat#${userId}#${window}`, ttl, 'chat_rate');
	const decision = rateDecision(count, rateLimit, now, rateWindowMs);
	if (!decision.allowed) {
		const retryAfterS = decision.retryAfterSeconds;
		throw new AppError(
			429,
			'TOO_MANY_REQUESTS',
			`You are sending messages too fast (at most ${rateLimit} every ${Math.round(rateWindowMs / 1000)} seconds). Try again in ${retryAfterS} s.`,
			{ retryAfterSeconds: retryAfterS },
			{ 'Retry-After': String(retryAfterS) }
		);
	}
}

/** An SMS/e-mail about a conversation goes out only when nobody claimed one less than the throttle ago. */
export const notifyByOutbox = (throttledUntilMs: number, now: number): boolean => throttledUntilMs <= now;

const notifyThrottleId = (conversationId: string, userId: string) => `chat-notify#${conversationId}#${userId}`;

export type RecipientNotice = {
	/** The transaction's items: the in-app notification, and with an SMS/e-mail its throttle claim and outbox row. */
	items: { notice: TransactItem; throttle?: TransactItem; outbox?: TransactItem };
	announce(): void;
};

/**
 * What an offline recipient gets: an in-app notification for every message, and an
 * SMS/e-mail at most once per conversation per CHAT_NOTIFY_THROTTLE_MINUTES, claimed by a
 * conditional write on a throttle row in the same transaction as the message (its failure
 * is the transaction's `throttle` item). The SMS names the sender only; the text stays
 * inside MedTrack.
 */
export async function recipientNotice(
	ctx: Ctx,
	c: ConversationItem,
	recipientUserId: string,
	senderName: string,
	previewText: string,
	withOutbox: boolean
): Promise<RecipientNotice> {
	const notice = notificationPut(ctx, recipientUserId, {
		kind: 'chat_message',
		title: `New message from ${senderName}`,
		body: previewText,
		relatedType: 'conversation',
		relatedId: c.id
	});
	const out: RecipientNotice = { items: { notice: notice.item }, announce: () => announce(ctx, recipientUserId, notice.event) };
	if (!withOutbox) return out;
	const now = Date.now();
	const throttleId = notifyThrottleId(c.id, recipientUserId);
	const [until, recipient] = await Promise.all([throttledUntil(ctx, throttleId), getUser(ctx, recipientUserId)]);
	if (!notifyByOutbox(until, now) || !recipient) return out;
	const channel = recipient.phone ? 'sms' : 'email';
	out.items.throttle = throttleClaimUpdate(ctx, throttleId, { until: now + ctx.config.chat.notifyThrottleMs, now, kind: 'chat_notify' });
	out.items.outbox = outboxPut(ctx, {
		kind: 'chat_message',
		channel,
		userId: recipientUserId,
		relatedId: c.id,
		subject: `New message from ${senderName}`,
		body: `MedTrack: ${senderName} sent you a message. Open MedTrack to read it.`
	});
	return out;
}
