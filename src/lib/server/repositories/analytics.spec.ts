import { describe, expect, it } from 'vitest';
import { appointmentDeltas, contribution, mergeDeltas, weekMonday } from './analytics';

const base = { date: '2026-12-01', status: 'PENDING' as const, symptoms: 'fever and cough', doctor_id: 'd1' };

describe('analytics deltas', () => {
	it('a booking adds total, its status and its symptom categories to the day of the hospital and of the doctor', () => {
		expect(appointmentDeltas(undefined, base)).toEqual([
			{ scope: 'all', sk: '2026-12-01', counters: { total: 1, s_PENDING: 1, c_fever: 1, c_respiratory: 1 } },
			{ scope: 'doctor#d1', sk: '2026-12-01', counters: { total: 1, s_PENDING: 1 } }
		]);
	});

	it('a status change moves one count between statuses, nothing else', () => {
		expect(appointmentDeltas(base, { ...base, status: 'CONFIRMED' })).toEqual([
			{ scope: 'all', sk: '2026-12-01', counters: { s_PENDING: -1, s_CONFIRMED: 1 } },
			{ scope: 'doctor#d1', sk: '2026-12-01', counters: { s_PENDING: -1, s_CONFIRMED: 1 } }
		]);
	});

	it('a move takes every count from the old date to the new one', () => {
		const moved = appointmentDeltas(base, { ...base, date: '2026-12-03', status: 'RESCHEDULED' });
		expect(moved.find((d) => d.scope === 'all' && d.sk === '2026-12-01')!.counters).toEqual({ total: -1, s_PENDING: -1, c_fever: -1, c_respiratory: -1 });
		expect(moved.find((d) => d.scope === 'all' && d.sk === '2026-12-03')!.counters).toEqual({ total: 1, s_RESCHEDULED: 1, c_fever: 1, c_respiratory: 1 });
	});

	it('a completion adds the consultation length to the day and to the doctor\'s all-time row', () => {
		const consulting = { ...base, status: 'CONSULTING' as const, consultation_started_at: '2026-12-01T10:00:00.000Z' };
		const done = { ...consulting, status: 'COMPLETED' as const, completed_at: '2026-12-01T10:12:30.000Z' };
		const d = appointmentDeltas(consulting, done);
		expect(d.find((x) => x.sk === 'total')).toEqual({ scope: 'doctor#d1', sk: 'total', counters: { consult_ms: 750_000, consult_n: 1 } });
		expect(contribution(done)).toHaveLength(3);
	});

	it('no change, no items; zero sums are dropped', () => {
		expect(appointmentDeltas(base, base)).toEqual([]);
		expect(mergeDeltas([{ scope: 'all', sk: 'x', counters: { a: 1 } }, { scope: 'all', sk: 'x', counters: { a: -1 } }])).toEqual([]);
	});

	it('weeks start on Monday', () => {
		expect(weekMonday('2026-12-01')).toBe('2026-11-30'); // a Tuesday
		expect(weekMonday('2026-11-30')).toBe('2026-11-30');
		expect(weekMonday('2026-12-06')).toBe('2026-11-30'); // Sunday
	});
});
