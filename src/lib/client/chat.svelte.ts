import { api, ApiError, messageOf } from './api';
import { connection, emitVolatile, emitWithAck, listen, subscribe } from './realtime.svelte';
import { notifications } from './notifications.svelte';
import {
	CHAT_MAX_CHARS,
	type ChatAck,
	type ChatMessageStatus,
	type ChatMessageView,
	type ChatReceiptEvent,
	type ConversationEvent,
	type ConversationView
} from '$lib/shared/chat';
import { room } from '$lib/shared/rooms';

/**
 * One open conversation in the browser: its messages (merged by id, ordered by sortKey),
 * older pages on demand, receipts, typing, and the messages this person is sending.
 *
 * A message gets its `clientId` once, when it is written; every try (socket, or HTTP when
 * the socket is down or silent) sends that same id, and the server stores it once. Sends go
 * one at a time, in the order they were written, so they are stored in that order too.
 * After a reconnect the newest page is fetched again and merged, so nothing the other side
 * sent meanwhile is missed and nothing shows twice.
 */
export type MessagesPage = { messages: ChatMessageView[]; nextCursor: string | null };

export type OutgoingMessage = {
	clientId: string;
	text: string;
	/** sending: being sent now; waiting: no connection, tried again on reconnect; failed: refused. */
	state: 'sending' | 'waiting' | 'failed';
	error: string | null;
};

const ACK_MS = 4_000;
const RETRY_MS = 4_000;
const TYPING_REPEAT_MS = 2_000;
const TYPING_IDLE_MS = 3_000;
const TYPING_SHOWN_MS = 6_000;
const READ_DELAY_MS = 250;
/** After a reconnect, follow older pages this far to close a gap of missed messages. */
const RESYNC_PAGES = 10;

const charCount = (t: string) => [...t].length;

/** Why a message cannot be sent as written, or null. Mirrors the server's rule. */
export function messageProblem(text: string): string | null {
	const t = text.trim();
	if (!t) return 'A message cannot be empty.';
	const n = charCount(t);
	if (n > CHAT_MAX_CHARS) {
		return `A message can be at most ${CHAT_MAX_CHARS.toLocaleString('en')} characters; this one has ${n.toLocaleString('en')}.`;
	}
	return null;
}

const later = (a: string | null, b: string | null) => (!a ? b : !b ? a : a >= b ? a : b);

/**
 * A conversation-list row after a `chat:conversation` event, or null when the event is not
 * newer than the row (its rev is not higher): such events arrive late and out of order, and
 * an older unread count must never replace a newer one.
 */
export function applyConversationEvent(held: ConversationView, e: ConversationEvent): ConversationView | null {
	if (e.conversationId !== held.id || e.rev <= held.rev) return null;
	return { ...held, lastMessageAt: e.lastMessageAt, lastMessagePreview: e.lastMessagePreview, unread: e.unread, rev: e.rev };
}

/** Conversations merged by id, each kept at the highest rev seen (a fetched list can lag an event). */
export function mergeByRev(held: readonly ConversationView[], fetched: readonly ConversationView[]): ConversationView[] {
	const map = new Map(held.map((c) => [c.id, c]));
	for (const c of fetched) {
		const mine = map.get(c.id);
		if (!mine || c.rev >= mine.rev) map.set(c.id, c);
	}
	return [...map.values()];
}

export class ChatThread {
	conversation = $state.raw<ConversationView | null>(null);
	/** Stored messages, oldest first. */
	messages = $state.raw<ChatMessageView[]>([]);
	/** Written here and not yet stored, in the order written. */
	outgoing = $state.raw<OutgoingMessage[]>([]);
	status = $state<'loading' | 'ready' | 'failed'>('loading');
	error = $state<string | null>(null);
	olderCursor = $state<string | null>(null);
	loadingOlder = $state(false);
	/** The other person's name while they are typing. */
	typing = $state<string | null>(null);
	/** The newest incoming message, for a polite announcement. */
	announcement = $state('');
	/** How far the other side has received and read (sortKeys). */
	theirDelivered = $state<string | null>(null);
	theirRead = $state<string | null>(null);

