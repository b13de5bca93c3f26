import { describe, expect, it } from 'vitest';
import { QueuePlaces } from './appointments';

/** The patient page's rule for queue places: the highest announcement sequence wins. */
describe('QueuePlaces', () => {
	it('an event with an older sequence than the place held is ignored; a newer or equal one is taken', () => {
		const places = new QueuePlaces();
		expect(places.offer('a', { position: 3, seq: 5 })).toBe(true);
		expect(places.offer('a', { position: 4, seq: 4 })).toBe(false);
		expect(places.get('a')).toEqual({ position: 3, seq: 5 });
		expect(places.offer('a', { position: 2, seq: 7 })).toBe(true);
		expect(places.offer('a', { position: 1, seq: 7 })).toBe(true);
		expect(places.get('a')).toEqual({ position: 1, seq: 7 });
		expect(places.offer('b', { position: 9, seq: 1 })).toBe(true);
		expect(places.get('a')).toEqual({ position: 1, seq: 7 });
	});

	it('announcements delivered in any order end on the place of the highest sequence', () => {
		const events = [
			{ position: 5, seq: 1 },
			{ position: 4, seq: 2 },
			{ position: 4, seq: 3 },
			{ position: 3, seq: 4 },
			{ position: 2, seq: 5 }
		];
		for (let round = 0; round < 50; round++) {
			const shuffled = [...events].sort(() => Math.random() - 0.5);
			const places = new QueuePlaces();
			for (const e of shuffled) places.offer('a', e);
			expect(places.get('a')).toEqual({ position: 2, seq: 5 });
		}
	});

	it('a fetch that read an older sequence keeps the newer place already heard; a fresher fetch replaces it', () => {
		const places = new QueuePlaces();
		places.offer('a', { position: 1, seq: 8 });
		const stale = places.settle({ id: 'a', queuePosition: 2, queueSeq: 6, version: 4 });
		expect(stale).toEqual({ id: 'a', queuePosition: 1, queueSeq: 8, version: 4 });
		const fresh = places.settle({ id: 'a', queuePosition: 3, queueSeq: 9, version: 5 });
		expect(fresh).toEqual({ id: 'a', queuePosition: 3, queueSeq: 9, version: 5 });
		// An event older than that fetch is now ignored.
		expect(places.offer('a', { position: 1, seq: 8 })).toBe(false);
		expect(places.get('a')).toEqual({ position: 3, seq: 9 });
	});

	it('an appointment fetched without a place (not waiting) is left as it is', () => {
		const places = new QueuePlaces();
		places.offer('a', { position: 1, seq: 3 });
		const consulting = { id: 'a', queuePosition: undefined, queueSeq: undefined, status: 'CONSULTING' };
		expect(places.settle(consulting)).toBe(consulting);
	});
});
