import crypto from 'node:crypto';
import { socketPool, type ClientSocket, connected, subscribe } from '../fixtures/sockets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, runWorkerOnce, scanAll, sleep } from './helpers';
import type { StockAlertEvent } from '../../src/lib/shared/realtime';
import type { StockRow } from '../../src/lib/shared/blood';
import { runOnce } from '../../worker/scheduler';
import { bloodStock } from '../../worker/jobs/blood-stock';

/**
 * The blood bank against DynamoDB Local: a counter that never goes below zero under
 * concurrent issues, bag numbers that are unique, input refused with the error shape, the
 * critical-stock alert once per crossing (socket, notification centre, outbox), recovery,
 * the worker's expiry, and donors matched by the 90-day rule.
 */

let app: TestApp;
let admin: TestUser;
let admin2: TestUser;
let superAdmin: TestUser;
let patient: TestUser;
const { socketOf, closeAll } = socketPool(() => app);

const INTERNAL_TOKEN = crypto.randomBytes(24).toString('hex');

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC', INTERNAL_TOKEN });
	[admin, admin2, superAdmin, patient] = await Promise.all([
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('admin', { name: 'Bo Admin' }),
		app.userOf('super_admin', { name: 'Sam Super' }),
		app.userOf('patient')
	]);
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());

