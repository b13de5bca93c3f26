import { messageOf } from './api';

/**
 * A list a page shows and keeps true without polling: it is fetched once, then again only
 * when an event announces a version newer than the one held (or an item that now belongs
 * or no longer belongs in the list), and after a reconnect. Fetches never overlap: events
 * that arrive during one cause exactly one more. Lists read from a secondary index may lag
 * a write by a moment, so a fetch that does not yet show an announced version is retried a
 * few times with a short backoff: bounded, and only after an event, so still not polling.
 */
type Item = { id: string; version: number };
export type Announcement = { id: string; version: number };

const RETRY_MS = [150, 400, 1000, 2500];

export class LiveList<T extends Item> {
	items = $state.raw<T[]>([]);
	status = $state<'loading' | 'ready' | 'failed'>('loading');
	error = $state<string | null>(null);

	#load: () => Promise<T[]>;
	#running: Promise<void> | null = null;
	#again = false;
	#generation = 0;
	/** Announced versions not yet seen in a fetch: id → [version, should it be in the list]. */
	#expected = new Map<string, { version: number; belongs: boolean }>();
	#retry = 0;
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(load: () => Promise<T[]>) {
		this.#load = load;
	}

	/** The held copy of an item, if it is in the list. */
	get(id: string): T | undefined {
		return this.items.find((x) => x.id === id);
	}

	/** An event about an item; `belongs` says whether the item now belongs in this list. */
	heard(e: Announcement, belongs: boolean): void {
		if (this.#satisfied(e.id, e.version, belongs)) return;
		const prev = this.#expected.get(e.id);
		if (prev && prev.version >= e.version) return; // already on its way
		this.#expected.set(e.id, { version: e.version, belongs });
		this.#retry = 0;
		void this.refresh();
	}

	/** Fetches the list now (first load, after a reconnect, after an event). */
	refresh(): Promise<void> {
		if (this.#running) {
			this.#again = true;
			return this.#running;
		}
		this.#running = this.#run().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	/** Shows a fresher copy of one item at once (e.g. the answer to the user's own change). */
	put(item: T, belongs = true): void {
		const held = this.get(item.id);
		if (held && held.version >= item.version) return;
		if (!belongs) this.items = this.items.filter((x) => x.id !== item.id);
		else if (held) this.items = this.items.map((x) => (x.id === item.id ? item : x));
	}

	/** Changes fields of a held item that are derived, not versioned (a queue position). */
	patch(id: string, fields: Partial<T>): void {
		if (!this.get(id)) return;
		this.items = this.items.map((x) => (x.id === id ? { ...x, ...fields } : x));
	}

	/** Takes one freshly read item into the list (added if new), unless a newer copy is held. */
	upsert(item: T): void {
		const held = this.get(item.id);
		if (held && held.version >= item.version) return;
		this.items = held ? this.items.map((x) => (x.id === item.id ? item : x)) : [...this.items, item];
	}

	/** A different list (another day, another filter): drop what is held and fetch it. */
	reset(load: () => Promise<T[]>): Promise<void> {
		this.#generation++;
		this.#load = load;
		this.#expected.clear();
		clearTimeout(this.#timer);
		this.items = [];
		this.status = 'loading';
		this.error = null;
		return this.refresh();
	}

	/** Stops pending retries (the page is closing). */
	stop(): void {
		this.#generation++;
		clearTimeout(this.#timer);
	}

	async #run() {
		do {
			this.#again = false;
			const generation = this.#generation;
			try {
				const items = await this.#load();
				if (generation !== this.#generation) continue;
				this.items = items;
				this.status = 'ready';
				this.error = null;
			} catch (err) {
				if (generation !== this.#generation) continue;
				this.error = messageOf(err);
				if (this.status === 'loading') this.status = 'failed';
			}
		} while (this.#again);
		this.#settle();
	}

	#satisfied(id: string, version: number, belongs: boolean): boolean {
		const held = this.get(id);
		return belongs ? !!held && held.version >= version : !held;
	}

	/** After a fetch: forget what it showed; if an announced version is still missing, look again shortly. */
	#settle() {
		for (const [id, e] of this.#expected) if (this.#satisfied(id, e.version, e.belongs)) this.#expected.delete(id);
		clearTimeout(this.#timer);
		if (this.#expected.size === 0) return;
		const wait = RETRY_MS[this.#retry++];
		if (wait === undefined) {
			this.#expected.clear();
			return;
		}
		const generation = this.#generation;
		this.#timer = setTimeout(() => {
			if (generation === this.#generation) void this.refresh();
		}, wait);
	}
}
