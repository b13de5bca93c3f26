import type { Ctx } from '../src/lib/server/context';
import { systemCaller, type Caller } from '../src/lib/server/actor';
import { actorOf } from '../src/lib/server/auth/sessions';
import { AppError } from '../src/lib/server/errors';
import { createUser, updateUser, type NewUser } from '../src/lib/server/services/users';
import { seedCatalogue } from '../src/lib/server/services/catalogue';
import { freeSlots, updateAvailability } from '../src/lib/server/services/doctors';
import { bookAppointment, changeAppointment, listAppointments, recordVitals, type AppointmentChange } from '../src/lib/server/services/appointments';
import { readMedicalRecord, updateMedicalRecord } from '../src/lib/server/services/medical-records';
import { createMedicine, receiveBatch, searchMedicines } from '../src/lib/server/services/pharmacy';
import type { MedicineCreate } from '../src/lib/shared/pharmacy';
import { getUserByEmail, type UserItem } from '../src/lib/server/repositories/users';
import { DEFAULT_WEEKLY, getDoctor, type WeeklySlot } from '../src/lib/server/repositories/doctors';
import { BLOOD_GROUPS } from '../src/lib/shared/roles';
import { SPECIALIZATIONS } from '../src/lib/shared/schemas';
import type { AppointmentStatus, AppointmentView, Priority, Vitals } from '../src/lib/shared/appointments';
import type { Prescription } from '../src/lib/shared/views';
import { addDays, dateIn } from '../src/lib/shared/time';
import { seedBloodBank } from './demo-blood-bank';
import { seedSites } from './demo-sites';
import { listHospitals } from '../src/lib/server/services/hospitals';

/**
 * The demo hospital behind `npm run seed`: its people, the services catalogue, a roster, and
 * a working day — today's and tomorrow's appointments in every state, spread over several
 * doctors. Deterministic (the same people and plan every run) and idempotent: what exists is
 * left as it is, so a second run creates nothing. Everything goes through the services as the
 * staff member who would do it: front desk books, confirms and cancels, a nurse checks in
 * (setting the triage priority) and takes vitals, the doctor consults, writes the record and
 * completes the visit.
 */

export type Progress = { tick(done: number): void; done(note?: string): void };
export type SeedOptions = {
	patients: number;
	password: string;
	/** A progress bar per stage (the CLI's); silent when omitted. */
	progress?: (label: string, total: number) => Progress;
	/** A line about a stage without a bar. */
	log?: (line: string) => void;
};
export type Tally = { created: number; existed: number };
export type SeedReport = {
	accounts: Tally;
	services: Tally;
	/** Doctors given the demo roster (only those still on the default hours). */
	rosters: Tally;
	today: DayReport;
	tomorrow: DayReport;
	/** The dispensary's formulary and its batches. */
	medicines: Tally;
	batches: Tally;
	/** Blood units of the demo blood bank (bags by number). */
	bloodUnits: Tally;
	hospitals: Tally & { ventilators: number };
	logins: string[];
};
export type DayReport = Tally & { date: string; /** planned visits with no free slot left that day */ noSlot: number };

const silent = (): Progress => ({ tick() {}, done() {} });

/** Weekly hours as comparable text (DynamoDB hands map attributes back in its own order). */
const hours = (weekly: WeeklySlot[]) => weekly.map((w) => `${w.day} ${w.start}-${w.end}`).sort().join(', ');

// ——— People ———

