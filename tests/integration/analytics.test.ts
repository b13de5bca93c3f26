import { socketPool, connected, type ClientSocket } from '../fixtures/sockets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { recountAnalytics, runWorkerOnce, scanAll, sleep, storedAnalytics } from './helpers';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { COALESCE_MS } from '../../src/lib/server/services/analytics-live';
import { rebuildAnalytics } from '../../src/lib/server/services/analytics';
import { addDays } from '../../src/lib/shared/time';

/**
 * Issue #11 B: the dashboards' daily aggregates are kept in the writes' own transactions and
 * always equal a recount from the raw appointments (and invoices), including after concurrent
 * bookings, cancellations, moves and status changes; the dashboards read only the days shown
 * (a constant number of DynamoDB requests however long the history); the live event reaches
 * admins and the doctor, not patients.
 */
type Appt = { id: string; version: number; status: string; date: string; doctorId: string; patientId: string };

let app: TestApp;
let tz: string;
let today: string;
let doctors: TestUser[];
let patients: TestUser[];
let desk: TestUser;
let nurse: TestUser;
let admin: TestUser;
let superAdmin: TestUser;
const { socketOf, closeAll } = socketPool(() => app);

/** DynamoDB requests the app's client sends, by command name (a middleware on the one client). */
const sent: string[] = [];
let conflicts = 0;

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	app.ctx.db.doc.middlewareStack.add(
		(next, context) => async (args) => {
			sent.push(String(context.commandName));
			try {
				return await next(args);
			} catch (err) {
				const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
				if (reasons.some((r) => r.Code === 'TransactionConflict')) conflicts++;
				throw err;
			}
		},
		{ step: 'initialize', name: 'analyticsTestCounter' }
	);
	doctors = await Promise.all([0, 1, 2].map((i) => alwaysOpenDoctor(app, { name: `Doctor Analytic ${i}` })));
	[desk, nurse, admin, superAdmin] = await Promise.all([app.userOf('front_desk'), app.userOf('nurse'), app.userOf('admin'), app.userOf('super_admin')]);
	patients = [];
	for (let i = 0; i < 6; i++) patients.push(...(await Promise.all(Array.from({ length: 6 }, () => app.userOf('patient')))));
}, 120_000);

afterAll(async () => {
	closeAll();
	await app?.close();
});

// ——— A slot pool: every doctor's free slots today and the next two days ———
const pool: { doctorId: string; start: string; date: string }[] = [];
async function fillPool() {
	for (const d of doctors) {
		for (const date of [today, addDays(today, 1), addDays(today, 2)]) {
			for (const s of await freeSlots(desk, d.doctorId!, date)) pool.push({ doctorId: d.doctorId!, start: s.start, date });
		}
	}
	// Shuffle, so concurrent bookings hit the same days and doctors in any order.
	for (let i = pool.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[pool[i], pool[j]] = [pool[j]!, pool[i]!];
	}
}

const SYMPTOMS = ['High fever', 'fever and cough', 'dry cough', 'chest pain', 'headache', 'stomach ache and nausea', 'itchy rash', 'back pain', 'feeling dizzy', 'annual check-up', 'xyz'];
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const appts = new Map<string, Appt>();
const viewOf = (a: { id: string; version: number; status: string; date: string; doctorId: string; patientId: string }): Appt => ({
	id: a.id,
	version: a.version,
	status: a.status,
	date: a.date,
	doctorId: a.doctorId,
	patientId: a.patientId
});
const doctorOf = (id: string) => doctors.find((d) => d.doctorId === id)!;
const outcomes: Record<string, number> = {};
const tally = (k: string) => void (outcomes[k] = (outcomes[k] ?? 0) + 1);

async function book(): Promise<void> {
	// Half the bookings today, so visits run through check-in to completion.
	const at = Math.random() < 0.5 ? pool.findIndex((s) => s.date === today) : pool.length - 1;
	const slot = at >= 0 ? pool.splice(at, 1)[0] : pool.pop();
	if (!slot) return tally('no-slot');
	const r = await desk.api.post('/api/appointments', { doctorId: slot.doctorId, patientId: pick(patients).patientId, start: slot.start, symptoms: pick(SYMPTOMS) });
	tally(`book ${r.status}`);
	if (r.status === 201) appts.set(r.body.appointment.id, viewOf(r.body.appointment));
}

