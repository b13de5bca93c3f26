import { api, messageOf } from './api';
import { listen, subscribe } from './realtime.svelte';

/**
 * A dashboard kept live: fetched once, fetched again on every `analytics:updated` (the server
 * coalesces bursts) and after a reconnect. A fetch that starts while another is on its way
 * waits for it and runs once more, so the last event is never lost to an older answer.
 */
export type LiveDashboard<T> = {
	readonly data: T | null;
	readonly status: 'loading' | 'ready' | 'failed';
	readonly error: string | null;
	/** How many times the figures were redrawn from the server (the e2e test watches it). */
	readonly revision: number;
	refetch(): Promise<void>;
	stop(): void;
};

export function liveDashboard<T>(url: () => string, rooms: string[]): LiveDashboard<T> {
	let data = $state.raw<T | null>(null);
	let status = $state<'loading' | 'ready' | 'failed'>('loading');
	let error = $state<string | null>(null);
	let revision = $state(0);
	let running: Promise<void> | null = null;
	let again = false;

	async function once() {
		try {
			data = await api.get<T>(url());
			status = 'ready';
			error = null;
			revision++;
		} catch (err) {
			error = messageOf(err);
			if (status === 'loading') status = 'failed';
		}
	}

	function refetch(): Promise<void> {
		if (running) {
			again = true;
			return running;
		}
		running = (async () => {
			do {
				again = false;
				await once();
			} while (again);
			running = null;
		})();
		return running;
	}

	const stops = [
		...rooms.map((r) => subscribe(r, { onResync: () => void refetch(), onRefused: (m) => (error = m) })),
		listen('analytics:updated', () => void refetch())
	];
	void refetch();
	return {
		get data() {
			return data;
		},
		get status() {
			return status;
		},
		get error() {
			return error;
		},
		get revision() {
			return revision;
		},
		refetch,
		stop: () => stops.forEach((s) => s())
	};
}
