import type { Ctx } from '../src/lib/server/context';
import type { Caller } from '../src/lib/server/actor';
import { createHospital, listHospitals } from '../src/lib/server/services/hospitals';
import type { HospitalCreate } from '../src/lib/shared/hospitals';

/**
 * The demo sites: three hospitals a few kilometres apart (central London), each with beds, ICU
 * beds and ventilators, through the services. Idempotent: a site is known by its name, and one
 * that exists is left as it is (its counters may have moved since).
 */
export const DEMO_SITES: HospitalCreate[] = [
	{ name: 'MedTrack Central', latitude: 51.5145, longitude: -0.1235, departments: ['Emergency', 'ICU', 'Outpatients', 'Radiology', 'Cardiology'], resources: { general_beds: { total: 120 }, icu_beds: { total: 16 }, ventilators: { total: 12 } } },
	{ name: 'MedTrack Riverside', latitude: 51.4985, longitude: -0.0865, departments: ['Emergency', 'ICU', 'Outpatients'], resources: { general_beds: { total: 60 }, icu_beds: { total: 6 }, ventilators: { total: 5 } } },
	{ name: 'MedTrack Northgate', latitude: 51.5562, longitude: -0.1426, departments: ['Emergency', 'Outpatients', 'Radiology'], resources: { general_beds: { total: 40 }, icu_beds: { total: 2 }, ventilators: { total: 2 } } }
];

export async function seedSites(ctx: Ctx, admin: Caller): Promise<{ created: number; existed: number }> {
	const have = new Set((await listHospitals(ctx, admin)).map((h) => h.name.toLowerCase()));
	const tally = { created: 0, existed: 0 };
	for (const site of DEMO_SITES) {
		if (have.has(site.name.toLowerCase())) {
			tally.existed++;
			continue;
		}
		await createHospital(ctx, admin, site);
		tally.created++;
	}
	return tally;
}
