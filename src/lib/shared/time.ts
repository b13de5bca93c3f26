import {
	fromAbsolute,
	fromDate,
	getDayOfWeek,
	parseDate,
	parseDateTime,
	toCalendarDate,
	toCalendarDateTime,
	toZoned,
	today,
	type CalendarDateTime
} from '@internationalized/date';

/**
 * Dates and wall-clock times in the hospital's zone (HOSPITAL_TIMEZONE), on
 * `@internationalized/date` (the zone rules come from the runtime's Intl tz data).
 * Instants are stored as UTC ISO strings; people see and send ISO 8601 with the offset.
 * Calendar dates are `YYYY-MM-DD`, wall-clock times `HH:MM`.
 */

/** Minutes the zone is ahead of UTC at an instant (60 for 09:00+01:00). */
export function offsetMinutes(timeZone: string, at: Date): number {
	return Math.round(fromDate(at, timeZone).offset / 60_000);
}

/** Calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateIn(timeZone: string, at: Date = new Date()): string {
	return toCalendarDate(fromDate(at, timeZone)).toString();
}

/** Today's calendar date in a time zone. */
export const todayIn = (timeZone: string): string => today(timeZone).toString();

const wallOf = (ms: number, timeZone: string): CalendarDateTime => toCalendarDateTime(fromAbsolute(ms, timeZone));

/**
 * The instant at which the zone's clock first shows a wall-clock time on a date: the
 * moment a schedule saying "from 02:30" or "until 02:30" starts or ends.
 *
 * - A time that happens once: that instant.
 * - A time that happens twice (autumn, clocks go back): the first of the two, with the
 *   summer offset (Berlin 2027-10-31 02:30 → 02:30+02:00, not 02:30+01:00).
 * - A time that never happens (spring, clocks jump forward): the instant of the jump, the
 *   first moment the clock shows that time or later (Berlin 2027-03-28 02:30 → 03:00+02:00;
 *   New York 2027-03-14 02:30 → 03:00-04:00). So a day's 00:00 is always the day's first
 *   instant, even in zones that change their clocks at midnight.
 *
 * Deterministic for every input; `date` and `time` must already be valid.
 */
export function zonedToUtc(date: string, time: string, timeZone: string): Date {
	const wall = parseDateTime(`${date}T${time}`);
	const first = toZoned(wall, timeZone, 'earlier');
	if (toCalendarDateTime(first).compare(wall) === 0) return first.toDate();
	// In a gap: `earlier` reads the time with the offset after the jump (it lands before the
	// jump), `later` with the offset before it (after the jump). The jump lies between; find
	// the first whole second whose wall time is at or past the asked one.
	let lo = Math.floor(first.toDate().getTime() / 1000);
	let hi = Math.ceil(toZoned(wall, timeZone, 'later').toDate().getTime() / 1000);
	while (hi - lo > 1) {
		const mid = Math.floor((lo + hi) / 2);
		if (wallOf(mid * 1000, timeZone).compare(wall) >= 0) hi = mid;
		else lo = mid;
	}
	return new Date(hi * 1000);
}

/** The instants a calendar day starts and ends at (local 00:00 to the next local 00:00: 23, 24 or 25 hours). */
export function dayBoundsUtc(date: string, timeZone: string): { from: Date; to: Date } {
	return { from: zonedToUtc(date, '00:00', timeZone), to: zonedToUtc(addDays(date, 1), '00:00', timeZone) };
}

/** ISO 8601 with the zone's offset at that instant, to the second: 2027-03-28T03:00:00+02:00. */
export function isoWithOffset(at: Date, timeZone: string): string {
	const seconds = Math.floor(at.getTime() / 1000) * 1000;
	// "2027-03-28T03:00:00+02:00[Europe/Berlin]" without the zone name.
	return fromAbsolute(seconds, timeZone).toString().replace(/\[[^\]]*\]$/, '');
}

/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
	return getDayOfWeek(parseDate(date), 'en-GB', 'mon') + 1;
}

/** The calendar date `days` days after (or before, if negative) a date. */
export function addDays(date: string, days: number): string {
	return parseDate(date).add({ days }).toString();
}

/** "HH:MM" → minutes after midnight. */
export const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
