/** Dates and times as a person in the browser's time zone reads them. */
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateAndTime = new Intl.DateTimeFormat(undefined, {
	day: 'numeric',
	month: 'short',
	year: 'numeric',
	hour: '2-digit',
	minute: '2-digit',
	second: '2-digit'
});
const calendarDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

function parse(iso: string | null | undefined): Date | null {
	if (!iso) return null;
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? null : d;
}

/** "12 Mar 2026, 14:05". */
export function formatDateTime(iso: string | null | undefined, fallback = '—'): string {
	const d = parse(iso);
	return d ? dateTime.format(d) : fallback;
}

/** "14:05:09" today, "12 Mar 2026, 14:05:09" on another day: when a change happened. */
export function formatMoment(iso: string | null | undefined, fallback = 'an unknown time'): string {
	const d = parse(iso);
	if (!d) return fallback;
	return d.toDateString() === new Date().toDateString() ? timeOnly.format(d) : dateAndTime.format(d);
}

const hourMinute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
/** "14:05": a time of day, in the browser's zone. */
export function timeOfDay(iso: string | null | undefined, fallback = '—'): string {
	const d = parse(iso);
	return d ? hourMinute.format(d) : fallback;
}

/** A calendar date stored as YYYY-MM-DD, shown without shifting it across time zones. */
export function formatDate(ymd: string | null | undefined, fallback = '—'): string {
	if (!ymd || !/^\d{4}-\d{2}-\d{2}$/.test(ymd)) return fallback;
	return calendarDate.format(new Date(`${ymd}T00:00:00Z`));
}

/** An average consultation length in minutes ("12 min", "4.5 min"); below one minute says so rather than "0 min". */
export function consultLength(minutes: number): string {
	return minutes < 1 ? 'under 1 min' : `${minutes} min`;
}

/** Years between a YYYY-MM-DD birth date and today. */
export function ageOf(ymd: string | null | undefined): number | null {
	if (!ymd || !/^\d{4}-\d{2}-\d{2}$/.test(ymd)) return null;
	const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
	const now = new Date();
	let age = now.getFullYear() - y;
	if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) age--;
	return age >= 0 ? age : null;
}

/** A `datetime-local` input's value (local wall time) as an ISO instant; '' stays undefined. */
export function localInputToIso(value: string): string | undefined {
	if (!value) return undefined;
	const d = new Date(value);
	return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** A courtesy title someone may have typed in front of their name. */
const TITLE = /^(?:dr|doctor|prof|professor|mr|mrs|ms|mx|miss)\.?$/i;

/** The words of a name without a leading courtesy title ("Dr. Amara Okafor" → Amara, Okafor). */
function nameWords(name: string): string[] {
	const words = name.trim().split(/\s+/).filter(Boolean);
	while (words.length > 1 && TITLE.test(words[0]!)) words.shift();
	return words.length === 1 && TITLE.test(words[0]!) ? [] : words;
}

/** "Good morning" by the browser's clock. */
export function partOfDay(at: Date = new Date()): string {
	const h = at.getHours();
	return h < 5 ? 'Good evening' : h < 12 ? 'Good morning' : h < 18 ? 'Good afternoon' : 'Good evening';
}

/** "Good morning, Asha": the given name, skipping a title the stored name may start with. */
export function greeting(name: string, at: Date = new Date()): string {
	const given = nameWords(name)[0];
	return given ? `${partOfDay(at)}, ${given}` : partOfDay(at);
}

/** "Dr. Okafor" from "Amara Okafor", "Dr. Amara Okafor" or "Dr Okafor"; "Doctor" when no name is left. */
export function doctorAddress(name: string): string {
	const family = nameWords(name).at(-1);
	return family ? `Dr. ${family}` : 'Doctor';
}

/** "Good morning, Dr. Okafor": how the doctor's home greets them. */
export function doctorGreeting(name: string, at: Date = new Date()): string {
	return `${partOfDay(at)}, ${doctorAddress(name)}`;
}
