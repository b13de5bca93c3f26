import { api, messageOf } from './api';
import { listen, subscribe } from './realtime.svelte';
import type { StockRow } from '$lib/shared/blood';
import type { StockAlertEvent } from '$lib/shared/realtime';
import { room } from '$lib/shared/rooms';

/**
 * The blood stock as an admin screen shows it, live: fetched once, then kept true by
 * `stock:updated` (a row is replaced only by a newer version), with `stock:critical` and
 * `stock:recovered` marking when each alert arrived. After a reconnect it fetches again.
 */
export type LiveStock = {
	readonly rows: StockRow[];
	readonly status: 'loading' | 'ready' | 'failed';
	readonly error: string | null;
	/** When each critical alert (group#component) reached this screen, for the banner. */
	readonly alertedAt: Record<string, string>;
	/** Replaces a row with what a save returned (if newer). */
	apply(row: StockRow): void;
	refetch(): Promise<void>;
	stop(): void;
};

const keyOf = (r: { bloodGroup: string; component: string }) => `${r.bloodGroup}#${r.component}`;

export function liveStock(): LiveStock {
	let rows = $state.raw<StockRow[]>([]);
	let status = $state<'loading' | 'ready' | 'failed'>('loading');
	let error = $state<string | null>(null);
	let alertedAt = $state<Record<string, string>>({});
	let fetching: Promise<void> | null = null;

	function apply(row: StockRow) {
		const i = rows.findIndex((r) => keyOf(r) === keyOf(row));
		if (i < 0) return;
		if (row.version < rows[i]!.version) return;
		rows = rows.map((r, j) => (j === i ? row : r));
	}

	function refetch(): Promise<void> {
		if (fetching) return fetching;
		fetching = (async () => {
			try {
				const res = await api.get<{ stock: StockRow[] }>('/api/blood-bank/stock');
				const held = new Map(rows.map((r) => [keyOf(r), r]));
				// An event newer than this answer may have arrived while it was on its way.
				rows = res.stock.map((r) => {
					const mine = held.get(keyOf(r));
					return mine && mine.version > r.version ? mine : r;
				});
				status = 'ready';
				error = null;
			} catch (err) {
				error = messageOf(err);
				if (status === 'loading') status = 'failed';
			} finally {
				fetching = null;
			}
		})();
		return fetching;
	}

	const stops = [
		subscribe(room.role('admin'), { onResync: () => void refetch(), onRefused: (m) => (error = m) }),
		listen('stock:updated', (row) => apply(row)),
		listen('stock:critical', (e: StockAlertEvent) => {
			alertedAt = { ...alertedAt, [keyOf(e)]: e.at };
			const i = rows.findIndex((r) => keyOf(r) === keyOf(e));
			// The alert may beat its row's update: show it critical at once.
			if (i >= 0 && !rows[i]!.critical) rows = rows.map((r, j) => (j === i ? { ...r, available: e.available, threshold: e.threshold, critical: true } : r));
		}),
		listen('stock:recovered', (e: StockAlertEvent) => {
			const next = { ...alertedAt };
			delete next[keyOf(e)];
			alertedAt = next;
			const i = rows.findIndex((r) => keyOf(r) === keyOf(e));
			if (i >= 0 && rows[i]!.critical) rows = rows.map((r, j) => (j === i ? { ...r, available: e.available, threshold: e.threshold, critical: false } : r));
		})
	];
	void refetch();

	return {
		get rows() {
			return rows;
		},
		get status() {
			return status;
		},
		get error() {
			return error;
		},
		get alertedAt() {
			return alertedAt;
		},
		apply,
		refetch,
		stop: () => stops.forEach((s) => s())
	};
}
