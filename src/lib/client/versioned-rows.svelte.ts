import { messageOf } from './api';

/**
 * Rows a screen keeps true from the events that carry them whole (`hospital:updated`,
 * `ventilator:updated`, `stock:updated`): fetched once and after each reconnect, then each
 * event's row replaces the held one unless the held one is newer (by version). A fetch never
 * throws an event's newer row away (it may have overtaken the answer on its way), and fetches
 * never overlap: a call during one makes exactly one more after it. Lists whose events only
 * announce a version (and must be read again) use `LiveList` instead.
 */
export class VersionedRows<T extends { version: number }> {
	rows = $state.raw<T[]>([]);
	status = $state<'loading' | 'ready' | 'failed'>('loading');
	error = $state<string | null>(null);

	#key: (row: T) => string;
	#load: () => Promise<T[]>;
	#order: ((a: T, b: T) => number) | undefined;
	#addUnknown: boolean;
	#running: Promise<void> | null = null;
	#again = false;

	/**
	 * `addUnknown`: an event about a row not held adds it (a device just registered); otherwise
	 * it is ignored (a row of a list this screen did not load). `order` keeps added rows in place.
	 */
	constructor(opts: { key: (row: T) => string; load: () => Promise<T[]>; order?: (a: T, b: T) => number; addUnknown?: boolean }) {
		this.#key = opts.key;
		this.#load = opts.load;
		this.#order = opts.order;
		this.#addUnknown = opts.addUnknown ?? false;
	}

	get(key: string): T | undefined {
		return this.rows.find((r) => this.#key(r) === key);
	}

	/** Takes a row from an event or a save's answer, unless the held copy is newer. Answers whether it was taken. */
	apply(row: T): boolean {
		const key = this.#key(row);
		const i = this.rows.findIndex((r) => this.#key(r) === key);
		if (i < 0) {
			if (!this.#addUnknown) return false;
			const next = [...this.rows, row];
			this.rows = this.#order ? next.sort(this.#order) : next;
			return true;
		}
		if (row.version < this.rows[i]!.version) return false;
		this.rows = this.rows.map((r, j) => (j === i ? row : r));
		return true;
	}

	/** Changes a held row in place (a field no event carries, kept from an earlier read). */
	update(key: string, f: (row: T) => T): void {
		this.rows = this.rows.map((r) => (this.#key(r) === key ? f(r) : r));
	}

	refetch(): Promise<void> {
		if (this.#running) {
			this.#again = true;
			return this.#running;
		}
		this.#running = this.#run().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	async #run() {
		do {
			this.#again = false;
			try {
				const fetched = await this.#load();
				const held = new Map(this.rows.map((r) => [this.#key(r), r]));
				this.rows = fetched.map((r) => {
					const mine = held.get(this.#key(r));
					return mine && mine.version > r.version ? mine : r;
				});
				this.status = 'ready';
				this.error = null;
			} catch (err) {
				this.error = messageOf(err);
				if (this.status === 'loading') this.status = 'failed';
			}
		} while (this.#again);
	}
}
