import type { Ctx } from '../src/lib/server/context';
import type { Caller } from '../src/lib/server/actor';
import { createHospital, listHospitals } from '../src/lib/server/services/hospitals';
import { listVentilators, moveVentilator, registerVentilator } from '../src/lib/server/services/ventilators';
import type { HospitalCreate, HospitalView } from '../src/lib/shared/hospitals';
import type { VentilatorStatus } from '../src/lib/shared/ventilators';

/**
 * The demo sites: three hospitals a few kilometres apart (central London), each with beds, ICU
 * beds and named ventilators, through the services. Idempotent: a site is known by its name,
 * a ventilator by its serial; what exists is left as it is (its counters may have moved since).
 * The sites are created with no ventilators and the devices registered one by one, so each has
 * a real serial, a place and a first log entry.
 */
export const DEMO_SITES: HospitalCreate[] = [
	{ name: 'MedTrack Central', latitude: 51.5145, longitude: -0.1235, departments: ['Emergency', 'ICU', 'Outpatients', 'Radiology', 'Cardiology'], resources: { general_beds: { total: 120 }, icu_beds: { total: 16 }, ventilators: { total: 0 } } },
	{ name: 'MedTrack Riverside', latitude: 51.4985, longitude: -0.0865, departments: ['Emergency', 'ICU', 'Outpatients'], resources: { general_beds: { total: 60 }, icu_beds: { total: 6 }, ventilators: { total: 0 } } },
	{ name: 'MedTrack Northgate', latitude: 51.5562, longitude: -0.1426, departments: ['Emergency', 'Outpatients', 'Radiology'], resources: { general_beds: { total: 40 }, icu_beds: { total: 2 }, ventilators: { total: 0 } } }
];

type DemoDevice = { serial: string; location: string; then?: { status: VentilatorStatus; location: string; reason: string; patient?: number } };

/** Each site's ventilators: serial as printed on the device, where it stands, and for a few what happened next. */
export const DEMO_VENTILATORS: Record<string, DemoDevice[]> = {
	'MedTrack Central': [
		{ serial: 'HAM-C6-21044', location: 'ICU bay 1', then: { status: 'in_use', location: 'ICU bed 1', reason: 'Intubated for pneumonia', patient: 0 } },
		{ serial: 'HAM-C6-21045', location: 'ICU bay 2', then: { status: 'in_use', location: 'ICU bed 3', reason: 'Post-operative ventilation', patient: 1 } },
		{ serial: 'HAM-C6-21046', location: 'ICU bay 3' },
		{ serial: 'HAM-C6-21047', location: 'ICU bay 4' },
		{ serial: 'DRG-V800-7731', location: 'Emergency resus 1' },
		{ serial: 'DRG-V800-7732', location: 'Emergency resus 2', then: { status: 'cleaning', location: 'Sterile services', reason: 'Used overnight; sent for cleaning' } },
		{ serial: 'DRG-V800-7733', location: 'Theatre 2 recovery' },
		{ serial: 'PHL-V60-3310', location: 'Respiratory ward' },
		{ serial: 'PHL-V60-3311', location: 'Respiratory ward' },
		{ serial: 'PHL-V60-3312', location: 'Biomedical engineering', then: { status: 'maintenance', location: 'Biomedical engineering', reason: 'Annual service and calibration' } },
		{ serial: 'HAM-T1-5502', location: 'Equipment store' },
		{ serial: 'HAM-T1-5503', location: 'Equipment store' }
	],
	'MedTrack Riverside': [
		{ serial: 'HAM-C3-8810', location: 'ICU bay 1', then: { status: 'in_use', location: 'ICU bed 2', reason: 'COPD exacerbation, NIV failed', patient: 2 } },
		{ serial: 'HAM-C3-8811', location: 'ICU bay 2' },
		{ serial: 'HAM-C3-8812', location: 'Emergency resus' },
		{ serial: 'PHL-V60-4420', location: 'Respiratory ward' },
		{ serial: 'PHL-V60-4421', location: 'Biomedical engineering', then: { status: 'out_of_service', location: 'Biomedical engineering', reason: 'Oxygen sensor fault; part ordered' } }
	],
	'MedTrack Northgate': [
		{ serial: 'DRG-V300-1201', location: 'Emergency resus' },
		{ serial: 'DRG-V300-1202', location: 'Equipment store' }
	]
};

export async function seedSites(ctx: Ctx, admin: Caller, patientIds: string[] = []): Promise<{ created: number; existed: number; ventilators: number }> {
	const byName = new Map((await listHospitals(ctx, admin)).map((h) => [h.name.toLowerCase(), h]));
	const tally = { created: 0, existed: 0, ventilators: 0 };
	const sites: HospitalView[] = [];
	for (const site of DEMO_SITES) {
		const known = byName.get(site.name.toLowerCase());
		if (known) {
			tally.existed++;
			sites.push(known);
			continue;
		}
		sites.push(await createHospital(ctx, admin, site));
		tally.created++;
	}
	for (const h of sites) {
		const have = new Set((await listVentilators(ctx, admin, h.id)).map((v) => v.serial.toLowerCase()));
		for (const d of DEMO_VENTILATORS[h.name] ?? []) {
			if (have.has(d.serial.toLowerCase())) continue;
			const v = await registerVentilator(ctx, admin, h.id, { serial: d.serial, location: d.location });
			tally.ventilators++;
			const patientId = d.then?.patient !== undefined ? patientIds[d.then.patient] : undefined;
			if (d.then && (d.then.status !== 'in_use' || patientId)) {
				await moveVentilator(ctx, admin, v.id, { version: v.version, status: d.then.status, location: d.then.location, reason: d.then.reason, ...(patientId ? { patientId } : {}) });
			}
		}
	}
	return tally;
}
