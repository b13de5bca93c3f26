import type { WeeklySlot } from '$lib/shared/views';
import { isoWeekday, isoWithOffset, zonedToUtc } from '$lib/shared/time';

/**
 * A doctor's bookable slots on a date, from their weekly availability: pure, no database.
 *
 * Slots are real instants. Each availability block `start–end` on the date becomes the
 * instant its start has and the instant its end has in the hospital's zone (`zonedToUtc`:
 * a time the clock shows twice is its first occurrence, a time it skips is the moment of
 * the jump), and slots follow each other every `slotMinutes` of elapsed time from the start
 * instant while a whole slot still ends by the end instant. So on a spring-forward day a
 * 01:00–04:00 block is an hour shorter and its slots skip the missing hour; on a fall-back
 * day it is an hour longer and the repeated hour's slots carry both offsets.
 */
export type Slot = { start: string; end: string; startUtc: string };

export function slotsOn(d: { weekly: WeeklySlot[]; slot_minutes: number }, date: string, tz: string): Slot[] {
	const day = isoWeekday(date);
	const step = d.slot_minutes * 60_000;
	if (!(step > 0)) return [];
	const byStart = new Map<number, Slot>();
	for (const w of d.weekly) {
		if (w.day !== day) continue;
		const from = zonedToUtc(date, w.start, tz).getTime();
		const until = zonedToUtc(date, w.end, tz).getTime();
		for (let t = from; t + step <= until; t += step) {
			if (byStart.has(t)) continue;
			const start = new Date(t);
			byStart.set(t, { start: isoWithOffset(start, tz), end: isoWithOffset(new Date(t + step), tz), startUtc: start.toISOString() });
		}
	}
	return [...byStart.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}