	readonly id: string;
	readonly me: string;
	#byId = new Map<string, ChatMessageView>();
	#off: (() => void)[] = [];
	#flushing = false;
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#typingTimer: ReturnType<typeof setTimeout> | undefined;
	#typingShownTimer: ReturnType<typeof setTimeout> | undefined;
	#typingSentAt = 0;
	#typingOn = false;
	#deliveredSent: string | null = null;
	#readSent: string | null = null;
	#readWanted: string | null = null;
	#readTimer: ReturnType<typeof setTimeout> | undefined;
	#resyncTimer: ReturnType<typeof setTimeout> | undefined;
	#stopped = false;

	constructor(id: string, me: string) {
		this.id = id;
		this.me = me;
	}

	async start(): Promise<void> {
		this.#off.push(
			subscribe(room.chat(this.id), {
				onResync: () => this.#resync(),
				onRefused: (message) => {
					this.error = message;
				}
			}),
			listen('chat:message', (m) => {
				if (m.conversationId === this.id) this.#heard(m);
			}),
			listen('chat:delivered', (e) => this.#receipt('delivered', e)),
			listen('chat:read', (e) => this.#receipt('read', e)),
			listen('chat:typing', (e) => {
				if (e.conversationId !== this.id || e.userId === this.me) return;
				clearTimeout(this.#typingShownTimer);
				this.typing = e.typing ? e.name : null;
				if (e.typing) this.#typingShownTimer = setTimeout(() => (this.typing = null), TYPING_SHOWN_MS);
			})
		);
		window.addEventListener('online', this.#kick);
		try {
			const [{ conversation }, page] = await Promise.all([
				api.get<{ conversation: ConversationView }>(`/api/conversations/${encodeURIComponent(this.id)}`),
				api.get<MessagesPage>(`/api/conversations/${encodeURIComponent(this.id)}/messages`)
			]);
			this.#adoptConversation(conversation);
			this.#merge(page.messages);
			this.olderCursor = page.nextCursor;
			this.status = 'ready';
			this.#acknowledgeDelivery();
		} catch (err) {
			this.error = messageOf(err);
			this.status = 'failed';
		}
	}

	stop(): void {
		this.#stopped = true;
		this.#stopTyping();
		for (const off of this.#off.splice(0)) off();
		window.removeEventListener('online', this.#kick);
		for (const t of [this.#retryTimer, this.#typingTimer, this.#typingShownTimer, this.#readTimer, this.#resyncTimer]) clearTimeout(t);
	}

	/** Own messages' receipt state, from the message and the other side's cursors. */
	statusOf(m: ChatMessageView): ChatMessageStatus {
		if (m.status === 'read' || (this.theirRead && this.theirRead >= m.sortKey)) return 'read';
		if (m.status === 'delivered' || (this.theirDelivered && this.theirDelivered >= m.sortKey)) return 'delivered';
		return 'sent';
	}

	// ------------------------------------------------------------ history

	/** The next 50 older messages; `beforeApply` runs just before they are shown (to keep the scroll place). */
	async loadOlder(beforeApply?: () => void): Promise<boolean> {
		if (!this.olderCursor || this.loadingOlder) return false;
		this.loadingOlder = true;
		try {
			const page = await api.get<MessagesPage>(`/api/conversations/${encodeURIComponent(this.id)}/messages`, { cursor: this.olderCursor });
			beforeApply?.();
			this.#merge(page.messages);
			this.olderCursor = page.nextCursor;
			return page.messages.length > 0;
		} catch (err) {
			this.error = messageOf(err);
			return false;
		} finally {
			this.loadingOlder = false;
		}
	}

	/** After a reconnect: the newest page again (and older ones until it meets what is held). */
	#resync() {
		void this.#catchUp();
		// A message stored between that fetch and the room being joined again would show
		// only on the next event: look once more a moment later.
		clearTimeout(this.#resyncTimer);
		this.#resyncTimer = setTimeout(() => void this.#catchUp(), 1_500);
		void this.#flush();
	}

	async #catchUp() {
		if (this.#stopped) return;
		const newestHeld = this.messages.at(-1)?.sortKey ?? null;
		try {
			const base = `/api/conversations/${encodeURIComponent(this.id)}`;
			const [{ conversation }, first] = await Promise.all([
				api.get<{ conversation: ConversationView }>(base),
				api.get<MessagesPage>(`${base}/messages`)
			]);
			this.#adoptConversation(conversation);
			let page = first;
			this.#merge(page.messages);
			for (let i = 0; i < RESYNC_PAGES && newestHeld && page.nextCursor && (page.messages.at(-1)?.sortKey ?? '') > newestHeld; i++) {
				page = await api.get<MessagesPage>(`${base}/messages`, { cursor: page.nextCursor });
				this.#merge(page.messages);
			}
			if (this.status !== 'ready') {
				this.olderCursor = first.nextCursor;
				this.status = 'ready';
			}
			this.error = null;
			this.#acknowledgeDelivery();
		} catch (err) {
			this.error = messageOf(err);
		}
	}

	#adoptConversation(c: ConversationView) {
		this.conversation = c;
		const them = c.you === 'patient' ? 'doctor' : 'patient';
		this.theirDelivered = later(this.theirDelivered, c.deliveredUpTo[them]);
		this.theirRead = later(this.theirRead, c.readUpTo[them]);
		this.#deliveredSent = later(this.#deliveredSent, c.deliveredUpTo[c.you]);
		this.#readSent = later(this.#readSent, c.readUpTo[c.you]);
	}

	#merge(list: ChatMessageView[]) {
		if (list.length === 0) return;
		let changed = false;
		for (const m of list) {
			const held = this.#byId.get(m.id);
			if (held && held.sortKey === m.sortKey && held.status === m.status) continue;
			this.#byId.set(m.id, m);
			changed = true;
		}
		if (!changed) return;
		this.messages = [...this.#byId.values()].sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
		if (this.outgoing.some((o) => this.#byId.has(o.clientId))) {
			this.outgoing = this.outgoing.filter((o) => !this.#byId.has(o.clientId));
		}
	}

	#heard(m: ChatMessageView) {
		const isNew = !this.#byId.has(m.id);
		this.#merge([m]);
		if (m.senderId === this.me || !isNew) return;
		this.typing = null;
		this.announcement = `New message from ${m.senderName}: ${m.text}`;
		this.#acknowledgeDelivery();
	}

	#receipt(kind: 'delivered' | 'read', e: ChatReceiptEvent) {
		if (e.conversationId !== this.id || e.userId === this.me) return;
		if (kind === 'read') this.theirRead = later(this.theirRead, e.upTo);
		this.theirDelivered = later(this.theirDelivered, e.upTo);
	}

	// ------------------------------------------------------------ receipts this side sends

	#newestIncoming(): string | null {
		for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]!.senderId !== this.me) return this.messages[i]!.sortKey;
		return null;
	}

	/** This browser has the other side's messages: say so (the sender sees "delivered"). */
	#acknowledgeDelivery() {
		const upTo = this.#newestIncoming();
		if (!upTo || (this.#deliveredSent && this.#deliveredSent >= upTo)) return;
		this.#deliveredSent = upTo;
		void this.#receiptOut('delivered', upTo);
	}

	/** An incoming message was on screen while the page was visible. */
	seen(sortKey: string) {
		this.#readWanted = later(this.#readWanted, sortKey);
		if (this.#readSent && this.#readSent >= this.#readWanted!) return;
		clearTimeout(this.#readTimer);
		this.#readTimer = setTimeout(() => {
			const upTo = this.#readWanted;
			if (!upTo || (this.#readSent && this.#readSent >= upTo)) return;
			this.#readSent = upTo;
			this.#deliveredSent = later(this.#deliveredSent, upTo);
			void this.#receiptOut('read', upTo);
			notifications.markConversationRead(this.id, upTo.slice(0, upTo.indexOf('#')));
		}, READ_DELAY_MS);
	}

	async #receiptOut(kind: 'delivered' | 'read', upTo: string) {
		const payload = { conversationId: this.id, upTo };
		try {
			const ack = await emitWithAck(kind === 'read' ? 'chat:read' : 'chat:delivered', payload, ACK_MS);
			if (ack.ok) return;
		} catch {
			/* no socket: HTTP below */
		}
		try {
			await api.post(`/api/conversations/${encodeURIComponent(this.id)}/${kind}`, { upTo });
		} catch {
			// Receipts are a courtesy: the next one (or the next load) carries it forward.
			if (kind === 'read' && this.#readSent === upTo) this.#readSent = null;
		}
	}

	// ------------------------------------------------------------ typing

	/** The person typed in the composer. */
	typed(): void {
		const now = Date.now();
		if (!this.#typingOn || now - this.#typingSentAt > TYPING_REPEAT_MS) {
			emitVolatile('chat:typing', { conversationId: this.id, typing: true });
			this.#typingSentAt = now;
			this.#typingOn = true;
		}
		clearTimeout(this.#typingTimer);
		this.#typingTimer = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
	}

	#stopTyping() {
		clearTimeout(this.#typingTimer);
		if (!this.#typingOn) return;
		this.#typingOn = false;
		emitVolatile('chat:typing', { conversationId: this.id, typing: false });
	}

	// ------------------------------------------------------------ sending

	/** Queues a message; returns why it cannot be sent, or null. */
	send(text: string): string | null {
		const problem = messageProblem(text);
		if (problem) return problem;
		this.#stopTyping();
		this.outgoing = [...this.outgoing, { clientId: crypto.randomUUID(), text: text.trim(), state: 'sending', error: null }];
		void this.#flush();
		return null;
	}

	/** Tries a refused or waiting message again (same clientId). */
	retry(clientId: string): void {
		this.#update(clientId, { state: 'sending', error: null });
		void this.#flush();
	}

	discard(clientId: string): void {
		this.outgoing = this.outgoing.filter((o) => o.clientId !== clientId);
	}

	#kick = () => void this.#flush();

	#update(clientId: string, patch: Partial<OutgoingMessage>) {
		this.outgoing = this.outgoing.map((o) => (o.clientId === clientId ? { ...o, ...patch } : o));
	}

	async #flush(): Promise<void> {
		if (this.#flushing || this.#stopped) return;
		this.#flushing = true;
		clearTimeout(this.#retryTimer);
		try {
			for (;;) {
				const next = this.outgoing.find((o) => o.state !== 'failed');
				if (!next || this.#stopped) break;
				if (next.state === 'waiting') this.#update(next.clientId, { state: 'sending' });
				if ((await this.#deliver(next)) === 'later') {
					// Keep the order: nothing behind it goes first. Try again soon, or on reconnect.
					for (const o of this.outgoing) if (o.state === 'sending') this.#update(o.clientId, { state: 'waiting' });
					this.#retryTimer = setTimeout(() => void this.#flush(), RETRY_MS);
					break;
				}
			}
		} finally {
			this.#flushing = false;
		}
	}

	async #deliver(o: OutgoingMessage): Promise<'done' | 'later'> {
		let ack: ChatAck<ChatMessageView> | null = null;
		if (connection.status === 'live') {
			try {
				ack = await emitWithAck('chat:message', { conversationId: this.id, clientId: o.clientId, text: o.text }, ACK_MS);
			} catch {
				ack = null; // no answer in time: maybe stored, maybe not; the same clientId settles it
			}
		}
		if (!ack) {
			try {
				const res = await api.post<{ message: ChatMessageView }>(`/api/conversations/${encodeURIComponent(this.id)}/messages`, {
					clientId: o.clientId,
					text: o.text
				});
				ack = { ok: true, data: res.message };
			} catch (err) {
				if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 408) {
					ack = { ok: false, error: { code: err.code, message: err.message, details: err.details } };
				} else return 'later';
			}
		}
		if (ack.ok) {
			this.#merge([ack.data]);
			this.outgoing = this.outgoing.filter((x) => x.clientId !== o.clientId);
			return 'done';
		}
		if (ack.error.code === 'INTERNAL' || ack.error.code === 'UNAVAILABLE') return 'later';
		this.#update(o.clientId, { state: 'failed', error: ack.error.message });
		return 'done';
	}
}