const FIRST = ['Amara', 'Ben', 'Chen', 'Diego', 'Elif', 'Farah', 'Gabriel', 'Hana', 'Ibrahim', 'Jana', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Uma', 'Victor', 'Wen', 'Ximena', 'Yusuf', 'Zara', 'Aiko', 'Bruno', 'Chloe', 'Dev', 'Esme', 'Felix', 'Grace', 'Hugo', 'Isla', 'Jonas', 'Kiran', 'Leila', 'Marco', 'Noor'];
const LAST = ['Adeyemi', 'Brown', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Mensah', 'Nakamura', 'Okafor', 'Patel', 'Quispe', 'Rossi', 'Singh', 'Tanaka', 'Usman', 'Varga', 'Wang', 'Xu', 'Yilmaz', 'Zhou', 'Alvarez', 'Becker', 'Costa', 'Das'];

const email = (role: NewUser['role'], i: number, n: number) => `${role.replace('_', '-')}${n > 1 ? i : ''}@demo.medtrack.local`;
const DOCTORS = 12;
const DEMO_LOGINS = ['admin', 'doctor1', 'nurse1', 'front-desk1', 'pharmacist', 'paramedic', 'patient'].map((l) => `${l}@demo.medtrack.local`);

/**
 * Where each demo staff member works (README "Logging in" lists it): most at Central, a few at
 * Riverside and Northgate so each site has its own doctors, nurses and front desk. Administrators
 * oversee every site and the paramedic rides an ambulance, so neither is tied to one.
 */
export const DEMO_STAFF_SITES: Record<'doctor' | 'nurse' | 'front_desk' | 'pharmacist', (i: number) => string> = {
	doctor: (i) => (i <= 8 ? 'MedTrack Central' : i <= 10 ? 'MedTrack Riverside' : 'MedTrack Northgate'),
	nurse: (i) => (i <= 4 ? 'MedTrack Central' : i === 5 ? 'MedTrack Riverside' : 'MedTrack Northgate'),
	front_desk: (i) => (i === 1 ? 'MedTrack Central' : 'MedTrack Riverside'),
	pharmacist: () => 'MedTrack Central'
};
export const demoSiteOf = (role: keyof typeof DEMO_STAFF_SITES, i: number) => DEMO_STAFF_SITES[role](i);

/** Everyone in the demo hospital, the same every run (a small seeded PRNG). */
export function demoPeople(patients: number, password: string): NewUser[] {
	let state = 20261123;
	const rand = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
	const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
	const people: NewUser[] = [];
	const staff = (role: NewUser['role'], n: number, extra: (i: number) => Partial<NewUser> = () => ({})) => {
		for (let i = 1; i <= n; i++) {
			const first = pick(FIRST);
			const last = pick(LAST);
			people.push({
				role,
				name: role === 'doctor' ? `Dr. ${first} ${last}` : `${first} ${last}`,
				email: email(role, i, n),
				password,
				phone: `+1202555${String(1000 + people.length).slice(-4)}`,
				...extra(i)
			});
		}
	};
	staff('admin', 1);
	staff('doctor', DOCTORS, (i) => ({ specialization: SPECIALIZATIONS[(i - 1) % SPECIALIZATIONS.length], licenceNumber: `MED-${String(10400 + i)}` }));
	staff('nurse', 6, (i) => ({ department: ['Emergency', 'Outpatients', 'ICU'][i % 3] }));
	staff('front_desk', 2);
	staff('pharmacist', 1);
	staff('paramedic', 1);
	for (let i = 1; i <= patients; i++) {
		const first = pick(FIRST);
		const last = pick(LAST);
		const y = 1940 + Math.floor(rand() * 80);
		const m = 1 + Math.floor(rand() * 12);
		const d = 1 + Math.floor(rand() * 28);
		people.push({
			role: 'patient',
			name: `${first} ${last}`,
			email: i === 1 ? 'patient@demo.medtrack.local' : `${first}.${last}.${i}@patients.demo`.toLowerCase(),
			password,
			phone: `+1202555${String(i).padStart(4, '0').slice(-4)}`,
			dateOfBirth: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
			bloodGroup: pick(BLOOD_GROUPS)
		});
	}
	return people;
}

// ——— The working day ———

type Target = Extract<AppointmentStatus, 'PENDING' | 'CONFIRMED' | 'CHECKED_IN' | 'CONSULTING' | 'COMPLETED' | 'CANCELLED'>;

/** Each doctor's visits of the day, earliest slot first (further along earlier in the day). */
const TODAY: Target[][] = [
	['COMPLETED', 'CONSULTING', 'CHECKED_IN', 'CHECKED_IN', 'CHECKED_IN', 'CONFIRMED', 'CONFIRMED', 'PENDING', 'PENDING', 'CANCELLED'],
	['COMPLETED', 'COMPLETED', 'CONSULTING', 'CHECKED_IN', 'CHECKED_IN', 'CONFIRMED', 'PENDING', 'CANCELLED'],
	['COMPLETED', 'CHECKED_IN', 'CHECKED_IN', 'CONFIRMED', 'CONFIRMED', 'PENDING', 'PENDING'],
	['COMPLETED', 'CONSULTING', 'CHECKED_IN', 'PENDING', 'CANCELLED'],
	['CHECKED_IN', 'CHECKED_IN', 'CONFIRMED', 'PENDING', 'PENDING'],
	['COMPLETED', 'CHECKED_IN', 'CONFIRMED', 'PENDING']
];
const TOMORROW: Target[][] = [
	['CONFIRMED', 'CONFIRMED', 'PENDING', 'PENDING', 'CANCELLED'],
	['CONFIRMED', 'PENDING', 'PENDING'],
	['CONFIRMED', 'PENDING', 'CANCELLED'],
	['PENDING', 'PENDING', 'CONFIRMED'],
	['CONFIRMED', 'PENDING'],
	['PENDING', 'CONFIRMED', 'PENDING'],
	['CONFIRMED', 'PENDING'],
	['PENDING', 'CANCELLED']
];
/** The triage a nurse gives at check-in, in turn. */
const TRIAGE: Priority[] = ['normal', 'high', 'normal', 'critical', 'normal', 'normal', 'high'];

/** The demo clinic runs every day, 07:00–22:00 in the hospital's zone, in 15-minute slots. */
const ROSTER: WeeklySlot[] = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '07:00', end: '22:00' }));

