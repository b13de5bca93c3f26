import { api } from './api';
import { VersionedRows } from './versioned-rows.svelte';
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
	const list = new VersionedRows<StockRow>({
		key: keyOf,
		load: async () => (await api.get<{ stock: StockRow[] }>('/api/blood-bank/stock')).stock
	});
	let alertedAt = $state<Record<string, string>>({});
	const refetch = () => list.refetch();
	/** The alert may beat its row's update: show the row as the alert says at once. */
	const mark = (e: StockAlertEvent, critical: boolean) => {
		const held = list.get(keyOf(e));
		if (held && held.critical !== critical) list.update(keyOf(e), (r) => ({ ...r, available: e.available, threshold: e.threshold, critical }));
	};

	const stops = [
		subscribe(room.role('admin'), { onResync: () => void refetch(), onRefused: (m) => (list.error = m) }),
		listen('stock:updated', (row) => list.apply(row)),
		listen('stock:critical', (e: StockAlertEvent) => {
			alertedAt = { ...alertedAt, [keyOf(e)]: e.at };
			mark(e, true);
		}),
		listen('stock:recovered', (e: StockAlertEvent) => {
			const next = { ...alertedAt };
			delete next[keyOf(e)];
			alertedAt = next;
			mark(e, false);
		})
	];
	void refetch();

	return {
		get rows() {
			return list.rows;
		},
		get status() {
			return list.status;
		},
		get error() {
			return list.error;
		},
		get alertedAt() {
			return alertedAt;
		},
		apply: (row: StockRow) => void list.apply(row),
		refetch,
		stop: () => stops.forEach((s) => s())
	};
}
