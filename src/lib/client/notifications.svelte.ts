import { api, messageOf } from './api';
import { listen, subscribe } from './realtime.svelte';
import { mayOpen, type SessionUser } from '$lib/shared/pages';
import type { NotificationEvent } from '$lib/shared/realtime';
import { room } from '$lib/shared/rooms';

/**
 * The signed-in person's notification centre: the newest few notifications and the unread
 * count, fetched once, kept live by `notification:new` on the user's own room and fetched
 * again after a reconnect (so one missed while offline still shows). The bell and the
 * /notifications page both read and change it through here.
 */
export type NotificationItem = NotificationEvent & { read: boolean; sortKey: string };
export type NotificationPage = { items: NotificationItem[]; unread: number; nextCursor: string | null };

/** How many the bell's panel shows. */
const LATEST = 8;
/** POST /api/notifications/read takes at most this many keys at once. */
const READ_BATCH = 100;

const keyOf = (n: NotificationEvent) => n.sortKey ?? `${n.createdAt}#${n.id}`;

class NotificationCentre {
	latest = $state.raw<NotificationItem[]>([]);
	unread = $state(0);
	status = $state<'idle' | 'loading' | 'ready' | 'failed'>('idle');
	error = $state<string | null>(null);
	/** The newest arrival in words, for a polite live region. */
	announcement = $state('');

	#stop: (() => void) | null = null;
	#heardListeners = new Set<(n: NotificationItem) => void>();
	#readListeners = new Set<(keys: Set<string> | 'all') => void>();
	#fetching: Promise<void> | null = null;
	#again = false;

	/** Starts listening for `userId` (the app shell calls this once). */
	start(userId: string): void {
		if (this.#stop) return;
		const offNew = listen('notification:new', (e) => this.#heard(e));
		// Every socket is in its own user room already; joining it here gives a resync hook.
		const offRoom = subscribe(room.user(userId), { onResync: () => void this.refresh() });
		this.#stop = () => {
			offNew();
			offRoom();
		};
		this.status = 'loading';
		void this.refresh();
	}

	stop(): void {
		this.#stop?.();
		this.#stop = null;
	}

	/** Fetches the newest few and the unread count; overlapping calls cause one more fetch. */
	refresh(): Promise<void> {
		if (this.#fetching) {
			this.#again = true;
			return this.#fetching;
		}
		this.#fetching = (async () => {
			do {
				this.#again = false;
				try {
					const page = await api.get<NotificationPage>('/api/notifications', { limit: LATEST });
					this.latest = page.items;
					this.unread = page.unread;
					this.#settleReadConversations();
					this.status = 'ready';
					this.error = null;
				} catch (err) {
					this.error = messageOf(err);
					if (this.status !== 'ready') this.status = 'failed';
				}
			} while (this.#again);
		})().finally(() => {
			this.#fetching = null;
		});
		return this.#fetching;
	}

	/** Called with each live arrival (the /notifications page prepends it). */
	onHeard(fn: (n: NotificationItem) => void): () => void {
		this.#heardListeners.add(fn);
		return () => void this.#heardListeners.delete(fn);
	}

	/** Called after keys (or everything) were marked read here. */
	onRead(fn: (keys: Set<string> | 'all') => void): () => void {
		this.#readListeners.add(fn);
		return () => void this.#readListeners.delete(fn);
	}

	#heard(e: NotificationEvent) {
		const item: NotificationItem = { ...e, read: false, sortKey: keyOf(e) };
		if (this.latest.some((n) => n.id === item.id)) return;
		this.latest = [item, ...this.latest].slice(0, LATEST);
		this.unread += 1;
		this.announcement = `New notification: ${item.title}`;
		for (const fn of this.#heardListeners) fn(item);
	}