type Case = { symptoms: string; diagnosis: string; treatment: string; prescriptions: Prescription[] };
const CASES: Case[] = [
	{ symptoms: 'Sore throat and fever since Monday', diagnosis: 'Viral pharyngitis', treatment: 'Fluids, rest, throat lozenges', prescriptions: [{ medicine: 'Paracetamol', dosage: '500 mg', frequency: 'every 6 hours as needed', days: 5 }] },
	{ symptoms: 'Chest tightness when climbing stairs', diagnosis: 'Stable angina, to be confirmed by stress test', treatment: 'Stress test booked; avoid heavy exertion', prescriptions: [{ medicine: 'Aspirin', dosage: '75 mg', frequency: 'once a day', days: 30 }] },
	{ symptoms: 'Itchy red rash on both forearms', diagnosis: 'Contact dermatitis', treatment: 'Avoid the new detergent; emollient twice a day', prescriptions: [{ medicine: 'Hydrocortisone cream 1%', dosage: 'thin layer', frequency: 'twice a day', days: 7 }] },
	{ symptoms: 'Knee pain after a fall while running', diagnosis: 'Medial collateral ligament sprain', treatment: 'Rest, ice, compression; physiotherapy referral', prescriptions: [{ medicine: 'Ibuprofen', dosage: '400 mg', frequency: 'three times a day with food', days: 5 }] },
	{ symptoms: 'Headaches every morning for a week', diagnosis: 'Tension-type headache', treatment: 'Sleep routine, screen breaks; headache diary', prescriptions: [] },
	{ symptoms: 'Persistent dry cough for three weeks', diagnosis: 'Post-viral cough', treatment: 'Honey and warm fluids; chest X-ray if not better in two weeks', prescriptions: [] },
	{ symptoms: 'Child with ear pain and a temperature', diagnosis: 'Acute otitis media', treatment: 'Pain relief; review in 3 days', prescriptions: [{ medicine: 'Amoxicillin', dosage: '250 mg', frequency: 'three times a day', days: 5 }] },
	{ symptoms: 'Dizziness when standing up quickly', diagnosis: 'Orthostatic hypotension', treatment: 'Increase fluids; rise slowly; blood tests', prescriptions: [] }
];

function vitalsFor(i: number): Vitals {
	return {
		temperatureC: Math.round((36.4 + (i % 7) * 0.3) * 10) / 10,
		pulseBpm: 64 + ((i * 7) % 36),
		spo2: 94 + (i % 6),
		systolic: 112 + ((i * 5) % 34),
		diastolic: 70 + ((i * 3) % 18)
	};
}

/** What the front desk notes for a booking beyond time and symptoms: the patient's own sense of urgency. */
const BOOKING_EXTRAS = { reportedUrgency: 'normal' } as const;

const callerOf = (u: UserItem): Caller => ({ actor: actorOf(u), requestId: 'cli:seed', ip: '127.0.0.1' });

/** Runs a create; false when it turned out to exist already (a concurrent run got there first). */
async function createdNow(create: () => Promise<unknown>): Promise<boolean> {
	try {
		await create();
		return true;
	} catch (err) {
		if (err instanceof AppError && err.code === 'ALREADY_EXISTS') return false;
		throw err;
	}
}

