import { describe, expect, it } from 'vitest';
import { notifyByOutbox, rateDecision, rateWindow } from './throttle';

const W = 10_000; // a 10-second window

describe('rateWindow', () => {
	it('numbers fixed windows from the epoch and ends each at the next boundary', () => {
		expect(rateWindow(0, W)).toEqual({ window: 0, ttl: 20, endsAt: 10_000 });
		expect(rateWindow(9_999, W)).toMatchObject({ window: 0, endsAt: 10_000 });
		expect(rateWindow(10_000, W)).toMatchObject({ window: 1, endsAt: 20_000 });
	});

	it('keeps the counter a window past its own (ttl in seconds, rounded up)', () => {
		expect(rateWindow(1_234_567, W)).toEqual({ window: 123, ttl: 1_250, endsAt: 1_240_000 });
		expect(rateWindow(1_500, 1_500).ttl).toBe(5);
	});
});

describe('rateDecision', () => {
	it('allows up to the limit within a window', () => {
		expect(rateDecision(1, 20, 5_000, W)).toEqual({ allowed: true });
		expect(rateDecision(20, 20, 5_000, W)).toEqual({ allowed: true });
	});

	it('refuses past the limit, with the seconds left in the window', () => {
		expect(rateDecision(21, 20, 12_000, W)).toEqual({ allowed: false, retryAfterSeconds: 8 });
		expect(rateDecision(21, 20, 12_001, W)).toEqual({ allowed: false, retryAfterSeconds: 8 });
		expect(rateDecision(50, 20, 10_000, W)).toEqual({ allowed: false, retryAfterSeconds: 10 });
	});

	it('never asks to wait less than a second', () => {
		expect(rateDecision(21, 20, 19_999, W)).toEqual({ allowed: false, retryAfterSeconds: 1 });
	});

	it('a limit of zero refuses every send', () => {
		expect(rateDecision(1, 0, 0, W)).toMatchObject({ allowed: false });
	});
});

describe('notifyByOutbox', () => {
	it('texts when no throttle was claimed, or the last one ran out', () => {
		expect(notifyByOutbox(0, 1_000)).toBe(true);
		expect(notifyByOutbox(1_000, 1_000)).toBe(true);
		expect(notifyByOutbox(999, 1_000)).toBe(true);
	});

	it('stays silent while the throttle holds', () => {
		expect(notifyByOutbox(1_001, 1_000)).toBe(false);
	});
});
