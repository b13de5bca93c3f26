import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, ApiClient, type TestApp } from '../fixtures/app';
import { morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, countItems, scanAll } from './helpers';
import { rebuildAnalytics } from '../../src/lib/server/services/analytics';
import { seedDemoHospital, type SeedReport } from '../../scripts/demo-hospital';
import { addDays } from '../../src/lib/shared/time';

/**
 * `npm run seed` leaves a working day: today's queues, arrivals and board have people in
 * every state, tomorrow is booked, each step was taken by the staff member who would take
 * it, and a second run creates nothing.
 */
const PASSWORD = 'Demo-Seed-Passw0rd!';

let app: TestApp;
let today: string;
let first: SeedReport;

async function as(email: string): Promise<ApiClient> {
	const client = app.client();
	const res = await client.post('/api/auth/login', { email, password: PASSWORD });
	if (res.status !== 200) throw new Error(`login ${email}: ${JSON.stringify(res.body)}`);
	return client;
}

type Appt = { id: string; status: string; priority: string; doctorId: string; patientName: string; vitals?: unknown; medicalRecordId?: string };
const dayOf = async (client: ApiClient, date: string) => (await client.get<{ appointments: Appt[] }>(`/api/appointments?date=${date}`)).body.appointments;

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	first = await seedDemoHospital(app.ctx, { patients: 12, password: PASSWORD });
}, 180_000);

afterAll(async () => {
	await app?.close();
});

