import { api, ApiError } from './api';
import type { AllergyMatch } from '$lib/shared/allergies';
import { VersionedForm, type Snapshot } from './versioned-form.svelte';
import {
	PRIORITIES,
	STATUS_LABEL,
	type AppointmentStatus,
	type AppointmentView,
	type Priority,
	type Vitals
} from '$lib/shared/appointments';
import type { Role } from '$lib/shared/roles';
import { appointmentTransition } from '$lib/shared/appointment-status';

/**
 * The browser's side of appointments, visit records and doctors: the shapes the API answers
 * with, the hospital's clock, how times and statuses read, and the two versioned forms
 * (visit record, doctor availability) built on the one VersionedForm.
 */

export type { AppointmentView };

export type { DoctorStatus, WeeklySlot, DoctorView, Slot, Prescription, RecordedVitals, MedicalRecordView, InvoiceView } from '$lib/shared/views';
import type { DoctorView, MedicalRecordView, Slot } from '$lib/shared/views';
import { room } from '$lib/shared/rooms';

// ——— The hospital's clock ———

export type Clock = { timezone: string; today: string; now: string };
let clock: { at: number; value: Promise<Clock> } | null = null;

/** The hospital's zone and today's date there (asked again after a few minutes: days end). */
export function hospitalClock(): Promise<Clock> {
	if (!clock || Date.now() - clock.at > 5 * 60_000) {
		const value = api.get<Clock>('/api/clock');
		clock = { at: Date.now(), value };
		value.catch(() => (clock = null));
	}
	return clock.value;
}

// ——— How things read ———

const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const WEEKDAYS = DAY_NAMES.map((label, i) => ({ value: String(i + 1), label }));

const wallDate = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** The wall-clock "09:15" of an ISO time that carries the hospital's offset. */
export const clockTime = (iso: string) => iso.slice(11, 16);

/** "Tue 24 Nov 2026" for a YYYY-MM-DD or an ISO time with offset (the hospital's day). */
export function dayLabel(isoOrDate: string): string {
	const ymd = isoOrDate.slice(0, 10);
	return /^\d{4}-\d{2}-\d{2}$/.test(ymd) ? wallDate.format(new Date(`${ymd}T12:00:00Z`)) : isoOrDate;
}

/** "Tue 24 Nov 2026, 09:15" in the hospital's zone. */
export const whenLabel = (iso: string) => `${dayLabel(iso)}, ${clockTime(iso)}`;

/** "UTC+05:00" from an ISO time with offset. */
export function offsetLabel(iso: string | undefined): string {
	const off = iso?.slice(19) ?? '';
	return off === 'Z' || off === '+00:00' ? 'UTC' : off ? `UTC${off}` : '';
}

/** An instant (e.g. a check-in time, stored in UTC) as "09:12" in the hospital's zone. */
export function timeInZone(iso: string | undefined, timeZone: string | undefined): string {
	if (!iso) return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return '—';
	return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(d);
}

/** An instant in the hospital's zone: "09:12" on the hospital's today, else "20 Nov 2026, 09:12". */
export function momentInZone(iso: string | undefined, clock: Pick<Clock, 'timezone' | 'today'> | null): string {
	if (!iso) return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()) || !clock) return '—';
	const ymd = new Intl.DateTimeFormat('en-CA', { timeZone: clock.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
	const time = timeInZone(iso, clock.timezone);
	return ymd === clock.today ? time : `${dayLabel(ymd).replace(/^\w+, /, '')}, ${time}`;
}

/** "4 min", "1 h 05 min" since an instant (never negative). */
export function waitedFor(sinceIso: string | undefined, now: number): string {
	if (!sinceIso) return '—';
	const secs = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 1000));
	if (secs < 60) return `${secs} s`;
	const mins = Math.floor(secs / 60);
	if (mins < 60) return `${mins} min`;
	return `${Math.floor(mins / 60)} h ${String(mins % 60).padStart(2, '0')} min`;
}