async function patch(by: TestUser, a: Appt, body: Record<string, unknown>, tag: string): Promise<void> {
	const r = await by.api.patch(`/api/appointments/${a.id}`, { version: a.version, ...body });
	tally(`${tag} ${r.status}`);
	if (r.status === 200) appts.set(a.id, viewOf(r.body.appointment));
	else if (r.status === 409) {
		const g = await by.api.get(`/api/appointments/${a.id}`);
		if (g.status === 200) appts.set(a.id, viewOf(g.body.appointment));
	}
}

/** One random operation: book (45%), cancel (15%), move (5%) or the next status step (35%). */
async function randomOp(): Promise<void> {
	const roll = Math.random();
	if (roll < 0.45 || appts.size < 5) return book();
	const all = [...appts.values()];
	if (roll < 0.6) {
		const a = pick(all.filter((x) => ['PENDING', 'CONFIRMED', 'RESCHEDULED', 'CHECKED_IN'].includes(x.status)));
		return a ? patch(desk, a, { status: 'CANCELLED', reason: 'random test' }, 'cancel') : undefined;
	}
	if (roll < 0.65) {
		const a = pick(all.filter((x) => ['PENDING', 'CONFIRMED', 'RESCHEDULED'].includes(x.status)));
		const to = pool.findIndex((s) => a && s.doctorId === a.doctorId);
		if (!a || to < 0) return;
		const [slot] = pool.splice(to, 1);
		return patch(desk, a, { start: slot!.start }, 'move');
	}
	const open = all.filter((x) => !['COMPLETED', 'CANCELLED', 'MISSED'].includes(x.status));
	const todays = open.filter((x) => x.date === today);
	const a = pick(todays.length && Math.random() < 0.8 ? todays : open);
	if (!a) return;
	if (a.status === 'PENDING' || (a.status === 'RESCHEDULED' && a.date !== today)) return patch(desk, a, { status: 'CONFIRMED' }, 'confirm');
	if (a.status === 'CONFIRMED' || a.status === 'RESCHEDULED') {
		if (a.date !== today) return tally('not today');
		return patch(nurse, a, { status: 'CHECKED_IN', priority: pick(['normal', 'high', 'critical']) }, 'check-in');
	}
	if (a.status === 'CHECKED_IN') return patch(doctorOf(a.doctorId), a, { status: 'CONSULTING' }, 'consult');
	if (a.status === 'CONSULTING') return patch(doctorOf(a.doctorId), a, { status: 'COMPLETED' }, 'complete');
}

const recount = () => recountAnalytics(app);
const stored = () => storedAnalytics(app);

async function dashboardRequests(call: () => Promise<unknown>): Promise<Record<string, number>> {
	await call(); // warm the session cache, so only the dashboard's own reads are counted
	sent.length = 0;
	await call();
	await sleep(50);
	return sent.reduce<Record<string, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {});
}

let small: { admin: Record<string, number>; doctor: Record<string, number> };

