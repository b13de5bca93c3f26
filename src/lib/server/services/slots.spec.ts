import { describe, expect, it } from 'vitest';
import { slotsOn, type Slot } from './slots';
import type { WeeklySlot } from '$lib/shared/views';

/** Slot generation is pure: weekly availability + a date + the hospital's zone → instants. */
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const SUNDAY = 7;

const doctor = (weekly: WeeklySlot[], slot_minutes = 30) => ({ weekly, slot_minutes });
const starts = (slots: Slot[]) => slots.map((s) => s.start);

/** Every slot is `minutes` of real time long, its UTC start is its start, and no instant repeats. */
function expectRealSlots(slots: Slot[], minutes: number) {
	for (const s of slots) {
		expect(Date.parse(s.end) - Date.parse(s.start), `${s.start}–${s.end}`).toBe(minutes * 60_000);
		expect(new Date(s.start).toISOString()).toBe(s.startUtc);
	}
	expect(new Set(slots.map((s) => s.startUtc)).size).toBe(slots.length);
	expect([...slots].sort((a, b) => a.startUtc.localeCompare(b.startUtc))).toEqual(slots);
}

describe('slotsOn, Europe/Berlin', () => {
	const night = doctor([{ day: SUNDAY, start: '01:00', end: '04:00' }]);

	it('spring forward (2027-03-28): a 01:00–04:00 block in 30-minute slots is 01:00, 01:30, 03:00, 03:30 and nothing twice', () => {
		const slots = slotsOn(night, '2027-03-28', BERLIN);
		expect(starts(slots)).toEqual(['2027-03-28T01:00:00+01:00', '2027-03-28T01:30:00+01:00', '2027-03-28T03:00:00+02:00', '2027-03-28T03:30:00+02:00']);
		expect(slots.map((s) => s.end)).toEqual(['2027-03-28T01:30:00+01:00', '2027-03-28T03:00:00+02:00', '2027-03-28T03:30:00+02:00', '2027-03-28T04:00:00+02:00']);
		expectRealSlots(slots, 30);
	});

	it('fall back (2027-10-31): the same block is 8 distinct instants, the repeated 02:00 and 02:30 first at +02:00 then at +01:00', () => {
		const slots = slotsOn(night, '2027-10-31', BERLIN);
		expect(starts(slots)).toEqual([
			'2027-10-31T01:00:00+02:00',
			'2027-10-31T01:30:00+02:00',
			'2027-10-31T02:00:00+02:00',
			'2027-10-31T02:30:00+02:00',
			'2027-10-31T02:00:00+01:00',
			'2027-10-31T02:30:00+01:00',
			'2027-10-31T03:00:00+01:00',
			'2027-10-31T03:30:00+01:00'
		]);
		expect(slots.at(-1)!.end).toBe('2027-10-31T04:00:00+01:00');
		expectRealSlots(slots, 30);
	});

	it('an ordinary day has the block’s wall-clock slots', () => {
		const slots = slotsOn(night, '2027-04-04', BERLIN);
		expect(starts(slots)).toEqual(['01:00', '01:30', '02:00', '02:30', '03:00', '03:30'].map((t) => `2027-04-04T${t}:00+02:00`));
		expectRealSlots(slots, 30);
	});

	it('a block that ends inside the skipped hour ends at the jump; one inside it has no slots', () => {
		const d = doctor([
			{ day: SUNDAY, start: '00:00', end: '02:30' },
			{ day: SUNDAY, start: '02:30', end: '02:45' }
		]);
		expect(starts(slotsOn(d, '2027-03-28', BERLIN))).toEqual(['00:00', '00:30', '01:00', '01:30'].map((t) => `2027-03-28T${t}:00+01:00`));
	});

	it('a block that ends inside the repeated hour ends at its first occurrence', () => {
		const d = doctor([{ day: SUNDAY, start: '01:00', end: '02:30' }]);
		expect(starts(slotsOn(d, '2027-10-31', BERLIN))).toEqual(['01:00', '01:30', '02:00'].map((t) => `2027-10-31T${t}:00+02:00`));
	});
});

describe('slotsOn, America/New_York', () => {
	it('spring forward (2027-03-14): 01:00–04:00 is 01:00, 01:30 (EST) then 03:00, 03:30 (EDT)', () => {
		const slots = slotsOn(doctor([{ day: SUNDAY, start: '01:00', end: '04:00' }]), '2027-03-14', NEW_YORK);
		expect(starts(slots)).toEqual(['2027-03-14T01:00:00-05:00', '2027-03-14T01:30:00-05:00', '2027-03-14T03:00:00-04:00', '2027-03-14T03:30:00-04:00']);
		expectRealSlots(slots, 30);
	});

	it('fall back (2027-11-07): 00:30–02:30 is six distinct instants, 01:00 and 01:30 first at -04:00 then at -05:00', () => {
		const slots = slotsOn(doctor([{ day: SUNDAY, start: '00:30', end: '02:30' }]), '2027-11-07', NEW_YORK);
		expect(starts(slots)).toEqual([
			'2027-11-07T00:30:00-04:00',
			'2027-11-07T01:00:00-04:00',
			'2027-11-07T01:30:00-04:00',
			'2027-11-07T01:00:00-05:00',
			'2027-11-07T01:30:00-05:00',
			'2027-11-07T02:00:00-05:00'
		]);
		expect(slots.at(-1)!.end).toBe('2027-11-07T02:30:00-05:00');
		expectRealSlots(slots, 30);
	});

	it('a whole day in 15-minute slots has an hour’s four slots fewer on the short day and four more on the long one', () => {
		const allDay = doctor([{ day: SUNDAY, start: '00:00', end: '23:59' }], 15);
		// 00:00–23:59 is 23 h 59 min of wall time: 95 whole slots on an ordinary day, an hour's 4 fewer or more.
		expect(slotsOn(allDay, '2027-03-21', NEW_YORK)).toHaveLength(95);
		expect(slotsOn(allDay, '2027-03-14', NEW_YORK)).toHaveLength(91);
		expect(slotsOn(allDay, '2027-11-07', NEW_YORK)).toHaveLength(99);
		expectRealSlots(slotsOn(allDay, '2027-11-07', NEW_YORK), 15);
	});
});

describe('slotsOn, the schedule itself', () => {
	it('uses only the blocks of the date’s weekday, in time order whatever order they are stored in', () => {
		const d = doctor(
			[
				{ day: 1, start: '14:00', end: '15:00' },
				{ day: 1, start: '09:00', end: '10:00' },
				{ day: 2, start: '11:00', end: '12:00' }
			],
			30
		);
		expect(starts(slotsOn(d, '2027-06-07', 'UTC'))).toEqual(['09:00', '09:30', '14:00', '14:30'].map((t) => `2027-06-07T${t}:00+00:00`));
		expect(starts(slotsOn(d, '2027-06-08', 'UTC'))).toEqual(['2027-06-08T11:00:00+00:00', '2027-06-08T11:30:00+00:00']);
		expect(slotsOn(d, '2027-06-09', 'UTC')).toEqual([]);
	});

	it('keeps only whole slots that end by the block’s end', () => {
		const d = doctor([{ day: 1, start: '09:00', end: '10:00' }], 25);
		expect(starts(slotsOn(d, '2027-06-07', 'Asia/Kolkata'))).toEqual(['2027-06-07T09:00:00+05:30', '2027-06-07T09:25:00+05:30']);
	});
});
