import { describe, expect, it } from 'vitest';
import { haversineKm, heldBackOf, takeable } from './hospitals';

describe('great-circle distance', () => {
	it('matches known distances on the mean sphere', () => {
		// London – Paris ≈ 343.5 km; one degree of a meridian ≈ 111.195 km
		expect(haversineKm({ latitude: 51.5074, longitude: -0.1278 }, { latitude: 48.8566, longitude: 2.3522 })).toBeCloseTo(343.5, 0);
		expect(haversineKm({ latitude: 0, longitude: 10 }, { latitude: 1, longitude: 10 })).toBeCloseTo(111.195, 2);
		expect(haversineKm({ latitude: 10, longitude: 179.9 }, { latitude: 10, longitude: -179.9 })).toBeLessThan(25);
		expect(haversineKm({ latitude: 5, longitude: 5 }, { latitude: 5, longitude: 5 })).toBe(0);
	});
});

describe('pandemic hold-back', () => {
	const on = (share: number) => ({ enabled: true, heldBackShare: share });
	it('holds back ceil(share × total) of ICU beds and ventilators only, and nothing when off', () => {
		expect(heldBackOf('icu_beds', 4, on(0.5))).toBe(2);
		expect(heldBackOf('ventilators', 3, on(0.5))).toBe(2);
		expect(heldBackOf('icu_beds', 10, on(0.3))).toBe(3); // not 4 from 3.0000000000000004
		expect(heldBackOf('general_beds', 10, on(0.9))).toBe(0);
		expect(heldBackOf('icu_beds', 10, { enabled: false, heldBackShare: 0.5 })).toBe(0);
		expect(heldBackOf('icu_beds', 0, on(0.9))).toBe(0);
	});
	it('critical cases may take what is held back; others only the rest, never below zero', () => {
		expect(takeable({ available: 4, heldBack: 2 }, 'high')).toBe(2);
		expect(takeable({ available: 4, heldBack: 2 }, 'critical')).toBe(4);
		expect(takeable({ available: 1, heldBack: 2 }, 'medium')).toBe(0);
	});
});
