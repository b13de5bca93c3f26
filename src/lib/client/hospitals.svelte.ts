import { api } from './api';
import { VersionedRows } from './versioned-rows.svelte';
import { listen, subscribe } from './realtime.svelte';
import type { HospitalView } from '$lib/shared/hospitals';
import { room } from '$lib/shared/rooms';

/**
 * Every hospital's capacity, live: fetched once, each hospital's room joined, rows replaced by
 * `hospital:updated` only when newer (by version); after a reconnect it fetches again.
 */
export function liveHospitals() {
	const list = new VersionedRows<HospitalView>({
		key: (h) => h.id,
		load: async () => (await api.get<{ hospitals: HospitalView[] }>('/api/hospitals')).hospitals
	});
	const joined = new Map<string, () => void>();

	async function refetch() {
		await list.refetch();
		for (const h of list.rows) {
			if (!joined.has(h.id)) joined.set(h.id, subscribe(room.hospital(h.id), { onResync: () => void refetch(), onRefused: (m) => (list.error = m) }));
		}
	}

	const stopUpdates = listen('hospital:updated', (h) => list.apply(h));
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
		apply: (h: HospitalView) => void list.apply(h),
		refetch,
		stop() {
			stopUpdates();
			for (const leave of joined.values()) leave();
			joined.clear();
		}
	};
}
