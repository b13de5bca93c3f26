import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { Ctx } from '../../context';
import type { Caller } from '../../actor';
import { fromZod } from '../../errors';
import { ackFailure } from '../ack';
import * as chat from '../../services/chat';
import { socketChatMessage, socketChatReceipt, socketChatTyping, type ChatAck } from '$lib/shared/chat';
import type { ClientToServerEvents, ServerToClientEvents } from '$lib/shared/realtime';
import type { SocketData } from '../index';

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Typing relays per socket: at most one "typing" per conversation per second, and 10 events a second in all. */
const TYPING_MIN_GAP_MS = 1_000;
const TYPING_BURST = 10;

const failure = (err: unknown, ctx: Ctx, socket: ChatSocket): ChatAck<never> => ackFailure(err, ctx.log, `chat ${socket.id}`);

function parse<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
	const r = schema.safeParse(payload);
	if (!r.success) throw fromZod(r.error, 'payload');
	return r.data;
}

/**
 * `chat:message`, `chat:delivered`, `chat:read` and `chat:typing` from a connected socket.
 * Each goes through the same service call as its REST twin (access, audit, rate limit), and
 * every payload through zod. Acks answer `{ ok: true, data }` or `{ ok: false, error }`.
 */
export function registerChatHandlers(ctx: Ctx, socket: ChatSocket, caller: () => Caller): void {
	/** Conversations this socket was allowed into, so typing does not cost a read each time. */
	const verified = new Set<string>();
	const lastTyping = new Map<string, number>();
	let burst = { second: 0, count: 0 };

	socket.on('chat:message', async (payload, ack) => {
		const reply = typeof ack === 'function' ? ack : () => {};
		try {
			const p = parse(socketChatMessage, payload);
			const out = await chat.sendMessage(ctx, caller(), p.conversationId, { clientId: p.clientId, text: p.text });
			verified.add(p.conversationId);
			reply({ ok: true, data: out.message });
		} catch (err) {
			reply(failure(err, ctx, socket));
		}
	});

	for (const kind of ['delivered', 'read'] as const) {
		socket.on(`chat:${kind}`, async (payload, ack) => {
			const reply = typeof ack === 'function' ? ack : () => {};
			try {
				const p = parse(socketChatReceipt, payload);
				await chat.acknowledge(ctx, caller(), p.conversationId, kind, p.upTo);
				reply({ ok: true, data: null });
			} catch (err) {
				reply(failure(err, ctx, socket));
			}
		});
	}

	socket.on('chat:typing', async (payload) => {
		const p = socketChatTyping.safeParse(payload);
		const actor = socket.data.actor;
		if (!p.success || !actor) return;
		const now = Date.now();
		const second = Math.floor(now / 1000);
		burst = burst.second === second ? { second, count: burst.count + 1 } : { second, count: 1 };
		if (burst.count > TYPING_BURST) return;
		const { conversationId, typing } = p.data;
		if (typing && now - (lastTyping.get(conversationId) ?? 0) < TYPING_MIN_GAP_MS) return;
		try {
			if (!verified.has(conversationId)) {
				await chat.conversationFor(ctx, caller(), conversationId);
				verified.add(conversationId);
			}
		} catch {
			return;
		}
		lastTyping.set(conversationId, typing ? now : 0);
		chat.relayTyping(ctx, actor, conversationId, typing);
	});
}