export function money(cents: number, currency: string): string {
	try {
		return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
	} catch {
		return `${(cents / 100).toFixed(2)} ${currency}`;
	}
}

export type Tone = 'neutral' | 'accent' | 'success' | 'warning' | 'danger';
export const STATUS_TONE: Record<AppointmentStatus, Tone> = {
	PENDING: 'warning',
	CONFIRMED: 'accent',
	RESCHEDULED: 'accent',
	CHECKED_IN: 'success',
	CONSULTING: 'success',
	COMPLETED: 'neutral',
	CANCELLED: 'neutral',
	MISSED: 'danger'
};
export { STATUS_LABEL };

export const PRIORITY_LABEL: Record<Priority, string> = { normal: 'Normal', high: 'High', critical: 'Critical' };
export const PRIORITY_TONE: Record<Priority, Tone> = { normal: 'neutral', high: 'warning', critical: 'danger' };
export const PRIORITY_OPTIONS = PRIORITIES.map((p) => ({ value: p, label: PRIORITY_LABEL[p] }));

/**
 * Whether `role` can move `a` to `to` now (check-in only on the appointment's day): the status
 * machine the server runs (`$lib/shared/appointment-status`); RESCHEDULED here means a move.
 */
export function can(role: Role, a: Pick<AppointmentView, 'status' | 'date'>, to: AppointmentStatus, today?: string): boolean {
	const verdict = appointmentTransition(a.status, to, role, { moving: to === 'RESCHEDULED', date: a.date, today });
	return verdict.ok && verdict.change;
}

/** Still ahead or under way (not finished, cancelled or missed). */
export const isOpen = (s: AppointmentStatus) => !['COMPLETED', 'CANCELLED', 'MISSED'].includes(s);

export const VITAL_FIELDS: { key: keyof Vitals; label: string; unit: string; step: string; min: number; max: number; integer: boolean }[] = [
	{ key: 'temperatureC', label: 'Temperature', unit: '°C', step: '0.1', min: 30, max: 45, integer: false },
	{ key: 'pulseBpm', label: 'Pulse', unit: 'bpm', step: '1', min: 20, max: 250, integer: true },
	{ key: 'spo2', label: 'SpO₂', unit: '%', step: '1', min: 50, max: 100, integer: true },
	{ key: 'systolic', label: 'Systolic', unit: 'mmHg', step: '1', min: 50, max: 260, integer: true },
	{ key: 'diastolic', label: 'Diastolic', unit: 'mmHg', step: '1', min: 30, max: 160, integer: true },
	{ key: 'weightKg', label: 'Weight', unit: 'kg', step: '0.1', min: 0.3, max: 400, integer: false }
];

// ——— Queue places, by sequence ———

/** A place in a doctor's queue and the announcement sequence it is as fresh as. */
export type QueuePlace = { position: number | undefined; seq: number };

/**
 * The newest queue place per appointment. Places come from `queue:position` events
 * (`seq`) and from fetches (`queueSeq`), and can arrive out of order: one with a lower
 * sequence than the place held is older news and is ignored (an equal one is taken: both
 * read the queue after the same announcement). Kept apart from the list, so an event that
 * comes before the list is loaded still wins over the older place a slow fetch returns.
 */
export class QueuePlaces {
	#held = new Map<string, QueuePlace>();

	/** Takes a place unless an older sequence than held; says whether it was taken. */
	offer(appointmentId: string, place: QueuePlace): boolean {
		const held = this.#held.get(appointmentId);
		if (held && place.seq < held.seq) return false;
		this.#held.set(appointmentId, place);
		return true;
	}

	get(appointmentId: string): QueuePlace | undefined {
		return this.#held.get(appointmentId);
	}

	/**
	 * A fetched appointment with the newest place known: its own, or a newer one heard. One
	 * fetched without a place (not waiting in the queue) is left as it is.
	 */
	settle<A extends Pick<AppointmentView, 'id' | 'queuePosition' | 'queueSeq'>>(a: A): A {
		if (a.queueSeq === undefined || this.offer(a.id, { position: a.queuePosition, seq: a.queueSeq })) return a;
		const held = this.#held.get(a.id)!;
		return { ...a, queuePosition: held.position, queueSeq: held.seq };
	}
}