describe('analytics aggregates', () => {
	it('after a few bookings the aggregates equal the recount, and a dashboard call costs a handful of requests', async () => {
		await fillPool();
		for (let i = 0; i < 10; i++) await book();
		expect(await stored()).toEqual(await recount());
		small = {
			admin: await dashboardRequests(() => admin.api.get('/api/analytics/admin?days=7')),
			doctor: await dashboardRequests(() => doctors[0]!.api.get(`/api/analytics/doctor/${doctors[0]!.doctorId}`))
		};
		console.log('dashboard DynamoDB requests with ~10 appointments', JSON.stringify(small));
	});

	it('1,000 random bookings, cancellations, moves and status changes (batches of 20 in parallel) leave aggregates equal to a recount from the raw tables', async () => {
		const t0 = Date.now();
		conflicts = 0;
		for (let batch = 0; batch < 50; batch++) await Promise.all(Array.from({ length: 20 }, () => randomOp()));
		const ms = Date.now() - t0;
		console.log('random operations', JSON.stringify(outcomes), `in ${ms} ms; TransactionConflict cancellations seen (retried): ${conflicts}`);
		expect(outcomes['book 201'] ?? 0).toBeGreaterThan(200);
		expect(outcomes['complete 200'] ?? 0).toBeGreaterThan(5);
		expect(outcomes['cancel 200'] ?? 0).toBeGreaterThan(20);
		// No operation failed with a server error: contention is absorbed by the retries.
		expect(Object.keys(outcomes).filter((k) => / 5\d\d$/.test(k))).toEqual([]);
		const expected = await recount();
		expect(await stored()).toEqual(expected);

		// The dashboards show what the recount says.
		const d = await admin.api.get('/api/analytics/admin?days=7');
		expect(d.status).toBe(200);
		const todayRow = d.body.days.at(-1);
		expect(todayRow.date).toBe(today);
		expect(todayRow.total).toBe(expected[`all|${today}`]?.total ?? 0);
		expect(todayRow.byStatus.COMPLETED).toBe(expected[`all|${today}`]?.s_COMPLETED ?? 0);
		expect(d.body.revenue.at(-1).amountCents).toBe(expected[`all|${today}`]?.revenue_cents ?? 0);
		const doc = doctors[0]!;
		const dd = await doc.api.get(`/api/analytics/doctor/${doc.doctorId}`);
		expect(dd.status).toBe(200);
		const mine = expected[`doctor#${doc.doctorId}|${today}`] ?? {};
		expect(dd.body.today).toEqual({ date: today, total: (mine.total ?? 0) - (mine.s_CANCELLED ?? 0), waiting: mine.s_CHECKED_IN ?? 0, completed: mine.s_COMPLETED ?? 0 });
		expect(dd.body.patientsServed.allTime).toBe(expected[`doctor#${doc.doctorId}|total`]?.patients_served ?? 0);
	}, 600_000);

	it('a dashboard costs the same number of DynamoDB requests with 1,000 operations of history as with 10 (no Scan, no appointment listing)', async () => {
		const big = {
			admin: await dashboardRequests(() => admin.api.get('/api/analytics/admin?days=7')),
			doctor: await dashboardRequests(() => doctors[0]!.api.get(`/api/analytics/doctor/${doctors[0]!.doctorId}`))
		};
		console.log('dashboard DynamoDB requests after 1,000 operations', JSON.stringify(big));
		expect(big).toEqual(small);
		expect(big.admin.ScanCommand).toBeUndefined();
		expect(big.doctor.ScanCommand).toBeUndefined();
	});

	it('the rebuild job recounts to the same aggregates, and running it twice changes nothing', async () => {
		const before = await stored();
		const first = await rebuildAnalytics({ ...app.ctx, db: app.setup });
		expect(await stored()).toEqual(before);
		const second = await rebuildAnalytics({ ...app.ctx, db: app.setup });
		expect(second.rows).toBe(first.rows);
		expect(second.deleted).toBe(0);
		expect(await stored()).toEqual(await recount());
		// Guards survive, so the next completion of an already-served patient is not counted again.
		const guards = (await scanAll<any>(app, 'analytics_daily')).filter((r) => r.kind === 'served_guard');
		expect(guards.length).toBe(first.guards);
	});

	it('`npm run worker -- --once analytics-rebuild` (the compiled worker) repairs drifted aggregates back to the recount', async () => {
		const expected = await recount();
		// Drift: a stray shard row and a wrong count, as a bad restore might leave.
		await app.ctx.db.doc.send(new PutCommand({ TableName: app.ctx.db.tables.analytics_daily, Item: { pk: 'all#3', sk: today, total: 999, s_PENDING: 7 } }));
		await app.ctx.db.doc.send(new PutCommand({ TableName: app.ctx.db.tables.analytics_daily, Item: { pk: 'all#1', sk: '2001-01-01', total: 5 } }));
		expect(await stored()).not.toEqual(expected);
		const run = await runWorkerOnce(app, 'analytics-rebuild', { INTERNAL_TOKEN: 'analytics-test-token-0123456789', LOG_LEVEL: 'info' });
		expect(run.code, run.out).toBe(0);
		expect(run.result).toMatchObject({ deleted: expect.any(Number) });
		expect(await stored()).toEqual(expected);
	}, 60_000);

	it('30 concurrent bookings of one day all commit, and the day row counts all 30', async () => {
		const date = addDays(today, 2);
		const slots = pool.filter((s) => s.date === date).slice(0, 30);
		expect(slots.length).toBe(30);
		for (const s of slots) pool.splice(pool.indexOf(s), 1);
		const before = (await stored())[`all|${date}`]?.total ?? 0;
		conflicts = 0;
		const t0 = Date.now();
		const res = await Promise.all(
			slots.map((s, i) => desk.api.post('/api/appointments', { doctorId: s.doctorId, patientId: patients[i]!.patientId, start: s.start, symptoms: 'fever' }))
		);
		const ms = Date.now() - t0;
		const codes = res.map((r) => r.status);
		console.log(`30 concurrent bookings of ${date}: ${JSON.stringify(codes.reduce<Record<number, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {}))} in ${ms} ms, TransactionConflict cancellations retried: ${conflicts}`);
		expect(codes.filter((c) => c >= 500)).toEqual([]);
		const booked = res.filter((r) => r.status === 201).length;
		// A patient already booked at an overlapping time is refused (409 PATIENT_BUSY); every other booking commits.
		expect(res.filter((r) => r.status !== 201).every((r) => r.body.error.code === 'PATIENT_BUSY')).toBe(true);
		expect(((await stored())[`all|${date}`]?.total ?? 0) - before).toBe(booked);
		expect(await stored()).toEqual(await recount());
	}, 120_000);
});