describe('the demo seed', () => {
	it('leaves every seeded patient findable by any word of the name', async () => {
		const desk = await as('front-desk1@demo.medtrack.local');
		const me = await (await as('patient@demo.medtrack.local')).get<{ user: { name: string } }>('/api/me');
		const name = me.body.user.name;
		const last = name.split(' ').at(-1)!;
		const r = await desk.get<{ patients: { name: string }[] }>(`/api/patients/search?q=${encodeURIComponent(last.slice(0, 3).toUpperCase())}`);
		expect(r.status).toBe(200);
		expect(r.body.patients.map((p) => p.name)).toContain(name);
	});

	it('gives every demo doctor the roster, so there is a clinic day whatever the weekday', async () => {
		expect(first.rosters).toEqual({ created: 12, existed: 0 });
		const desk = await as('front-desk1@demo.medtrack.local');
		const doctors = (await desk.get<{ doctors: { weekly: { day: number }[] }[] }>('/api/doctors')).body.doctors;
		expect(doctors).toHaveLength(12);
		for (const d of doctors) expect(new Set(d.weekly.map((w) => w.day))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
	});

	it('books today in every state over several doctors, with a slot for every planned visit', async () => {
		expect(first.today.date).toBe(today);
		expect(first.today.created).toBeGreaterThan(20);
		expect(first.today.noSlot).toBe(0);
		// The nurse on today's shift has today's patients in care, so she sees their vitals too.
		const day = await dayOf(await as('nurse1@demo.medtrack.local'), today);
		const statuses = new Set(day.map((a) => a.status));
		for (const s of ['PENDING', 'CONFIRMED', 'CHECKED_IN', 'CONSULTING', 'COMPLETED', 'CANCELLED']) expect(statuses, s).toContain(s);
		expect(new Set(day.map((a) => a.doctorId)).size).toBeGreaterThanOrEqual(5);

		const arrived = day.filter((a) => a.status === 'CHECKED_IN');
		expect(arrived.filter((a) => a.vitals).length).toBeGreaterThan(0);
		expect(arrived.some((a) => !a.vitals)).toBe(true); // some left for the nurse
		expect(new Set(arrived.map((a) => a.priority)).size).toBeGreaterThan(1);
		for (const a of day.filter((x) => x.status === 'CONSULTING' || x.status === 'COMPLETED')) expect(a.medicalRecordId).toBeTruthy();
	});

	it('doctor 1’s live queue has people waiting, the demo patient among them, and the visit in progress has a record', async () => {
		const doctor = await as('doctor1@demo.medtrack.local');
		const me = (await doctor.get('/api/me')).body.user;
		const items = (await doctor.get<{ queue: Appt[] }>(`/api/doctors/${me.doctorId}/queue`)).body.queue;
		expect(items.filter((a) => a.status === 'CHECKED_IN').length).toBeGreaterThanOrEqual(3);
		const inRoom = items.find((a) => a.status === 'CONSULTING')!;
		expect(inRoom).toBeTruthy();
		const record = await doctor.get(`/api/medical-records/${inRoom.medicalRecordId}`);
		expect(record.body.record.diagnosis).toMatch(/\w/);

		const patient = await as('patient@demo.medtrack.local');
		const mine = await patient.get<{ appointments: Appt[] }>(`/api/appointments?patientId=${(await patient.get('/api/me')).body.user.patientId}`);
		expect(mine.body.appointments.some((a) => a.status === 'CHECKED_IN' && a.doctorId === me.doctorId)).toBe(true);
	});

	it('the nurse’s arrivals for today have people checked in and people still to arrive', async () => {
		const day = await dayOf(await as('nurse1@demo.medtrack.local'), today);
		expect(day.filter((a) => a.status === 'CHECKED_IN').length).toBeGreaterThanOrEqual(5);
		expect(day.filter((a) => a.status === 'PENDING' || a.status === 'CONFIRMED').length).toBeGreaterThanOrEqual(5);
	});

	it('tomorrow is booked too: pending, confirmed and cancelled, nobody checked in yet', async () => {
		expect(first.tomorrow.created).toBeGreaterThan(10);
		const day = await dayOf(await as('front-desk1@demo.medtrack.local'), addDays(today, 1));
		expect(new Set(day.map((a) => a.status))).toEqual(new Set(['PENDING', 'CONFIRMED', 'CANCELLED']));
	});

	it('each step was taken by the staff member who would take it', async () => {
		const roleOf = async (action: string) => new Set((await auditEntries(app, (e) => e.resource_type === 'appointment' && e.action === action)).map((e) => e.role));
		expect(await roleOf('create')).toEqual(new Set(['front_desk']));
		expect(await roleOf('status_confirmed')).toEqual(new Set(['front_desk']));
		expect(await roleOf('status_checked_in')).toEqual(new Set(['nurse']));
		expect(await roleOf('record_vitals')).toEqual(new Set(['nurse']));
		expect(await roleOf('status_consulting')).toEqual(new Set(['doctor']));
		expect(await roleOf('status_completed')).toEqual(new Set(['doctor']));
	});

	it('stocks the dispensary: medicines with batches, one below its threshold, one batch expiring within a week, and the visits’ prescriptions queued', async () => {
		expect(first.medicines).toEqual({ created: 8, existed: 0 });
		expect(first.batches.created).toBeGreaterThanOrEqual(10);
		const pharmacist = await as('pharmacist@demo.medtrack.local');
		const alerts = (await pharmacist.get('/api/pharmacy/alerts')).body.alerts as { kind: string; medicineName: string; daysLeft?: number }[];
		expect(alerts).toContainEqual(expect.objectContaining({ kind: 'low_stock', medicineName: 'Salbutamol' }));
		expect(alerts.some((a) => a.kind === 'expiry' && a.medicineName === 'Amoxicillin' && a.daysLeft! <= 7)).toBe(true);
		const queue = (await pharmacist.get('/api/pharmacy/queue')).body.items as { patientName: string; medicine: string }[];
		expect(queue.length).toBeGreaterThan(0);
	});

	it('the blood bank has stock of every group and component, with exactly one critical (O- red cells)', async () => {
		expect(first.bloodUnits.created).toBeGreaterThan(100);
		expect(first.hospitals).toEqual({ created: 3, existed: 0, ventilators: 19 });
		const admin = await as('admin@demo.medtrack.local');
		const stock = (await admin.get<{ stock: { bloodGroup: string; component: string; available: number; critical: boolean }[] }>('/api/blood-bank/stock')).body.stock;
		expect(stock).toHaveLength(32);
		expect(stock.every((r) => r.available > 0)).toBe(true);
		expect(stock.filter((r) => r.critical).map((r) => `${r.bloodGroup} ${r.component}`)).toEqual(['O- red_cells']);
		const alerts = (await auditEntries(app, (e) => e.action === 'stock_critical')).map((e) => e.resource_id);
		expect(alerts).toEqual(['O-#red_cells']);
	});

	it('the sites have named ventilators counted on their rows, three on demo patients; the demo nurse works at Central', async () => {
		const nurse = await as('nurse1@demo.medtrack.local');
		const me = (await nurse.get<{ user: { hospitalId?: string } }>('/api/me')).body.user;
		const sites = (await nurse.get<{ hospitals: { id: string; name: string; resources: { ventilators: Record<string, number> } }[] }>('/api/hospitals')).body.hospitals;
		const central = sites.find((h) => h.name === 'MedTrack Central')!;
		expect(me.hospitalId).toBe(central.id);
		expect(central.resources.ventilators).toMatchObject({ total: 12, available: 8, occupied: 2, outOfService: 2 });
		const devices = (await nurse.get<{ ventilators: { serial: string; status: string; patient?: { name: string } }[] }>(`/api/hospitals/${central.id}/ventilators`)).body.ventilators;
		expect(devices).toHaveLength(12);
		expect(devices.filter((v) => v.status === 'in_use').every((v) => v.patient?.name)).toBe(true);
		expect(devices.map((v) => v.serial)).toContain('HAM-C6-21044');
	});

	it('leaves the analytics aggregates equal to a recount (the rebuild job changes nothing), and the dashboards show today', async () => {
		const sums = async () => {
			const out: Record<string, Record<string, number>> = {};
			for (const r of await scanAll<Record<string, unknown>>(app, 'analytics_daily')) {
				const key = `${String(r.pk).replace(/#\d+$/, '')}|${String(r.sk)}`;
				const into = (out[key] ??= {});
				for (const [k, v] of Object.entries(r)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
			}
			for (const c of Object.values(out)) for (const k of Object.keys(c)) if (c[k] === 0) delete c[k];
			return Object.fromEntries(Object.entries(out).filter(([, c]) => Object.keys(c).length));
		};
		const seeded = await sums();
		expect(Object.keys(seeded).length).toBeGreaterThan(0);
		await rebuildAnalytics({ ...app.ctx, db: app.setup });
		expect(await sums()).toEqual(seeded);
		const admin = await as('admin@demo.medtrack.local');
		const d = (await admin.get<{ days: { date: string; total: number; byStatus: Record<string, number> }[] }>('/api/analytics/admin?days=7')).body;
		const todays = await dayOf(admin, today);
		expect(d.days.at(-1)).toMatchObject({ date: today, total: todays.length });
		expect(d.days.at(-1)!.byStatus.COMPLETED).toBe(todays.filter((a) => a.status === 'COMPLETED').length);
	});

	it('every demo staff account works at its site (admins and the paramedic at none), and answers only that site', async () => {
		const siteOf = new Map(((await (await as('admin@demo.medtrack.local')).get<{ hospitals: { id: string; name: string }[] }>('/api/hospitals')).body.hospitals).map((h) => [h.id, h.name]));
		const cases: [string, string | undefined][] = [
			['doctor1@demo.medtrack.local', 'MedTrack Central'],
			['doctor9@demo.medtrack.local', 'MedTrack Riverside'],
			['doctor12@demo.medtrack.local', 'MedTrack Northgate'],
			['nurse5@demo.medtrack.local', 'MedTrack Riverside'],
			['front-desk1@demo.medtrack.local', 'MedTrack Central'],
			['front-desk2@demo.medtrack.local', 'MedTrack Riverside'],
			['pharmacist@demo.medtrack.local', 'MedTrack Central'],
			['admin@demo.medtrack.local', undefined],
			['paramedic@demo.medtrack.local', undefined]
		];
		for (const [login, site] of cases) {
			const me = (await (await as(login)).get<{ user: { hospitalId?: string } }>('/api/me')).body.user;
			expect(me.hospitalId ? siteOf.get(me.hospitalId) : undefined, login).toBe(site);
		}
		const doctor = await as('doctor1@demo.medtrack.local');
		const [central, riverside] = ['MedTrack Central', 'MedTrack Riverside'].map((n) => [...siteOf].find(([, name]) => name === n)![0]);
		expect((await doctor.get(`/api/ambulance-alerts?hospitalId=${central}`)).status).toBe(200);
		expect((await doctor.get(`/api/ambulance-alerts?hospitalId=${riverside}`)).status).toBe(403);
	});

	it('a second run creates nothing and changes no appointment', async () => {
		const before = { appointments: await countItems(app, 'appointments'), records: await countItems(app, 'medical_records'), users: await countItems(app, 'users') };
		const second = await seedDemoHospital(app.ctx, { patients: 12, password: PASSWORD });
		expect(second.accounts.created).toBe(0);
		expect(second.rosters.created).toBe(0);
		expect(second.today.created).toBe(0);
		expect(second.tomorrow.created).toBe(0);
		expect(second.medicines).toEqual({ created: 0, existed: 8 });
		expect(second.batches.created).toBe(0);
		expect(second.bloodUnits).toEqual({ created: 0, existed: first.bloodUnits.created });
		expect(second.hospitals).toEqual({ created: 0, existed: 3, ventilators: 0 });
		expect(second.today.existed).toBe(first.today.created);
		expect(second.tomorrow.existed).toBe(first.tomorrow.created);
		expect(await countItems(app, 'appointments')).toBe(before.appointments);
		expect(await countItems(app, 'medical_records')).toBe(before.records);
		expect(await countItems(app, 'users')).toBe(before.users);
	});
});