async function inParallel<T>(items: T[], workers: number, run: (item: T) => Promise<void>): Promise<void> {
	const queue = [...items];
	await Promise.all(
		Array.from({ length: Math.min(workers, queue.length) }, async () => {
			for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
		})
	);
}

export async function seedDemoHospital(ctx: Ctx, opts: SeedOptions): Promise<SeedReport> {
	const progress = opts.progress ?? silent;
	const people = demoPeople(opts.patients, opts.password);

	// 1. Accounts, as the CLI creates them (argon2 is the slow part: a few at a time).
	const accounts: Tally = { created: 0, existed: 0 };
	const bar = progress('accounts', people.length);
	let done = 0;
	await inParallel(people, 4, async (p) => {
		// A known account is skipped before a password is hashed for it (the slow part).
		if (await getUserByEmail(ctx, p.email)) accounts.existed++;
		else if (await createdNow(() => createUser(ctx, systemCaller('cli:seed'), p, { allowSuperAdmin: true }))) accounts.created++;
		else accounts.existed++;
		bar.tick(++done);
	});
	bar.done(`${accounts.created} created, ${accounts.existed} already there`);

	const services = await seedCatalogue(ctx, systemCaller('cli:seed'));
	opts.log?.(`services catalogue: ${services.created} created, ${services.existed} already there`);

	const user = async (address: string) => {
		const u = await getUserByEmail(ctx, address);
		if (!u) throw new Error(`seed: ${address} is missing`);
		return u;
	};
	const admin = callerOf(await user('admin@demo.medtrack.local'));
	const frontDesk = callerOf(await user(email('front_desk', 1, 2)));
	const nurses = await Promise.all([1, 2].map(async (i) => callerOf(await user(email('nurse', i, 6)))));
	const doctors = await Promise.all(Array.from({ length: DOCTORS }, async (_, i) => callerOf(await user(email('doctor', i + 1, DOCTORS)))));
	const patientIds = (await Promise.all(people.filter((p) => p.role === 'patient').map((p) => user(p.email)))).map((u) => u.patient_id!);

	// 2. The roster, set by the administrator: only doctors still on the default hours.
	const rosters: Tally = { created: 0, existed: 0 };
	for (const d of doctors) {
		const row = await getDoctor(ctx, d.actor!.doctorId!);
		if (!row) throw new Error('seed: a demo doctor has no doctor record');
		if (hours(row.weekly) !== hours(DEFAULT_WEEKLY)) {
			rosters.existed++;
			continue;
		}
		await updateAvailability(ctx, admin, row.id, { version: row.version, slotMinutes: 15, weekly: ROSTER });
		rosters.created++;
	}
	opts.log?.(`doctors' roster (every day ${ROSTER[0]!.start}–${ROSTER[0]!.end}): ${rosters.created} set, ${rosters.existed} kept as they were`);

	// 3. Today and tomorrow.
	const today = dateIn(ctx.config.timezone);
	const days = [
		{ date: today, plan: TODAY, firstPatient: 1, stride: 1, firstSlot: 0 },
		{ date: addDays(today, 1), plan: TOMORROW, firstPatient: 41, stride: 3, firstSlot: 6 }
	];
	const total = days.reduce((n, d) => n + d.plan.flat().length, 0);
	const apptBar = progress('appointments', total);
	let handled = 0;
	const reports: DayReport[] = [];
	let n = 0; // running number of the visit: picks its case, vitals and triage
	for (const day of days) {
		const report: DayReport = { date: day.date, created: 0, existed: 0, noSlot: 0 };
		const booked = await listAppointments(ctx, frontDesk, { date: day.date });
		const byPair = new Map(booked.map((a) => [`${a.patientId}|${a.doctorId}`, a]));
		// A patient holds one appointment at a time: remember whose times are taken this day.
		const busy = new Map<string, { start: string; end: string }[]>();
		for (const a of booked) busy.set(a.patientId, [...(busy.get(a.patientId) ?? []), { start: a.start, end: a.end }]);
		const freeFor = (patientId: string, t: { start: string; end: string }) =>
			!(busy.get(patientId) ?? []).some((b) => Date.parse(b.start) < Date.parse(t.end) && Date.parse(t.start) < Date.parse(b.end));
		let p = day.firstPatient;
		const jobs: (() => Promise<void>)[] = [];
		for (const [di, visits] of day.plan.entries()) {
			const doctor = doctors[di]!;
			const doctorId = doctor.actor!.doctorId!;
			const row = (await getDoctor(ctx, doctorId))!;
			const slots = (await freeSlots(ctx, row, day.date)).filter((_, i) => i >= day.firstSlot && (i - day.firstSlot) % day.stride === 0);
			let slot = 0;
			for (const [vi, target] of visits.entries()) {
				// The demo patient (patient@…) waits in doctor 1's queue today.
				const patientIndex = day.date === today && di === 0 && target === 'CHECKED_IN' && vi === visits.indexOf('CHECKED_IN') ? 0 : p++ % patientIds.length;
				const patientId = patientIds[patientIndex]!;
				const k = n++;
				const existing = byPair.get(`${patientId}|${doctorId}`);
				let start: string | undefined;
				if (!existing) {
					while (slot < slots.length && !freeFor(patientId, slots[slot]!)) slot++;
					const t = slots[slot++];
					if (t) {
						start = t.start;
						busy.set(patientId, [...(busy.get(patientId) ?? []), { start: t.start, end: t.end }]);
					}
				}
				jobs.push(async () => {
					if (existing) {
						report.existed++;
					} else if (!start) {
						report.noSlot++;
					} else {
						const c = CASES[k % CASES.length]!;
						const a = await bookAppointment(ctx, frontDesk, { doctorId, start, symptoms: c.symptoms, patientId, ...BOOKING_EXTRAS });
						await bringTo(ctx, a, target, { frontDesk, nurse: nurses[k % nurses.length]!, doctor, triage: TRIAGE[k % TRIAGE.length]!, vitals: vitalsFor(k), c, withVitals: vi !== visits.lastIndexOf('CHECKED_IN') });
						report.created++;
					}
					apptBar.tick(++handled);
				});
			}
		}
		await inParallel(jobs, 4, (job) => job());
		reports.push(report);
	}
	apptBar.done(reports.map((r) => `${r.date}: ${r.created} booked, ${r.existed} already there${r.noSlot ? `, ${r.noSlot} without a free slot` : ''}`).join(' · '));

	// 4. The dispensary: the formulary and its batches, received by the pharmacist.
	const pharmacy = await seedPharmacy(ctx, callerOf(await user(email('pharmacist', 1, 1))), today);
	opts.log?.(`pharmacy: ${pharmacy.medicines.created} medicines and ${pharmacy.batches.created} batches added, ${pharmacy.medicines.existed} and ${pharmacy.batches.existed} already there`);


	// 5. The blood bank: stock of every group and component, one of them critical.
	const bloodUnits = await seedBloodBank(ctx, admin);
	opts.log?.(`blood bank: ${bloodUnits.created} units added, ${bloodUnits.existed} already there`);

	// 6. The sites: three hospitals with beds, ICU beds and named ventilators (three on demo patients), for the capacity page and the paramedic.
	const hospitals = await seedSites(ctx, admin, patientIds.slice(0, 3));
	opts.log?.(`hospitals: ${hospitals.created} added, ${hospitals.existed} already there, ${hospitals.ventilators} ventilators registered`);

	// 7. The staff work at a site (see DEMO_STAFF_SITES): they answer that site's ambulance alerts, nurses change its beds and ventilators.
	const siteIds = new Map((await listHospitals(ctx, admin)).map((h) => [h.name, h.id]));
	for (const [role, n] of [['doctor', DOCTORS], ['nurse', 6], ['front_desk', 2], ['pharmacist', 1]] as const) {
		for (let i = 1; i <= n; i++) {
			const u = await user(email(role, i, n));
			const site = siteIds.get(demoSiteOf(role, i));
			if (site && !u.hospital_id) await updateUser(ctx, admin, u.id, { version: u.version, hospitalId: site });
		}
	}

	return { accounts, services, rosters, today: reports[0]!, tomorrow: reports[1]!, ...pharmacy, bloodUnits, hospitals, logins: DEMO_LOGINS };
}

