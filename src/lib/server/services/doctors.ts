import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { badRequest, notFound } from '../errors';
import { refuse, requireActor } from '../auth/guard';
import { versionedUpdate } from '../db/versioned';
import { doctorsOfSpecialization, getDoctor, type DoctorItem, type WeeklySlot } from '../repositories/doctors';
import type { DoctorView } from '$lib/shared/views';
import { appointmentsOfDoctor } from '../repositories/appointments';
import { ACTIVE_STATUSES } from '$lib/shared/appointments';
import { SPECIALIZATIONS } from '$lib/shared/schemas';
import { addDays, minutesOf } from '$lib/shared/time';
import { managesDoctor } from '$lib/shared/policy';
import { slotsOn, type Slot } from './slots';

export type { DoctorView };
export { slotsOn, type Slot };

export const doctorView = (d: DoctorItem): DoctorView => ({
	id: d.id,
	version: d.version,
	userId: d.user_id,
	name: d.name,
	specialization: d.specialization,
	licenceNumber: d.licence_number,
	status: d.status,
	slotMinutes: d.slot_minutes,
	weekly: d.weekly,
	updatedAt: d.updated_at,
	updatedBy: d.updated_by_name
});

/** Everyone signed in may find doctors (patients book with them). */
/** With a date, each doctor carries that day's free slot count, so patients pick one who has room. */
export async function listDoctors(ctx: Ctx, caller: Caller, q: { specialization?: string; date?: string }): Promise<DoctorView[]> {
	requireActor(caller);
	const specs = q.specialization ? [q.specialization] : [...SPECIALIZATIONS];
	const items = (await Promise.all(specs.map((s) => doctorsOfSpecialization(ctx, s)))).flat();
	const views = await Promise.all(
		items.map(async (d) => (q.date ? { ...doctorView(d), freeSlots: (await freeSlots(ctx, d, q.date)).length } : doctorView(d)))
	);
	return views.sort((a, b) => a.specialization.localeCompare(b.specialization) || a.name.localeCompare(b.name));
}

export async function readDoctor(ctx: Ctx, caller: Caller, id: string): Promise<DoctorView> {
	requireActor(caller);
	const d = await getDoctor(ctx, id);
	if (!d) throw notFound('This doctor');
	return doctorView(d);
}

/** Admins and front desk manage doctors; a doctor manages their own availability and status. */
async function assertManages(ctx: Ctx, caller: Caller, doctorId: string) {
	if (managesDoctor(requireActor(caller), doctorId)) return;
	await refuse(ctx, caller, 'appointment', 'write', doctorId, 'Only administrators, front desk or the doctor can change this.');
}

export async function updateAvailability(
	ctx: Ctx,
	caller: Caller,
	id: string,
	input: { version: number; slotMinutes: number; weekly: WeeklySlot[] }
): Promise<DoctorView> {
	await assertManages(ctx, caller, id);
	const problems: { field: string; message: string }[] = [];
	input.weekly.forEach((w, i) => {
		if (minutesOf(w.end) <= minutesOf(w.start)) problems.push({ field: `weekly.${i}.end`, message: 'must be after start' });
		else if (minutesOf(w.end) - minutesOf(w.start) < input.slotMinutes)
			problems.push({ field: `weekly.${i}`, message: 'is shorter than one slot' });
		input.weekly.forEach((o, j) => {
			if (j > i && o.day === w.day && minutesOf(o.start) < minutesOf(w.end) && minutesOf(w.start) < minutesOf(o.end))
				problems.push({ field: `weekly.${j}`, message: `overlaps weekly.${i} on day ${w.day}` });
		});
	});
	if (problems.length) throw badRequest(`Invalid body: ${problems[0]!.field}: ${problems[0]!.message}`, problems);
	const d = await getDoctor(ctx, id);
	if (!d) throw notFound('This doctor');
	const weekly = [...input.weekly].sort((a, b) => a.day - b.day || a.start.localeCompare(b.start));
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'doctors',
		pkName: 'id',
		id,
		expectedVersion: input.version,
		set: { slot_minutes: input.slotMinutes, weekly },
		resourceType: 'doctor'
	});
	return doctorView({ ...d, slot_minutes: input.slotMinutes, weekly, ...stamp });
}

export async function updateDoctorStatus(
	ctx: Ctx,
	caller: Caller,
	id: string,
	input: { version: number; status: DoctorItem['status'] }
): Promise<DoctorView> {
	await assertManages(ctx, caller, id);
	const d = await getDoctor(ctx, id);
	if (!d) throw notFound('This doctor');
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'doctors',
		pkName: 'id',
		id,
		expectedVersion: input.version,
		set: { status: input.status },
		resourceType: 'doctor'
	});
	return doctorView({ ...d, status: input.status, ...stamp });
}

/** Free slots of a date: the schedule minus active appointments, and nothing in the past. */
/** Appointments that hold a doctor's time: booked, under way, or taken place. */
const holdsTime = (a: { status: string }) => ACTIVE_STATUSES.includes(a.status as never) || a.status === 'COMPLETED' || a.status === 'MISSED';

/** The doctor's appointments that hold time overlapping [fromUtc, toUtc) (slots are at most two hours long). */
export async function busyBetween(ctx: Ctx, doctorId: string, fromUtc: string, toUtc: string) {
	const earliest = new Date(Date.parse(fromUtc) - 2 * 3_600_000).toISOString();
	return (await appointmentsOfDoctor(ctx, doctorId, earliest, toUtc)).filter((a) => holdsTime(a) && a.start < toUtc && fromUtc < a.end);
}

/**
 * A doctor's free slots on a date: none while the doctor is off duty; otherwise every future
 * slot that no appointment overlaps (not only one starting at the same minute, so a booking
 * made before the slot length changed still blocks the new slots it covers).
 */
export async function freeSlots(ctx: Ctx, d: DoctorItem, date: string): Promise<Slot[]> {
	if (d.status === 'off') return [];
	const all = slotsOn(d, date, ctx.config.timezone);
	if (!all.length) return [];
	const busy = await busyBetween(ctx, d.id, all[0]!.startUtc, new Date(all.at(-1)!.end).toISOString());
	const now = new Date().toISOString();
	return all.filter((s) => {
		const end = new Date(s.end).toISOString();
		return s.startUtc > now && !busy.some((a) => a.start < end && s.startUtc < a.end);
	});
}

export async function listFreeSlots(ctx: Ctx, caller: Caller, id: string, date: string): Promise<Slot[]> {
	requireActor(caller);
	const d = await getDoctor(ctx, id);
	if (!d) throw notFound('This doctor');
	return freeSlots(ctx, d, date);
}

/** The free slots nearest to an instant, looking a week either way. */
export async function nearestFreeSlots(ctx: Ctx, d: DoctorItem, aroundUtc: string, date: string, n = 5): Promise<Slot[]> {
	const found: Slot[] = [];
	for (let i = 0; i < 7 && found.length < n * 2; i++) {
		found.push(...(await freeSlots(ctx, d, addDays(date, i))));
		if (i > 0) found.push(...(await freeSlots(ctx, d, addDays(date, -i))));
	}
	const t = Date.parse(aroundUtc);
	return found.sort((a, b) => Math.abs(Date.parse(a.startUtc) - t) - Math.abs(Date.parse(b.startUtc) - t)).slice(0, n);
}