// ——— Shared API calls ———

export async function changeAppointment(
	a: Pick<AppointmentView, 'id' | 'version'>,
	change: Record<string, unknown>
): Promise<AppointmentView> {
	return (await api.patch<{ appointment: AppointmentView }>(`/api/appointments/${a.id}`, { version: a.version, ...change })).appointment;
}

export async function freeSlotsOf(doctorId: string, date: string): Promise<Slot[]> {
	return (await api.get<{ slots: Slot[] }>(`/api/doctors/${doctorId}/slots`, { date })).slots;
}

// ——— The visit record (versioned form) ———

/** A prescription row as typed: every cell is text until it is saved. */
export type RxRow = { medicine: string; dosage: string; frequency: string; days: string };
export type VisitValues = {
	symptoms: string;
	diagnosis: string;
	treatment: string;
	notes: string;
	/** The rows as JSON, so the one form mechanism compares and keeps them like text. */
	prescriptions: string;
};

const rxJson = (rows: RxRow[]) => JSON.stringify(rows.map(({ medicine, dosage, frequency, days }) => ({ medicine, dosage, frequency, days })));
export const emptyRx = (): RxRow => ({ medicine: '', dosage: '', frequency: '', days: '' });
export const isBlankRx = (r: RxRow) => !r.medicine.trim() && !r.dosage.trim() && !r.frequency.trim() && !r.days.trim();

export function parseRx(json: string | undefined): RxRow[] {
	try {
		const v = JSON.parse(json || '[]') as RxRow[];
		return Array.isArray(v) ? v.map((r) => ({ ...emptyRx(), ...r })) : [];
	} catch {
		return [];
	}
}
export const writeRx = rxJson;

/** "Paracetamol 500 mg, every 6 hours, 5 days; …" for showing kept rows. */
export function describeRx(json: string): string {
	const rows = parseRx(json).filter((r) => !isBlankRx(r));
	if (!rows.length) return '(no prescriptions)';
	return rows.map((r) => `${r.medicine} ${r.dosage}, ${r.frequency}, ${r.days} day${r.days === '1' ? '' : 's'}`).join('; ');
}

const visitSnapshot = (r: MedicalRecordView): Snapshot<VisitValues> => ({
	version: r.version,
	updatedBy: r.updatedBy,
	updatedAt: r.updatedAt,
	values: {
		symptoms: r.symptoms ?? '',
		diagnosis: r.diagnosis ?? '',
		treatment: r.treatment ?? '',
		notes: r.notes ?? '',
		prescriptions: rxJson(r.prescriptions.map((p) => ({ ...p, days: String(p.days) })))
	}
});

function rxProblems(json: string): string | null {
	const rows = parseRx(json);
	for (const [i, r] of rows.entries()) {
		if (isBlankRx(r)) continue;
		const n = `Prescription ${i + 1}`;
		if (r.medicine.trim().length < 2) return `${n}: name the medicine.`;
		if (!r.dosage.trim()) return `${n}: give the dosage, e.g. 500 mg.`;
		if (!r.frequency.trim()) return `${n}: say how often, e.g. twice a day.`;
		const days = Number(r.days);
		if (!Number.isInteger(days) || days < 1 || days > 365) return `${n}: days must be a whole number from 1 to 365.`;
	}
	return null;
}

/** Typed prescription rows as the API takes them (blank rows dropped). */
export const rxBody = (json: string) =>
	parseRx(json)
		.filter((r) => !isBlankRx(r))
		.map((r) => ({ medicine: r.medicine.trim(), dosage: r.dosage.trim(), frequency: r.frequency.trim(), days: Number(r.days) }));