const bag = (tag = 'BAG') => `${tag}-${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

async function addUnits(group: string, component: string, n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < n; i++) {
		const r = await admin.api.post('/api/blood-bank/units', { bloodGroup: group, component, bagNumber: bag(), collectedAt: hoursAgo(2), ...extra });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		ids.push(r.body.unit.id);
	}
	return ids;
}

async function stockOf(group: string, component: string): Promise<StockRow> {
	const r = await admin.api.get('/api/blood-bank/stock');
	expect(r.status).toBe(200);
	return (r.body.stock as StockRow[]).find((s) => s.bloodGroup === group && s.component === component)!;
}

async function setThreshold(group: string, component: string, threshold: number) {
	const row = await stockOf(group, component);
	const r = await admin.api.patch(`/api/blood-bank/stock/${encodeURIComponent(group)}/${component}`, { version: row.version, threshold });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body.stock as StockRow;
}

const issue = (group: string, component: string, count: number, extra: Record<string, unknown> = {}) =>
	admin.api.post('/api/blood-bank/issues', { bloodGroup: group, component, count, reason: 'Theatre 2, elective surgery', ...extra });


async function adminSocket(): Promise<{ s: ClientSocket; critical: StockAlertEvent[]; recovered: StockAlertEvent[]; updated: StockRow[] }> {
	const s = socketOf(admin);
	await connected(s);
	expect(await subscribe(s, 'role:admin')).toEqual({ ok: true });
	const out = { s, critical: [] as StockAlertEvent[], recovered: [] as StockAlertEvent[], updated: [] as StockRow[] };
	s.on('stock:critical', (e) => out.critical.push(e));
	s.on('stock:recovered', (e) => out.recovered.push(e));
	s.on('stock:updated', (e) => out.updated.push(e));
	return out;
}

async function until(cond: () => boolean, ms = 3_000) {
	const end = Date.now() + ms;
	while (!cond() && Date.now() < end) await sleep(20);
}

const activeAdmins = () => [admin, admin2, superAdmin];

describe('stock and issues', () => {
	it('GET /api/blood-bank/stock lists all 8 groups × 4 components, readable by a patient', async () => {
		const r = await patient.api.get('/api/blood-bank/stock');
		expect(r.status).toBe(200);
		expect(r.body.stock).toHaveLength(32);
		expect(r.body.stock[0]).toMatchObject({ bloodGroup: 'A+', component: 'whole_blood', available: 0, threshold: 4, critical: true, version: 0 });
		await addUnits('O-', 'platelets', 1);
		const seen = (await patient.api.get('/api/blood-bank/stock')).body.stock.find((x: StockRow) => x.bloodGroup === 'O-' && x.component === 'platelets');
		expect(seen).toMatchObject({ available: 1, version: 1 });
		expect(seen.updatedBy).toBeUndefined();
		expect((await patient.api.post('/api/blood-bank/issues', { bloodGroup: 'A+', component: 'plasma', count: 1, reason: 'test' })).status).toBe(403);
	});

	it('a unit gets its expiry from the component: platelets 5 days, plasma a year', async () => {
		const collectedAt = '2026-11-30T08:00:00.000Z';
		const p = await admin.api.post('/api/blood-bank/units', { bloodGroup: 'A+', component: 'platelets', bagNumber: bag(), collectedAt });
		expect(p.body.unit).toMatchObject({ status: 'available', version: 1, expiresAt: '2026-12-05T08:00:00.000Z' });
		const pl = await admin.api.post('/api/blood-bank/units', { bloodGroup: 'A+', component: 'plasma', bagNumber: bag(), collectedAt });
		expect(pl.body.unit.expiresAt).toBe('2027-11-30T08:00:00.000Z');
	});

	it('20 concurrent issues of 1 against 10 in stock: exactly 10 succeed, 10 get 409, stock 0, 10 issued units, 10 audit entries', async () => {
		await addUnits('B-', 'red_cells', 10);
		expect((await stockOf('B-', 'red_cells')).available).toBe(10);
		const t0 = Date.now();
		const results = await Promise.all(Array.from({ length: 20 }, () => issue('B-', 'red_cells', 1)));
		const ms = Date.now() - t0;
		const ok = results.filter((r) => r.status === 201);
		const short = results.filter((r) => r.status === 409);
		console.log(`[blood-bank] 20 concurrent issues of 1 vs 10: ${ok.length} × 201, ${short.length} × 409 in ${ms} ms`);
		expect(ok).toHaveLength(10);
		expect(short).toHaveLength(10);
		for (const r of short) expect(r.body.error.code).toBe('INSUFFICIENT_STOCK');
		expect((await stockOf('B-', 'red_cells')).available).toBe(0);
		const issuedIds = ok.flatMap((r) => r.body.issued as string[]);
		expect(new Set(issuedIds).size).toBe(10);
		const units = (await scanAll(app, 'blood_units')).filter((u) => u.blood_group === 'B-' && u.component === 'red_cells');
		expect(units.filter((u) => u.status === 'issued')).toHaveLength(10);
		expect(units.filter((u) => u.status === 'available')).toHaveLength(0);
		const issueIds = new Set(ok.map((r) => r.body.issueId));
		expect(await auditEntries(app, (e) => e.action === 'issue' && issueIds.has(e.resource_id))).toHaveLength(10);
	});

	it('first-expiring units go first', async () => {
		const late = await addUnits('AB-', 'red_cells', 1, { collectedAt: hoursAgo(1) });
		const early = await addUnits('AB-', 'red_cells', 1, { collectedAt: hoursAgo(24 * 20) });
		const r = await issue('AB-', 'red_cells', 1);
		expect(r.body.issued).toEqual(early);
		expect((await issue('AB-', 'red_cells', 1)).body.issued).toEqual(late);
	});

	it('short stock is 409 INSUFFICIENT_STOCK with the available count and compatible groups that have stock', async () => {
		await addUnits('A-', 'whole_blood', 1);
		await addUnits('O-', 'whole_blood', 2);
		// No recipient named: this patient is recorded O+, and A- whole blood for them is INCOMPATIBLE_BLOOD (stock-attacks.test.ts).
		const r = await issue('A-', 'whole_blood', 3);
		expect(r.status).toBe(409);
		expect(r.body.error.code).toBe('INSUFFICIENT_STOCK');
		expect(r.body.error.details).toMatchObject({ bloodGroup: 'A-', component: 'whole_blood', requested: 3, available: 1, compatible: [{ bloodGroup: 'O-', available: 2 }] });
		expect((await stockOf('A-', 'whole_blood')).available).toBe(1);
	});

	it('a repeated bag number is 409, in any letter case, and counts nothing', async () => {
		const b = bag('DUP');
		const first = await admin.api.post('/api/blood-bank/units', { bloodGroup: 'O+', component: 'plasma', bagNumber: b, collectedAt: hoursAgo(1) });
		expect(first.status).toBe(201);
		const again = await admin.api.post('/api/blood-bank/units', { bloodGroup: 'O+', component: 'plasma', bagNumber: b.toLowerCase(), collectedAt: hoursAgo(1) });
		expect(again.status).toBe(409);
		expect(again.body.error).toMatchObject({ code: 'ALREADY_EXISTS', details: [{ field: 'bagNumber' }] });
		expect((await stockOf('O+', 'plasma')).available).toBe(1);
	});

	it('bad input is 400 with the error shape naming the field, and writes nothing', async () => {
		const before = (await scanAll(app, 'blood_units')).length;
		const cases: [unknown, string][] = [
			[{ bloodGroup: 'C+', component: 'plasma', count: 1, reason: 'surgery' }, 'bloodGroup'],
			[{ bloodGroup: 'A+', component: 'serum', count: 1, reason: 'surgery' }, 'component'],
			[{ bloodGroup: 'A+', component: 'plasma', count: -1, reason: 'surgery' }, 'count'],
			[{ bloodGroup: 'A+', component: 'plasma', count: 1.5, reason: 'surgery' }, 'count'],
			[{ bloodGroup: 'A+', component: 'plasma', count: 1, reason: 'surgery\u0000now' }, 'reason'],
			[{ bloodGroup: 'A+', component: 'plasma', count: 1, reason: 'surgery', patientId: '../../users/x' }, 'patientId'],
			[{ bloodGroup: 'A+', component: 'plasma', count: 1, reason: 'surgery', extra: true }, '(root)']
		];
		for (const [payload, field] of cases) {
			const r = await admin.api.post('/api/blood-bank/issues', payload);
			expect(r.status, JSON.stringify(payload)).toBe(400);
			expect(r.body.error.code).toBe('VALIDATION_FAILED');
			expect(typeof r.body.error.message).toBe('string');
			expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
		}
		const unit = await admin.api.post('/api/blood-bank/units', { bloodGroup: 'A+', component: 'plasma', bagNumber: 'ab\u202Ecd', collectedAt: hoursAgo(1) });
		expect(unit.status).toBe(400);
		expect(unit.body.error.details[0].field).toBe('bagNumber');
		const future = await admin.api.post('/api/blood-bank/units', { bloodGroup: 'A+', component: 'plasma', bagNumber: bag(), collectedAt: new Date(Date.now() + 86_400_000).toISOString() });
		expect(future.status).toBe(400);
		const param = await admin.api.patch('/api/blood-bank/stock/Z%2B/plasma', { version: 1, threshold: 2 });
		expect(param.status).toBe(400);
		expect(param.body.error.details[0].field).toBe('bloodGroup');
		const unknownPatient = await issue('A+', 'plasma', 1, { patientId: 'no-such-patient' });
		expect(unknownPatient.status).toBe(404);
		expect((await scanAll(app, 'blood_units')).length).toBe(before);
	});

	it('a unit moves available → reserved → issued (the counter follows), a stale or impossible move is 409, and the list shows available bags first-expiring first', async () => {
		const [a, b] = await addUnits('AB+', 'whole_blood', 2);
		expect((await stockOf('AB+', 'whole_blood')).available).toBe(2);
		const listed = await admin.api.get('/api/blood-bank/units?bloodGroup=AB%2B&component=whole_blood');
		expect(listed.body.units.map((u: { id: string }) => u.id).sort()).toEqual([a, b].sort());
		const reserve = await admin.api.patch(`/api/blood-bank/units/${a}`, { version: 1, status: 'reserved', reason: 'Crossmatched for bed 12' });
		expect(reserve.status, JSON.stringify(reserve.body)).toBe(200);
		expect(reserve.body.unit).toMatchObject({ status: 'reserved', version: 2 });
		expect((await stockOf('AB+', 'whole_blood')).available).toBe(1);
		const stale = await admin.api.patch(`/api/blood-bank/units/${a}`, { version: 1, status: 'available' });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		expect((await admin.api.patch(`/api/blood-bank/units/${a}`, { version: 2, status: 'issued' })).body.unit.status).toBe('issued');
		const back = await admin.api.patch(`/api/blood-bank/units/${a}`, { version: 3, status: 'available' });
		expect(back.status).toBe(409);
		expect(back.body.error.code).toBe('INVALID_TRANSITION');
		expect((await admin.api.patch(`/api/blood-bank/units/${b}`, { version: 1, status: 'quarantined', reason: 'Haemolysed sample' })).status).toBe(200);
		expect((await stockOf('AB+', 'whole_blood')).available).toBe(0);
		expect((await admin.api.patch(`/api/blood-bank/units/${b}`, { version: 2, status: 'available' })).status).toBe(200);
		expect((await stockOf('AB+', 'whole_blood')).available).toBe(1);
		expect((await patient.api.patch(`/api/blood-bank/units/${b}`, { version: 3, status: 'discarded' })).status).toBe(403);
		expect(await auditEntries(app, (e) => e.resource_type === 'blood_unit' && (e.resource_id === a || e.resource_id === b) && e.action === 'update')).toHaveLength(4);
	});

	it('a stale threshold save is 409 VERSION_CONFLICT naming who changed it', async () => {
		const row = await setThreshold('B+', 'platelets', 3);
		const stale = await admin2.api.patch('/api/blood-bank/stock/B%2B/platelets', { version: row.version - 1 || 99, threshold: 5 });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		const fresh = await admin2.api.patch('/api/blood-bank/stock/B%2B/platelets', { version: row.version, threshold: 5 });
		expect(fresh.status).toBe(200);
		expect(fresh.body.stock).toMatchObject({ threshold: 5, version: row.version + 1 });
	});
});

describe('live critical-stock alert', () => {
	it('a patient and a doctor are refused the role:admin room; a super admin joins', async () => {
		const doctor = await app.userOf('doctor');
		for (const u of [patient, doctor]) {
			const s = socketOf(u);
			await connected(s);
			const ack = await subscribe(s, 'role:admin');
			expect(ack.ok).toBe(false);
		}
		const s = socketOf(superAdmin);
		await connected(s);
		expect(await subscribe(s, 'role:admin')).toEqual({ ok: true });
	});

	it('crossing below the threshold: one stock:critical, one notification and one outbox row per admin; none for a second issue while low; recovery sends stock:recovered', async () => {
		const key = 'A-#red_cells';
		await setThreshold('A-', 'red_cells', 3);
		await addUnits('A-', 'red_cells', 5);
		const live = await adminSocket();
		// Setting a threshold of 3 on an empty counter was itself a crossing (and 5 units its recovery): count from here.
		const since = new Date().toISOString();
		const notices = async () => (await scanAll(app, 'notifications')).filter((n) => n.kind === 'blood_stock_critical' && n.related_id === key && n.created_at > since);
		const messages = async () => (await scanAll(app, 'outbox')).filter((m) => m.kind === 'blood_stock_critical' && m.related_id === key && m.created_at > since);

		expect((await issue('A-', 'red_cells', 2)).status).toBe(201); // 3 left: at the threshold, not below
		await sleep(200);
		expect(live.critical).toHaveLength(0);

		const t0 = Date.now();
		expect((await issue('A-', 'red_cells', 1)).status).toBe(201); // 2 left: crossed
		await until(() => live.critical.length > 0);
		console.log(`[blood-bank] stock:critical ${Date.now() - t0} ms after the issue request was sent`);
		expect(live.critical).toEqual([expect.objectContaining({ bloodGroup: 'A-', component: 'red_cells', available: 2, threshold: 3 })]);

		expect((await issue('A-', 'red_cells', 1)).status).toBe(201); // 1 left: still low, no new alert
		await sleep(300);
		expect(live.critical).toHaveLength(1);
		const n = await notices();
		expect(n.map((x) => x.user_id).sort()).toEqual(activeAdmins().map((u) => u.id).sort());
		expect(n.every((x) => x.user_id !== patient.id)).toBe(true);
		const m = await messages();
		expect(m.map((x) => x.user_id).sort()).toEqual(activeAdmins().map((u) => u.id).sort());
		expect(await auditEntries(app, (e) => e.action === 'stock_critical' && e.resource_id === key && e.timestamp > since)).toHaveLength(1);
		const bell = await admin2.api.get('/api/notifications');
		expect(bell.body.items.some((x: { kind: string }) => x.kind === 'blood_stock_critical')).toBe(true);

		await addUnits('A-', 'red_cells', 2); // 3: back at the threshold
		await until(() => live.recovered.length > 0);
		expect(live.recovered).toEqual([expect.objectContaining({ bloodGroup: 'A-', component: 'red_cells', available: 3, threshold: 3 })]);
		expect(live.updated.at(-1)).toMatchObject({ bloodGroup: 'A-', component: 'red_cells', available: 3, critical: false });

		// A second crossing by two concurrent issues alerts exactly once more.
		const both = await Promise.all([issue('A-', 'red_cells', 1), issue('A-', 'red_cells', 1)]);
		expect(both.map((r) => r.status)).toEqual([201, 201]);
		await until(() => live.critical.length > 1);
		await sleep(300);
		expect(live.critical).toHaveLength(2);
		expect(await notices()).toHaveLength(2 * activeAdmins().length);
		expect(await messages()).toHaveLength(2 * activeAdmins().length);
	});

	it('raising a threshold above the stock alerts; lowering it below recovers', async () => {
		await addUnits('O+', 'platelets', 2);
		await setThreshold('O+', 'platelets', 1);
		const live = await adminSocket();
		await setThreshold('O+', 'platelets', 5);
		await until(() => live.critical.length > 0);
		expect(live.critical[0]).toMatchObject({ bloodGroup: 'O+', component: 'platelets', available: 2, threshold: 5 });
		await setThreshold('O+', 'platelets', 2);
		await until(() => live.recovered.length > 0);
		expect(live.recovered[0]).toMatchObject({ bloodGroup: 'O+', component: 'platelets', available: 2, threshold: 2 });
	});
});

describe('worker: blood-stock', () => {
	it('expires units past their date: they leave the available count, and the crossing alerts', async () => {
		await setThreshold('AB+', 'platelets', 2);
		await addUnits('AB+', 'platelets', 1);
		const soon = await addUnits('AB+', 'platelets', 2, { expiresAt: new Date(Date.now() + 1_500).toISOString() });
		const live = await adminSocket();
		expect((await stockOf('AB+', 'platelets')).available).toBe(3);
		await sleep(1_700);
		const report = (await runOnce(app.ctx, bloodStock)) as { expired: number };
		expect(report.expired).toBe(2);
		expect((await stockOf('AB+', 'platelets')).available).toBe(1);
		const units = (await scanAll(app, 'blood_units')).filter((u) => soon.includes(u.id));
		expect(units.map((u) => u.status)).toEqual(['expired', 'expired']);
		expect(units.every((u) => u.available_key === undefined)).toBe(true);
		await until(() => live.critical.some((e) => e.bloodGroup === 'AB+' && e.component === 'platelets'));
		expect(live.critical.filter((e) => e.bloodGroup === 'AB+')).toHaveLength(1);
		// Run again: nothing more expires, no second alert.
		expect(((await runOnce(app.ctx, bloodStock)) as { expired: number }).expired).toBe(0);
		await sleep(200);
		expect(live.critical.filter((e) => e.bloodGroup === 'AB+')).toHaveLength(1);
		expect(await auditEntries(app, (e) => e.action === 'expire' && soon.includes(e.resource_id))).toHaveLength(2);
	});
});

describe('npm run worker -- --once blood-stock', () => {
	it('a worker in its own process expires a unit and its stock:critical reaches the web server\'s admin sockets', async () => {
		await setThreshold('B-', 'plasma', 1);
		await addUnits('B-', 'plasma', 1, { expiresAt: new Date(Date.now() + 1_000).toISOString() });
		const live = await adminSocket();
		await sleep(1_200);
		const run = await runWorkerOnce(app, 'blood-stock', { INTERNAL_TOKEN, LOG_LEVEL: 'info' });
		expect(run.code, run.out).toBe(0);
		expect(run.result).toMatchObject({ expired: 1 });
		await until(() => live.critical.some((e) => e.bloodGroup === 'B-' && e.component === 'plasma'));
		expect(live.critical.filter((e) => e.bloodGroup === 'B-' && e.component === 'plasma')).toEqual([
			expect.objectContaining({ available: 0, threshold: 1 })
		]);
		expect(live.updated.some((r) => r.bloodGroup === 'B-' && r.component === 'plasma' && r.available === 0)).toBe(true);
	});
});

describe('donors', () => {
	it('a donation request notifies consenting donors of the group who have not given in 90 days; a verified donation adds units', async () => {
		const today = new Date();
		const daysAgo = (n: number) => new Date(today.getTime() - n * 86_400_000).toISOString().slice(0, 10);
		const [never, recent, longAgo, noConsent, otherGroup] = await Promise.all([1, 2, 3, 4, 5].map(() => app.userOf('patient')));
		const signUp = (u: TestUser, body: Record<string, unknown>) => u.api.request('PUT', '/api/blood-bank/donors/me', body);
		expect((await signUp(never!, { bloodGroup: 'B+', consent: true })).status).toBe(200);
		expect((await signUp(recent!, { bloodGroup: 'B+', consent: true, lastDonationOn: daysAgo(30) })).status).toBe(200);
		expect((await signUp(longAgo!, { bloodGroup: 'B+', consent: true, lastDonationOn: daysAgo(120) })).status).toBe(200);
		expect((await signUp(noConsent!, { bloodGroup: 'B+', consent: false })).status).toBe(200);
		expect((await signUp(otherGroup!, { bloodGroup: 'A+', consent: true })).status).toBe(200);
		expect((await admin.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'B+', consent: true })).status).toBe(403);
		const me = await never!.api.get('/api/blood-bank/donors/me');
		expect(me.body.donor).toMatchObject({ bloodGroup: 'B+', consent: true, version: 1 });

		const req = await admin.api.post('/api/blood-bank/donation-requests', { bloodGroup: 'B+', component: 'whole_blood', note: 'Trauma unit running low' });
		expect(req.status, JSON.stringify(req.body)).toBe(201);
		expect(req.body.notified).toBe(2);
		const asked = (await scanAll(app, 'notifications')).filter((n) => n.kind === 'donation_request' && n.related_id === req.body.request.id).map((n) => n.user_id);
		expect(asked.sort()).toEqual([never!.id, longAgo!.id].sort());
		const sms = (await scanAll(app, 'outbox')).filter((m) => m.kind === 'donation_request' && m.related_id === req.body.request.id);
		expect(sms).toHaveLength(2);

		const before = (await stockOf('B+', 'whole_blood')).available;
		const donation = await admin.api.post('/api/blood-bank/donations', {
			donorId: never!.patientId,
			bloodGroup: 'B+',
			requestId: req.body.request.id,
			collectedAt: hoursAgo(1),
			units: [{ component: 'whole_blood', bagNumber: bag('DON') }]
		});
		expect(donation.status, JSON.stringify(donation.body)).toBe(201);
		expect(donation.body.units[0]).toMatchObject({ bloodGroup: 'B+', component: 'whole_blood', status: 'available', donorId: never!.patientId });
		expect(donation.body.donor.lastDonationOn).toBe(hoursAgo(1).slice(0, 10));
		expect((await stockOf('B+', 'whole_blood')).available).toBe(before + 1);

		// Having just given, the donor is not asked by the next request; nor is the one the first
		// request asked this week: however many requests go out, a donor hears at most one a week.
		const next = await Promise.all(Array.from({ length: 5 }, () => admin.api.post('/api/blood-bank/donation-requests', { bloodGroup: 'B+', component: 'plasma' })));
		expect(next.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
		expect(next.map((r) => r.body.notified)).toEqual([0, 0, 0, 0, 0]);
		const heard = (await scanAll(app, 'notifications')).filter((n) => n.kind === 'donation_request' && n.user_id === longAgo!.id);
		expect(heard).toHaveLength(1);
		expect((await scanAll(app, 'outbox')).filter((m) => m.kind === 'donation_request' && m.user_id === longAgo!.id)).toHaveLength(1);
	});
});
