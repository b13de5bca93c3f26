import { api, messageOf } from './api';
import { listen, subscribe } from './realtime.svelte';
import type { AlertView } from '$lib/shared/hospitals';
import { room } from '$lib/shared/rooms';

/**
 * One hospital's ambulance alerts, live, for its staff: the open and en-route ones fetched once,
 * the hospital's `hospital-alerts:<id>` room joined, and every `ambulance:updated` of an alert
 * that went to (or is going to) this hospital applied when newer. Alerts that arrive or are
 * cancelled while the screen is open stay, closed, so staff see what happened.
 */
export function liveAlertsOf(hospitalId: string) {
	let items = $state.raw<AlertView[]>([]);
	let status = $state<'loading' | 'ready' | 'failed'>('loading');
	let error = $state<string | null>(null);
	let latest = $state<{ id: string; at: number } | null>(null);

	const concerns = (a: AlertView) => a.hospitalIds.includes(hospitalId) || a.hospitalId === hospitalId;
	function put(a: AlertView) {
		if (!concerns(a)) return;
		const held = items.find((x) => x.id === a.id);
		if (held && held.updatedAt > a.updatedAt) return;
		if (!held && a.status === 'open') latest = { id: a.id, at: Date.now() };
		items = [a, ...items.filter((x) => x.id !== a.id)].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
	}

	async function refetch() {
		try {
			const res = await api.get<{ alerts: AlertView[] }>('/api/ambulance-alerts', { hospitalId });
			const fresh = new Map(res.alerts.map((a) => [a.id, a]));
			// keep what closed while we watched; take the server's for the rest
			items = [...res.alerts, ...items.filter((x) => !fresh.has(x.id) && (x.status === 'arrived' || x.status === 'cancelled'))].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
			status = 'ready';
			error = null;
		} catch (err) {
			error = messageOf(err);
			if (status === 'loading') status = 'failed';
		}
	}

	const leave = subscribe(room.hospitalAlerts(hospitalId), { onResync: () => void refetch(), onRefused: (m) => (error = m) });
	const stop = listen('ambulance:updated', put);
	void refetch();

	return {
		get items() {
			return items;
		},
		get status() {
			return status;
		},
		get error() {
			return error;
		},
		/** The newest alert that appeared while the screen was open. */
		get latest() {
			return latest;
		},
		put,
		refetch,
		stop() {
			leave();
			stop();
		}
	};
}
