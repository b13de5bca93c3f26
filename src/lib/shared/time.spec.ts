import { describe, expect, it } from 'vitest';
import { addDays, dateIn, dayBoundsUtc, isoWeekday, isoWithOffset, minutesOf, offsetMinutes, todayIn, zonedToUtc } from './time';

/**
 * The hospital's calendar on the days its clocks change. 2027 transitions:
 * Europe/Berlin  2027-03-28 02:00 CET → 03:00 CEST (01:00Z); 2027-10-31 03:00 CEST → 02:00 CET (01:00Z)
 * America/New_York 2027-03-14 02:00 EST → 03:00 EDT (07:00Z); 2027-11-07 02:00 EDT → 01:00 EST (06:00Z)
 */
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const at = (iso: string) => new Date(iso);
const utc = (date: string, time: string, tz: string) => zonedToUtc(date, time, tz).toISOString();
const HOUR = 3_600_000;

describe('offsetMinutes', () => {
	it('is the offset in force at the instant, changing exactly at each transition', () => {
		expect(offsetMinutes(BERLIN, at('2027-03-28T00:59:59Z'))).toBe(60);
		expect(offsetMinutes(BERLIN, at('2027-03-28T01:00:00Z'))).toBe(120);
		expect(offsetMinutes(BERLIN, at('2027-10-31T00:59:59Z'))).toBe(120);
		expect(offsetMinutes(BERLIN, at('2027-10-31T01:00:00Z'))).toBe(60);
		expect(offsetMinutes(NEW_YORK, at('2027-03-14T06:59:59Z'))).toBe(-300);
		expect(offsetMinutes(NEW_YORK, at('2027-03-14T07:00:00Z'))).toBe(-240);
		expect(offsetMinutes(NEW_YORK, at('2027-11-07T05:59:59Z'))).toBe(-240);
		expect(offsetMinutes(NEW_YORK, at('2027-11-07T06:00:00Z'))).toBe(-300);
		expect(offsetMinutes('UTC', at('2027-03-28T01:00:00Z'))).toBe(0);
		expect(offsetMinutes('Asia/Kolkata', at('2027-03-28T01:00:00Z'))).toBe(330);
	});
});