// ——— Pharmacy ———

/**
 * The demo formulary: the medicines the demo visits prescribe and a few more, each with
 * batches (days until expiry, from the day of the first seed). Salbutamol is below its
 * threshold and one Amoxicillin batch expires within a week, so the pharmacist's alerts have
 * something to show.
 */
const FORMULARY: (MedicineCreate & { batches: [batchNumber: string, quantity: number, days: number][] })[] = [
	{ name: 'Paracetamol', form: 'tablet', strength: '500 mg', threshold: 100, batches: [['PCM-2411', 240, 120], ['PCM-2502', 400, 420]] },
	{ name: 'Ibuprofen', form: 'tablet', strength: '400 mg', threshold: 60, batches: [['IBU-2409', 180, 200]] },
	{ name: 'Amoxicillin', form: 'capsule', strength: '250 mg', threshold: 50, batches: [['AMX-2406', 30, 6], ['AMX-2412', 120, 300]] },
	{ name: 'Aspirin', form: 'tablet', strength: '75 mg', threshold: 80, batches: [['ASP-2410', 300, 365]] },
	{ name: 'Hydrocortisone cream 1%', form: 'cream', strength: '1%', threshold: 10, batches: [['HCC-2408', 25, 240]] },
	{ name: 'Salbutamol', form: 'inhaler', strength: '100 µg', threshold: 20, batches: [['SAL-2405', 6, 150]] },
	{ name: 'Metformin', form: 'tablet', strength: '500 mg', threshold: 100, batches: [['MET-2411', 500, 500]] },
	{ name: 'Omeprazole', form: 'capsule', strength: '20 mg', threshold: 40, batches: [['OME-2410', 90, 25], ['OME-2503', 140, 380]] }
];