describe('analytics access and input', () => {
	it('admins and super admins read the hospital dashboard; doctors, nurses, front desk and patients get 403', async () => {
		expect((await admin.api.get('/api/analytics/admin')).status).toBe(200);
		expect((await superAdmin.api.get('/api/analytics/admin?days=7')).status).toBe(200);
		for (const u of [doctors[0]!, nurse, desk, patients[0]!]) expect((await u.api.get('/api/analytics/admin')).status).toBe(403);
		expect((await app.client().get('/api/analytics/admin')).status).toBe(401);
	});

	it('a doctor reads their own dashboard, admins any; another doctor and a patient get 403', async () => {
		const [a, b] = doctors;
		expect((await a!.api.get(`/api/analytics/doctor/${a!.doctorId}`)).status).toBe(200);
		expect((await admin.api.get(`/api/analytics/doctor/${a!.doctorId}`)).status).toBe(200);
		const other = await b!.api.get(`/api/analytics/doctor/${a!.doctorId}`);
		expect(other.status).toBe(403);
		expect(other.body.error.code).toBe('FORBIDDEN');
		expect((await patients[0]!.api.get(`/api/analytics/doctor/${a!.doctorId}`)).status).toBe(403);
		expect((await admin.api.get('/api/analytics/doctor/no-such-doctor')).status).toBe(404);
		expect((await admin.api.get('/api/analytics/doctor/bad%20id')).status).toBe(400);
	});

	it('days must be a whole number from 1 to 31: 0, 400, x, -1, 1.5 and empty are 400 naming the field; 7 is seven days oldest first', async () => {
		for (const v of ['0', '400', 'x', '-1', '1.5', '', '7%00']) {
			const r = await admin.api.get(`/api/analytics/admin?days=${v}`);
			expect(r.status, v).toBe(400);
			expect(JSON.stringify(r.body.error.details)).toContain('days');
		}
		expect((await admin.api.get('/api/analytics/admin?days=7&extra=1')).status).toBe(400);
		const r = await admin.api.get('/api/analytics/admin?days=7');
		expect(r.body.days.map((d: { date: string }) => d.date)).toEqual(Array.from({ length: 7 }, (_, i) => addDays(today, i - 6)));
		expect(r.body.revenue).toHaveLength(7);
		expect(Object.keys(r.body.days[0].byStatus).sort()).toEqual(['CANCELLED', 'CHECKED_IN', 'COMPLETED', 'CONFIRMED', 'CONSULTING', 'MISSED', 'PENDING', 'RESCHEDULED']);
		expect(r.body.bloodStock).toHaveLength(32);
		expect(Array.isArray(r.body.occupancy)).toBe(true);
		const fever = r.body.symptoms.find((s: { category: string }) => s.category === 'fever');
		expect(fever.thisWeek).toBeGreaterThan(0);
		expect(fever.sentence).toMatch(/^Fever: \d+ cases?, /);
		expect((await admin.api.get('/api/analytics/admin?days=31')).body.days).toHaveLength(31);
	});

	it('drill-down: a day\'s appointments in a status through status-date-index, 20 a page with a signed cursor; a forged or foreign cursor is 400', async () => {
		const date = addDays(today, 1);
		const expected = (await scanAll<any>(app, 'appointments')).filter((a) => a.date === date && a.status === 'PENDING').map((a) => a.id).sort();
		expect(expected.length).toBeGreaterThan(20);
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const r: { status: number; body: any } = await admin.api.get(`/api/analytics/appointments?status=PENDING&date=${date}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
			expect(r.status).toBe(200);
			expect(r.body.items.length).toBeLessThanOrEqual(20);
			for (const a of r.body.items) {
				expect(a.symptoms).toBeUndefined();
				seen.push(a.id);
			}
			cursor = r.body.nextCursor;
			pages++;
		} while (cursor && pages < 50);
		expect(seen.sort()).toEqual(expected);
		const first = await admin.api.get(`/api/analytics/appointments?status=PENDING&date=${date}`);
		const c = first.body.nextCursor as string;
		// Another listing's cursor, an edited one, and garbage.
		expect((await admin.api.get(`/api/analytics/appointments?status=CONFIRMED&date=${date}&cursor=${encodeURIComponent(c)}`)).status).toBe(400);
		expect((await admin.api.get(`/api/analytics/appointments?status=PENDING&date=${date}&cursor=${encodeURIComponent(`x${c}`)}`)).status).toBe(400);
		expect((await admin.api.get(`/api/analytics/appointments?status=PENDING&date=${date}&cursor=abc`)).status).toBe(400);
		expect((await admin.api.get(`/api/analytics/appointments?status=DONE&date=${date}`)).status).toBe(400);
		expect((await admin.api.get(`/api/analytics/appointments?status=PENDING&date=2026-02-30`)).status).toBe(400);
		expect((await doctors[0]!.api.get(`/api/analytics/appointments?status=PENDING&date=${date}`)).status).toBe(403);
	});
});

describe('analytics live', () => {
	async function connect(u: TestUser): Promise<ClientSocket> {
		const s = socketOf(u, { auth: 'token' });
		await connected(s);
		return s;
	}

	it('after a status change analytics:updated reaches an admin socket (role:admin) and the doctor\'s socket, not a patient\'s; a burst is coalesced', async () => {
		const doc = doctors[1]!;
		// Patients of their own: the random operations above may have booked the shared ones at these times.
		const fresh = await Promise.all(Array.from({ length: 21 }, () => app.userOf('patient')));
		const patient = fresh[0]!;
		const [adminSocket, doctorSocket, patientSocket] = await Promise.all([connect(admin), connect(doc), connect(patient)]);
		expect(await adminSocket.timeout(5_000).emitWithAck('subscribe', { room: 'role:admin' })).toEqual({ ok: true });
		expect(await patientSocket.timeout(5_000).emitWithAck('subscribe', { room: 'role:admin' })).toMatchObject({ ok: false });
		const heard = { admin: 0, doctor: 0, patient: 0 };
		adminSocket.on('analytics:updated', () => heard.admin++);
		doctorSocket.on('analytics:updated', () => heard.doctor++);
		patientSocket.on('analytics:updated', () => heard.patient++);
		await sleep(400); // let earlier windows close

		const slot = pool.find((s) => s.doctorId === doc.doctorId && s.date !== today)!;
		pool.splice(pool.indexOf(slot), 1);
		const b = await desk.api.post('/api/appointments', { doctorId: doc.doctorId, patientId: patient.patientId, start: slot.start, symptoms: 'cough' });
		expect(b.status).toBe(201);
		await sleep(400);
		const t0 = Date.now();
		const firstHeard = new Promise<number>((resolve) => adminSocket.once('analytics:updated', () => resolve(Date.now() - t0)));
		const c = await desk.api.patch(`/api/appointments/${b.body.appointment.id}`, { version: b.body.appointment.version, status: 'CONFIRMED' });
		expect(c.status).toBe(200);
		console.log(`analytics:updated reached the admin socket ${await firstHeard} ms after the status change was sent`);
		await sleep(500);
		expect(heard.admin).toBeGreaterThanOrEqual(2);
		expect(heard.doctor).toBeGreaterThanOrEqual(2);
		expect(heard.patient).toBe(0);

		// 20 bookings at once: a few coalesced events, not 20.
		heard.admin = 0;
		const slots = pool.filter((s) => s.date !== today).slice(0, 20);
		for (const s of slots) pool.splice(pool.indexOf(s), 1);
		const burst0 = Date.now();
		const booked = await Promise.all(slots.map((s, i) => desk.api.post('/api/appointments', { doctorId: s.doctorId, patientId: fresh[1 + i]!.patientId, start: s.start, symptoms: 'rash' })));
		const burstMs = Date.now() - burst0;
		expect(booked.map((r) => r.status)).toEqual(slots.map(() => 201));
		await sleep(700);
		console.log(`20 concurrent bookings over ${burstMs} ms sent the admin room ${heard.admin} analytics:updated events`);
		expect(heard.admin).toBeGreaterThanOrEqual(1);
		// At most one event per coalescing window while the burst lasts (and the trailing one), not one per booking.
		expect(heard.admin).toBeLessThanOrEqual(Math.min(20, Math.ceil(burstMs / COALESCE_MS) + 2));
		expect(heard.patient).toBe(0);
	});
});
