import { api, messageOf } from './api';
import { listen, subscribe } from './realtime.svelte';
import { room } from '$lib/shared/rooms';
import type { VentilatorMove, VentilatorView } from '$lib/shared/ventilators';

/**
 * One hospital's ventilators, live: fetched once, then `ventilator:updated` from the hospital's
 * room replaces a device when newer (by version). The broadcast never names the patient (the
 * room has paramedics in it), so a device that has just been put in use is read once more by
 * whoever may see its patient; after a reconnect the list is fetched again.
 */
export function liveVentilators(hospitalId: string, opts: { seesPatients: boolean }) {
	let rows = $state.raw<VentilatorView[]>([]);
	let status = $state<'loading' | 'ready' | 'failed'>('loading');
	let error = $state<string | null>(null);

	function put(v: VentilatorView) {
		const i = rows.findIndex((r) => r.id === v.id);
		if (i >= 0 && v.version < rows[i]!.version) return;
		rows = i < 0 ? [...rows, v].sort((a, b) => a.serial.localeCompare(b.serial)) : rows.map((r, j) => (j === i ? v : r));
	}

	async function refetch() {
		try {
			const res = await api.get<{ ventilators: VentilatorView[] }>(`/api/hospitals/${hospitalId}/ventilators`);
			const held = new Map(rows.map((r) => [r.id, r]));
			rows = res.ventilators.map((v) => {
				const mine = held.get(v.id);
				return mine && mine.version > v.version ? mine : v;
			});
			status = 'ready';
			error = null;
		} catch (err) {
			error = messageOf(err);
			if (status === 'loading') status = 'failed';
		}
	}

	async function heard(v: VentilatorView) {
		if (v.hospitalId !== hospitalId) return;
		const before = rows.find((r) => r.id === v.id);
		if (before && v.version <= before.version) return;
		if (v.status === 'in_use' && before?.status === 'in_use' && before.patient) put({ ...v, patient: before.patient });
		else put(v);
		if (v.status === 'in_use' && opts.seesPatients && !(before?.status === 'in_use' && before.patient)) {
			try {
				put((await api.get<{ ventilator: VentilatorView }>(`/api/ventilators/${v.id}`, { limit: '1' })).ventilator);
			} catch {
				/* the row already shows it in use; the name comes with the next fetch */
			}
		}
	}

	const leave = subscribe(room.hospital(hospitalId), { onResync: () => void refetch() });
	const stop = listen('ventilator:updated', (v) => void heard(v));
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
		put,
		refetch,
		stop() {
			stop();
			leave();
		}
	};
}

/** Sends one move; answers the device as it now is. */
export async function moveVentilator(v: VentilatorView, change: Omit<VentilatorMove, 'version'>): Promise<VentilatorView> {
	return (await api.post<{ ventilator: VentilatorView }>(`/api/ventilators/${v.id}/moves`, { version: v.version, ...change })).ventilator;
}