/**
 * How a form asks the prescriber about a medicine that matches a recorded allergy: the
 * server answers 409 ALLERGY_WARNING with the matches; the page shows them, and once the
 * prescriber confirms, the same save goes again with `acknowledgeAllergies`.
 */
export type AllergyGate = { confirmed(): boolean; warned(matches: AllergyMatch[]): void };
export const allergyMatchesOf = (err: unknown): AllergyMatch[] | null =>
	err instanceof ApiError && err.code === 'ALLERGY_WARNING' ? ((err.details as { matches?: AllergyMatch[] })?.matches ?? []) : null;

export function visitRecordForm(recordId: string, onSaved?: (record: MedicalRecordView) => void, gate?: AllergyGate): VersionedForm<VisitValues> {
	return new VersionedForm<VisitValues>({
		room: room.record('medical_record', recordId),
		fields: {
			symptoms: { label: 'Symptoms' },
			diagnosis: { label: 'Diagnosis' },
			treatment: { label: 'Treatment' },
			notes: { label: 'Notes' },
			prescriptions: { label: 'Prescriptions' }
		},
		load: async () => visitSnapshot((await api.get<{ record: MedicalRecordView }>(`/api/medical-records/${recordId}`)).record),
		save: async (version, changes) => {
			const body: Record<string, unknown> = { version };
			for (const [k, v] of Object.entries(changes)) body[k] = k === 'prescriptions' ? rxBody(v as string) : v;
			if (gate?.confirmed()) body.acknowledgeAllergies = true;
			let record: MedicalRecordView;
			try {
				({ record } = await api.patch<{ record: MedicalRecordView }>(`/api/medical-records/${recordId}`, body));
			} catch (err) {
				const matches = allergyMatchesOf(err);
				if (matches) gate?.warned(matches);
				throw err;
			}
			onSaved?.(record);
			return visitSnapshot(record);
		},
		validate: (changes) => {
			const out: Record<string, string> = {};
			if (changes.prescriptions !== undefined) {
				const p = rxProblems(changes.prescriptions);
				if (p) out.prescriptions = p;
			}
			for (const k of ['symptoms', 'diagnosis', 'treatment'] as const) {
				if ((changes[k]?.length ?? 0) > 4000) out[k] = 'must be at most 4000 characters';
			}
			if ((changes.notes?.length ?? 0) > 8000) out.notes = 'must be at most 8000 characters';
			return out;
		}
	});
}

// ——— A doctor's availability and status (versioned form) ———

export type AvailabilityValues = {
	status: string;
	slotMinutes: string;
	/** The weekly hours as JSON of `WeeklySlot` rows (day as text while editing). */
	weekly: string;
};
export type WeeklyRow = { day: string; start: string; end: string };

export const DOCTOR_STATUS_OPTIONS = [
	{ value: 'available', label: 'Available' },
	{ value: 'busy', label: 'Busy' },
	{ value: 'off', label: 'Off duty' }
];
export const SLOT_LENGTHS = [10, 15, 20, 30, 45, 60].map((m) => ({ value: String(m), label: `${m} minutes` }));

