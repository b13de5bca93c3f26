/**
 * Time zone arithmetic for the hospital's zone (HOSPITAL_TIMEZONE) with nothing but Intl.
 * Instants are stored as UTC ISO strings; people see and send ISO 8601 with the offset.
 */
function parts(timeZone: string, at: Date) {
	const f = new Intl.DateTimeFormat('en-US', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit'
	}).formatToParts(at);
	const get = (t: string) => Number(f.find((p) => p.type === t)?.value);
	return { y: get('year'), m: get('month'), d: get('day'), h: get('hour'), min: get('minute'), s: get('second') };
}

/** Minutes the zone is ahead of UTC at an instant. */
export function offsetMinutes(timeZone: string, at: Date): number {
	const p = parts(timeZone, at);
	const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s);
	return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** Calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateIn(timeZone: string, at: Date = new Date()): string {
	const p = parts(timeZone, at);
	return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

export const todayIn = (timeZone: string) => dateIn(timeZone);

/** The instant a wall-clock time on a date has in a zone. */
export function zonedToUtc(date: string, time: string, timeZone: string): Date {
	const guess = new Date(`${date}T${time}:00.000Z`);
	const first = offsetMinutes(timeZone, guess);
	let t = guess.getTime() - first * 60_000;
	const second = offsetMinutes(timeZone, new Date(t));
	if (second !== first) t = guess.getTime() - second * 60_000;
	return new Date(t);
}

/** ISO 8601 with the zone's offset, e.g. 2026-11-24T09:00:00+01:00. */
export function isoWithOffset(at: Date, timeZone: string): string {
	const p = parts(timeZone, at);
	const off = offsetMinutes(timeZone, at);
	const sign = off < 0 ? '-' : '+';
	const abs = Math.abs(off);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.min)}:${pad(p.s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
	const d = new Date(`${date}T12:00:00.000Z`).getUTCDay();
	return d === 0 ? 7 : d;
}

export function addDays(date: string, days: number): string {
	const d = new Date(`${date}T12:00:00.000Z`);
	d.setUTCDate(d.getUTCDate() + days);
	return d.toISOString().slice(0, 10);
}

/** "HH:MM" → minutes after midnight. */
export const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
