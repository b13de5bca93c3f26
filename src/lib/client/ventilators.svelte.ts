import { api } from './api';
import { VersionedRows } from './versioned-rows.svelte';
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
	const list = new VersionedRows<VentilatorView>({
		key: (v) => v.id,
		load: async () => (await api.get<{ ventilators: VentilatorView[] }>(`/api/hospitals/${hospitalId}/ventilators`)).ventilators,
		order: (a, b) => a.serial.localeCompare(b.serial),
		addUnknown: true
	});

	async function heard(v: VentilatorView) {
		if (v.hospitalId !== hospitalId) return;
		const before = list.get(v.id);
		if (before && v.version <= before.version) return;
		const knownPatient = v.status === 'in_use' && before?.status === 'in_use' ? before.patient : undefined;
		list.apply(knownPatient ? { ...v, patient: knownPatient } : v);
		if (v.status === 'in_use' && opts.seesPatients && !knownPatient) {
			try {
				list.apply((await api.get<{ ventilator: VentilatorView }>(`/api/ventilators/${v.id}`, { limit: '1' })).ventilator);
			} catch {
				/* the row already shows it in use; the name comes with the next fetch */
			}
		}
	}

	const leave = subscribe(room.hospital(hospitalId), { onResync: () => void list.refetch() });
	const stop = listen('ventilator:updated', (v) => void heard(v));
	void list.refetch();

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
		put: (v: VentilatorView) => void list.apply(v),
		refetch: () => list.refetch(),
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