	/**
	 * Marks the given notifications read. `knownUnread` says how many of them the caller
	 * knew to be unread, so the count drops at once; a fetch then confirms it.
	 */
	async markRead(keys: string[], knownUnread = keys.length): Promise<void> {
		if (keys.length === 0) return;
		const set = new Set(keys);
		this.latest = this.latest.map((n) => (set.has(n.sortKey) ? { ...n, read: true } : n));
		this.unread = Math.max(0, this.unread - knownUnread);
		try {
			for (let i = 0; i < keys.length; i += READ_BATCH) {
				await api.post('/api/notifications/read', { sortKeys: keys.slice(i, i + READ_BATCH) });
			}
			for (const fn of this.#readListeners) fn(set);
		} finally {
			await this.refresh();
		}
	}

	/** Every unread notification, not only the ones on screen. */
	async markAllRead(): Promise<void> {
		const keys: string[] = [];
		let cursor: string | null = null;
		// Walk the list until every unread one is found (bounded: a person's list is short).
		for (let i = 0; i < 50; i++) {
			const page: NotificationPage = await api.get<NotificationPage>('/api/notifications', { limit: 100, cursor: cursor ?? undefined });
			for (const n of page.items) if (!n.read) keys.push(n.sortKey);
			cursor = page.nextCursor;
			if (!cursor || keys.length >= page.unread) break;
		}
		if (keys.length === 0) {
			await this.refresh();
			return;
		}
		await this.markRead(keys);
		for (const fn of this.#readListeners) fn('all');
	}

	/**
	 * The person read this conversation up to now: its chat notifications are read too,
	 * including ones a fetch still in flight brings in a moment later.
	 */
	markConversationRead(conversationId: string, upToIso: string): void {
		// The later of this clock and the server's time of the message read, in case they differ.
		const now = new Date().toISOString();
		this.#readConversations.set(conversationId, upToIso > now ? upToIso : now);
		this.#settleReadConversations();
	}

	#readConversations = new Map<string, string>();
	/** Keys already sent once by this settling, so a failing request is not repeated in a loop. */
	#settled = new Set<string>();

	#settleReadConversations() {
		const keys = this.latest
			.filter((n) => {
				if (n.read || n.relatedType !== 'conversation' || !n.relatedId) return false;
				const readAt = this.#readConversations.get(n.relatedId);
				return !!readAt && n.createdAt <= readAt && !this.#settled.has(n.sortKey);
			})
			.map((n) => n.sortKey);
		for (const k of keys) this.#settled.add(k);
		if (keys.length) void this.markRead(keys).catch(() => {});
	}
}

export const notifications = new NotificationCentre();

const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayAndClock = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

/** "just now", "12 min ago", "14:05" earlier today, "3 Mar, 14:05" before. */
export function whenShort(iso: string, now = Date.now()): string {
	const t = new Date(iso).getTime();
	if (Number.isNaN(t)) return '';
	const minutes = Math.floor((now - t) / 60_000);
	if (minutes < 1) return 'just now';
	if (minutes < 60) return `${minutes} min ago`;
	return new Date(t).toDateString() === new Date(now).toDateString() ? clock.format(t) : dayAndClock.format(t);
}

/** The page a notification is about, when there is one this person may open. */
export function linkFor(n: Pick<NotificationEvent, 'relatedType' | 'relatedId'>, user: SessionUser): string | null {
	let href: string | null = null;
	if (n.relatedType === 'conversation' && n.relatedId) href = `/chat/${encodeURIComponent(n.relatedId)}`;
	else if (n.relatedType === 'patient' && n.relatedId) {
		// An emergency access: the super admin reviews it in the audit log of that chart.
		href = user.role === 'super_admin' ? `/audit?resourceType=patient&resourceId=${encodeURIComponent(n.relatedId)}` : `/patients/${encodeURIComponent(n.relatedId)}`;
	} else if (n.relatedType === 'blood_stock') {
		href = '/admin/blood-bank';
	} else if (n.relatedType === 'donation_request') {
		href = '/patient';
	} else if (n.relatedType === 'appointment') {
		href =
			{ patient: '/patient/appointments', doctor: '/doctor/queue', nurse: '/nurse', front_desk: '/front-desk/board' }[
				user.role as string
			] ?? null;
	}
	return href && mayOpen(user, href) ? href : null;
}