export const writeWeekly = (rows: WeeklyRow[]) => JSON.stringify(rows.map(({ day, start, end }) => ({ day, start, end })));
export function parseWeekly(json: string | undefined): WeeklyRow[] {
	try {
		const v = JSON.parse(json || '[]') as WeeklyRow[];
		return Array.isArray(v) ? v.map((r) => ({ day: String(r.day), start: r.start ?? '', end: r.end ?? '' })) : [];
	} catch {
		return [];
	}
}
/** "Mon–Fri 09:00–17:00 · Sat 10:00–13:00": consecutive days with the same hours together. */
export function describeWeekly(json: string): string {
	const rows = parseWeekly(json);
	if (!rows.length) return '(no working hours)';
	const hoursOf = (day: number) =>
		rows
			.filter((r) => Number(r.day) === day)
			.map((r) => `${r.start}–${r.end}`)
			.sort()
			.join(', ');
	const short = (day: number) => DAY_NAMES[day - 1]!.slice(0, 3);
	const parts: string[] = [];
	for (let day = 1; day <= 7; day++) {
		const hours = hoursOf(day);
		if (!hours) continue;
		let last = day;
		while (last < 7 && hoursOf(last + 1) === hours) last++;
		parts.push(`${last > day ? `${short(day)}–${short(last)}` : short(day)} ${hours}`);
		day = last;
	}
	return parts.join(' · ');
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function weeklyProblems(json: string, slotMinutes: number): string | null {
	const rows = parseWeekly(json);
	for (const [i, r] of rows.entries()) {
		const n = `Row ${i + 1}`;
		if (!/^\d\d:\d\d$/.test(r.start) || !/^\d\d:\d\d$/.test(r.end)) return `${n}: give a start and an end time.`;
		if (minutes(r.end) <= minutes(r.start)) return `${n}: the end must be after the start.`;
		if (minutes(r.end) - minutes(r.start) < slotMinutes) return `${n}: shorter than one ${slotMinutes}-minute slot.`;
		for (const [j, o] of rows.entries()) {
			if (j > i && o.day === r.day && minutes(o.start) < minutes(r.end) && minutes(r.start) < minutes(o.end)) {
				return `Rows ${i + 1} and ${j + 1} overlap on ${DAY_NAMES[Number(r.day) - 1]}.`;
			}
		}
	}
	return null;
}

const availabilitySnapshot = (d: DoctorView): Snapshot<AvailabilityValues> => ({
	version: d.version,
	updatedBy: d.updatedBy,
	updatedAt: d.updatedAt,
	values: {
		status: d.status,
		slotMinutes: String(d.slotMinutes),
		weekly: writeWeekly(d.weekly.map((w) => ({ day: String(w.day), start: w.start, end: w.end })))
	}
});

export function availabilityForm(doctorId: string, onLoad?: (doctor: DoctorView) => void): VersionedForm<AvailabilityValues> {
	// Save needs the whole schedule even when only one part changed: the last stored copy.
	let stored: Snapshot<AvailabilityValues> | null = null;
	const take = (d: DoctorView) => {
		onLoad?.(d);
		return (stored = availabilitySnapshot(d));
	};
	return new VersionedForm<AvailabilityValues>({
		room: room.record('doctor', doctorId),
		fields: {
			status: { label: 'Status' },
			slotMinutes: { label: 'Slot length', stored: 'slot_minutes' },
			weekly: { label: 'Weekly hours' }
		},
		load: async () => take((await api.get<{ doctor: DoctorView }>(`/api/doctors/${doctorId}`)).doctor),
		save: async (version, changes) => {
			let v = version;
			let doctor: DoctorView | null = null;
			// The schedule first: it is the part the server may still refuse.
			if (changes.slotMinutes !== undefined || changes.weekly !== undefined) {
				const weekly = parseWeekly(changes.weekly ?? stored?.values.weekly).map((r) => ({ day: Number(r.day), start: r.start, end: r.end }));
				const slotMinutes = Number(changes.slotMinutes ?? stored?.values.slotMinutes);
				doctor = (await api.put<{ doctor: DoctorView }>(`/api/doctors/${doctorId}/availability`, { version: v, slotMinutes, weekly })).doctor;
				v = doctor.version;
			}
			if (changes.status !== undefined) {
				doctor = (await api.patch<{ doctor: DoctorView }>(`/api/doctors/${doctorId}`, { version: v, status: changes.status })).doctor;
			}
			return take(doctor!);
		},
		validate: (changes, values) => {
			const out: Record<string, string> = {};
			const slot = Number(values.slotMinutes);
			if (!Number.isInteger(slot) || slot < 5 || slot > 120) out.slotMinutes = 'choose a slot length';
			const p = weeklyProblems(values.weekly, slot || 15);
			if (p && (changes.weekly !== undefined || changes.slotMinutes !== undefined)) out.weekly = p;
			return out;
		}
	});
}
