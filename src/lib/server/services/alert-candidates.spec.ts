import { describe, expect, it } from 'vitest';
import { candidatesAmong } from './alert-candidates';
import type { HospitalItem } from '../repositories/hospitals';

const counters = (available: number, heldBack = 0) => ({ total: 10, available, reserved: 0, occupied: 10 - available, out_of_service: 0, held_back: heldBack });
const site = (id: string, latitude: number, icu: number, heldBack = 0): HospitalItem => ({
	id,
	kind: 'hospital',
	name: id,
	name_lower: id,
	latitude,
	longitude: 0,
	departments: [],
	pandemic: { enabled: heldBack > 0, held_back_share: 0 },
	resources: { general_beds: counters(5), icu_beds: counters(icu, heldBack), ventilators: counters(5) },
	version: 1,
	created_at: '',
	updated_at: '',
	updated_by: '',
	updated_by_name: ''
});
const KM = 1 / 111.195; // one km of latitude in degrees

describe('candidatesAmong', () => {
	const alert = { latitude: 0, longitude: 0, radius_km: 20, needs: { icu_beds: 1 }, severity: 'high' as const };

	it('lists those in range that can take the patient, nearest first; out of range never', () => {
		const got = candidatesAmong([site('far', 30 * KM, 5), site('b', 10 * KM, 2), site('a', 3 * KM, 1)], alert);
		expect(got.map((c) => [c.hospitalId, c.canTake])).toEqual([['a', true], ['b', true]]);
		expect(got[0]!.distanceKm).toBeCloseTo(3, 1);
	});

	it('keeps a hospital the alert went to that ran out, marked; one it never went to is left out', () => {
		const hs = [site('ran-out', 2 * KM, 0), site('never', 4 * KM, 0), site('ok', 6 * KM, 3)];
		expect(candidatesAmong(hs, { ...alert, hospital_ids: ['ran-out', 'ok'] }).map((c) => [c.hospitalId, c.canTake])).toEqual([['ran-out', false], ['ok', true]]);
	});

	it('a high-severity case cannot take what pandemic mode holds back; a critical one can', () => {
		const hs = [site('held', 1 * KM, 2, 2)];
		expect(candidatesAmong(hs, alert)).toEqual([]);
		expect(candidatesAmong(hs, { ...alert, severity: 'critical' }).map((c) => c.canTake)).toEqual([true]);
	});
});