async function seedPharmacy(ctx: Ctx, pharmacist: Caller, today: string): Promise<{ medicines: Tally; batches: Tally }> {
	const medicines: Tally = { created: 0, existed: 0 };
	const batches: Tally = { created: 0, existed: 0 };
	for (const m of FORMULARY) {
		const { batches: lots, ...medicine } = m;
		const found = (await searchMedicines(ctx, pharmacist, { prefix: m.name, limit: 50 })).items.find((x) => x.name === m.name && x.strength === m.strength);
		const id = found?.id ?? (await createMedicine(ctx, pharmacist, medicine)).id;
		medicines[found ? 'existed' : 'created']++;
		for (const [batchNumber, quantity, days] of lots) {
			const made = await createdNow(() => receiveBatch(ctx, pharmacist, id, { batchNumber, quantity, expiresOn: addDays(today, days) }));
			batches[made ? 'created' : 'existed']++;
		}
	}
	return { medicines, batches };
}

type Staff = { frontDesk: Caller; nurse: Caller; doctor: Caller; triage: Priority; vitals: Vitals; c: Case; withVitals: boolean };

/** Takes a fresh booking to its planned state, each step by the person who would do it. */
async function bringTo(ctx: Ctx, booked: AppointmentView, target: Target, s: Staff): Promise<void> {
	let a = booked;
	const change = async (by: Caller, c: Omit<AppointmentChange, 'version'>) => {
		a = await changeAppointment(ctx, by, a.id, { version: a.version, ...c });
	};
	if (target === 'PENDING') return;
	if (target === 'CANCELLED') return change(s.frontDesk, { status: 'CANCELLED', reason: 'The patient called to cancel.' });
	await change(s.frontDesk, { status: 'CONFIRMED' });
	if (target === 'CONFIRMED') return;
	await change(s.nurse, { status: 'CHECKED_IN', priority: s.triage });
	// One arrival per doctor is left for the nurse to take vitals from.
	if (s.withVitals || target !== 'CHECKED_IN') a = await recordVitals(ctx, s.nurse, a.id, { version: a.version, ...s.vitals });
	if (target === 'CHECKED_IN') return;
	await change(s.doctor, { status: 'CONSULTING' });
	const record = target === 'COMPLETED'
		? { diagnosis: s.c.diagnosis, treatment: s.c.treatment, prescriptions: s.c.prescriptions, notes: 'Review if not better.' }
		: { diagnosis: `Working diagnosis: ${s.c.diagnosis.toLowerCase()}` };
	// The doctor opens the visit record (an audited read), then writes it.
	const opened = await readMedicalRecord(ctx, s.doctor, a.medicalRecordId!);
	await updateMedicalRecord(ctx, s.doctor, opened.id, { version: opened.version, ...record });
	if (target === 'CONSULTING') return;
	await change(s.doctor, { status: 'COMPLETED' });
}