describe('dateIn and todayIn', () => {
	it('gives the calendar date the zone’s clock shows at an instant', () => {
		expect(dateIn(BERLIN, at('2027-03-27T22:59:00Z'))).toBe('2027-03-27');
		expect(dateIn(BERLIN, at('2027-03-27T23:00:00Z'))).toBe('2027-03-28');
		expect(dateIn(BERLIN, at('2027-10-31T22:59:00Z'))).toBe('2027-10-31');
		expect(dateIn(BERLIN, at('2027-10-31T23:00:00Z'))).toBe('2027-11-01');
		expect(dateIn(NEW_YORK, at('2027-11-07T03:59:00Z'))).toBe('2027-11-06');
		expect(dateIn(NEW_YORK, at('2027-11-07T04:00:00Z'))).toBe('2027-11-07');
		expect(dateIn(NEW_YORK, at('2027-11-08T04:59:00Z'))).toBe('2027-11-07');
		expect(dateIn(NEW_YORK, at('2027-11-08T05:00:00Z'))).toBe('2027-11-08');
		expect(dateIn('UTC', at('2027-01-01T00:00:00Z'))).toBe('2027-01-01');
	});

	it('defaults to now, and todayIn is today’s date in the zone', () => {
		for (const tz of [BERLIN, NEW_YORK, 'Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
			const expected = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
			expect(todayIn(tz)).toBe(expected);
			expect(dateIn(tz)).toBe(expected);
		}
	});
});

describe('zonedToUtc', () => {
	it('converts ordinary wall times on either side of a transition', () => {
		expect(utc('2027-03-28', '01:59', BERLIN)).toBe('2027-03-28T00:59:00.000Z');
		expect(utc('2027-03-28', '03:00', BERLIN)).toBe('2027-03-28T01:00:00.000Z');
		expect(utc('2027-10-31', '01:59', BERLIN)).toBe('2027-10-30T23:59:00.000Z');
		expect(utc('2027-10-31', '03:00', BERLIN)).toBe('2027-10-31T02:00:00.000Z');
		expect(utc('2027-03-14', '01:59', NEW_YORK)).toBe('2027-03-14T06:59:00.000Z');
		expect(utc('2027-03-14', '03:00', NEW_YORK)).toBe('2027-03-14T07:00:00.000Z');
		expect(utc('2027-11-07', '00:59', NEW_YORK)).toBe('2027-11-07T04:59:00.000Z');
		expect(utc('2027-11-07', '02:00', NEW_YORK)).toBe('2027-11-07T07:00:00.000Z');
		expect(utc('2027-06-01', '09:15', 'UTC')).toBe('2027-06-01T09:15:00.000Z');
		expect(utc('2027-06-01', '09:15', 'Asia/Kolkata')).toBe('2027-06-01T03:45:00.000Z');
	});

	it('maps a time the clock skips (spring gap) to the instant of the jump', () => {
		for (const t of ['02:00', '02:01', '02:30', '02:59']) {
			expect(utc('2027-03-28', t, BERLIN)).toBe('2027-03-28T01:00:00.000Z');
			expect(utc('2027-03-14', t, NEW_YORK)).toBe('2027-03-14T07:00:00.000Z');
		}
		expect(isoWithOffset(zonedToUtc('2027-03-28', '02:30', BERLIN), BERLIN)).toBe('2027-03-28T03:00:00+02:00');
		expect(isoWithOffset(zonedToUtc('2027-03-14', '02:30', NEW_YORK), NEW_YORK)).toBe('2027-03-14T03:00:00-04:00');
	});

	it('maps a time the clock shows twice (autumn fold) to its first occurrence', () => {
		expect(utc('2027-10-31', '02:00', BERLIN)).toBe('2027-10-31T00:00:00.000Z');
		expect(utc('2027-10-31', '02:30', BERLIN)).toBe('2027-10-31T00:30:00.000Z');
		expect(isoWithOffset(zonedToUtc('2027-10-31', '02:30', BERLIN), BERLIN)).toBe('2027-10-31T02:30:00+02:00');
		expect(utc('2027-11-07', '01:00', NEW_YORK)).toBe('2027-11-07T05:00:00.000Z');
		expect(utc('2027-11-07', '01:30', NEW_YORK)).toBe('2027-11-07T05:30:00.000Z');
		expect(isoWithOffset(zonedToUtc('2027-11-07', '01:30', NEW_YORK), NEW_YORK)).toBe('2027-11-07T01:30:00-04:00');
	});

	it('round-trips every existing quarter hour of the transition days', () => {
		for (const [tz, day] of [
			[BERLIN, '2027-03-28'],
			[BERLIN, '2027-10-31'],
			[NEW_YORK, '2027-03-14'],
			[NEW_YORK, '2027-11-07']
		] as const) {
			for (let m = 0; m < 24 * 60; m += 15) {
				const hhmm = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
				const skipped = (day === '2027-03-28' || day === '2027-03-14') && hhmm.startsWith('02:');
				const shown = isoWithOffset(zonedToUtc(day, hhmm, tz), tz);
				if (skipped) expect(shown.slice(0, 16), `${tz} ${day} ${hhmm}`).toBe(`${day}T03:00`);
				else expect(shown.slice(0, 16), `${tz} ${day} ${hhmm}`).toBe(`${day}T${hhmm}`);
			}
		}
	});
});

describe('dayBoundsUtc: a day is local 00:00 to the next local 00:00', () => {
	const hours = (date: string, tz: string) => {
		const { from, to } = dayBoundsUtc(date, tz);
		return (to.getTime() - from.getTime()) / HOUR;
	};

	it('is 23 hours on spring-forward days and 25 on fall-back days, 24 otherwise', () => {
		expect(hours('2027-03-28', BERLIN)).toBe(23);
		expect(hours('2027-10-31', BERLIN)).toBe(25);
		expect(hours('2027-03-27', BERLIN)).toBe(24);
		expect(hours('2027-03-29', BERLIN)).toBe(24);
		expect(hours('2027-03-14', NEW_YORK)).toBe(23);
		expect(hours('2027-11-07', NEW_YORK)).toBe(25);
		expect(hours('2027-11-08', NEW_YORK)).toBe(24);
		expect(hours('2027-03-28', 'UTC')).toBe(24);
	});

	it('starts and ends at the local midnights', () => {
		expect(dayBoundsUtc('2027-10-31', BERLIN)).toEqual({ from: at('2027-10-30T22:00:00Z'), to: at('2027-10-31T23:00:00Z') });
		expect(dayBoundsUtc('2027-03-14', NEW_YORK)).toEqual({ from: at('2027-03-14T05:00:00Z'), to: at('2027-03-15T04:00:00Z') });
	});

	it('starts at the first instant of a day whose midnight the clock skips (Chile springs forward at 00:00)', () => {
		// America/Santiago: 2027-09-05 00:00 -04:00 → 01:00 -03:00.
		const { from } = dayBoundsUtc('2027-09-05', 'America/Santiago');
		expect(from.toISOString()).toBe('2027-09-05T04:00:00.000Z');
		expect(isoWithOffset(from, 'America/Santiago')).toBe('2027-09-05T01:00:00-03:00');
		expect(dateIn('America/Santiago', new Date(from.getTime() - 1000))).toBe('2027-09-04');
		expect(hours('2027-09-05', 'America/Santiago')).toBe(23);
	});
});

describe('isoWithOffset', () => {
	it('writes the wall time with the offset in force at that instant', () => {
		expect(isoWithOffset(at('2027-03-28T00:59:00Z'), BERLIN)).toBe('2027-03-28T01:59:00+01:00');
		expect(isoWithOffset(at('2027-03-28T01:00:00Z'), BERLIN)).toBe('2027-03-28T03:00:00+02:00');
		expect(isoWithOffset(at('2027-10-31T00:30:00Z'), BERLIN)).toBe('2027-10-31T02:30:00+02:00');
		expect(isoWithOffset(at('2027-10-31T01:30:00Z'), BERLIN)).toBe('2027-10-31T02:30:00+01:00');
		expect(isoWithOffset(at('2027-03-14T07:00:00Z'), NEW_YORK)).toBe('2027-03-14T03:00:00-04:00');
		expect(isoWithOffset(at('2027-11-07T05:30:00Z'), NEW_YORK)).toBe('2027-11-07T01:30:00-04:00');
		expect(isoWithOffset(at('2027-11-07T06:30:00Z'), NEW_YORK)).toBe('2027-11-07T01:30:00-05:00');
		expect(isoWithOffset(at('2027-06-01T09:15:00Z'), 'UTC')).toBe('2027-06-01T09:15:00+00:00');
		expect(isoWithOffset(at('2027-06-01T09:15:00Z'), 'Asia/Kolkata')).toBe('2027-06-01T14:45:00+05:30');
	});

	it('drops milliseconds and parses back to the same second', () => {
		const s = isoWithOffset(at('2027-10-31T01:30:45.678Z'), BERLIN);
		expect(s).toBe('2027-10-31T02:30:45+01:00');
		expect(new Date(s).toISOString()).toBe('2027-10-31T01:30:45.000Z');
	});
});

describe('isoWeekday', () => {
	it('numbers Monday 1 to Sunday 7, whatever the zone or the clocks do', () => {
		expect(isoWeekday('2027-03-28')).toBe(7);
		expect(isoWeekday('2027-03-29')).toBe(1);
		expect(isoWeekday('2027-03-27')).toBe(6);
		expect(isoWeekday('2027-11-07')).toBe(7);
		expect(isoWeekday('2027-03-17')).toBe(3);
		expect(isoWeekday('2028-02-29')).toBe(2);
	});
});

describe('addDays', () => {
	it('moves by calendar days across DST changes, months, years and leap days', () => {
		expect(addDays('2027-03-27', 1)).toBe('2027-03-28');
		expect(addDays('2027-03-28', 1)).toBe('2027-03-29');
		expect(addDays('2027-10-31', 1)).toBe('2027-11-01');
		expect(addDays('2027-11-07', -7)).toBe('2027-10-31');
		expect(addDays('2027-12-31', 1)).toBe('2028-01-01');
		expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
		expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
		expect(addDays('2027-03-01', -1)).toBe('2027-02-28');
		expect(addDays('2027-06-15', 0)).toBe('2027-06-15');
	});
});

describe('minutesOf', () => {
	it('reads HH:MM as minutes after midnight', () => {
		expect(minutesOf('00:00')).toBe(0);
		expect(minutesOf('09:30')).toBe(570);
		expect(minutesOf('23:59')).toBe(1439);
	});
});
