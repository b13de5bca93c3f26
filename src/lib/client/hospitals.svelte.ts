import { api, messageOf } from './api';
import { listen, subscribe } from './realtime.svelte';
import type { HospitalView } from '$lib/shared/hospitals';
import { room } from '$lib/shared/rooms';

/**
 * Every hospital's capacity, live: fetched once, each hospital's room joined, rows replaced by
 * `hospital:updated` only when newer (by version); after a reconnect it fetches again.
 */
export function liveHospitals() {
	let rows = $state.raw<HospitalView[]>([]);
	let status = $state<'loading' | 'ready' | 'failed'>('loading');
	let error = $state<string | null>(null);
	const joined = new Map<string, () => void>();

	function apply(h: HospitalView) {
		const i = rows.findIndex((r) => r.id === h.id);
		if (i < 0) return;
		if (h.version < rows[i]!.version) return;
		rows = rows.map((r, j) => (j === i ? h : r));
	}

	async function refetch() {
		try {
			const res = await api.get<{ hospitals: HospitalView[] }>('/api/hospitals');
			const held = new Map(rows.map((r) => [r.id, r]));
			rows = res.hospitals.map((h) => {
				const mine = held.get(h.id);
				return mine && mine.version > h.version ? mine : h;
			});
			for (const h of rows) {
				if (!joined.has(h.id)) joined.set(h.id, subscribe(room.hospital(h.id), { onResync: () => void refetch(), onRefused: (m) => (error = m) }));
			}
			status = 'ready';
			error = null;
		} catch (err) {
			error = messageOf(err);
			if (status === 'loading') status = 'failed';
		}
	}

	const stopUpdates = listen('hospital:updated', (h) => apply(h));
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
		apply,
		refetch,
		stop() {
			stopUpdates();
			for (const leave of joined.values()) leave();
			joined.clear();
		}
	};
}
