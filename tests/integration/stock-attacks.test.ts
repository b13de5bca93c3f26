import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { socketPool, connected, subscribe } from '../fixtures/sockets';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, countItems, getItem, scanAll, sleep } from './helpers';
import { freePort, startDynamoLocal, type LocalDb } from '../../src/lib/server/db/embedded';
import { runPharmacyAlerts } from '../../src/lib/server/services/pharmacy';
import { runOnce } from '../../worker/scheduler';
import { JOBS } from '../../worker/jobs';
import { bloodStock } from '../../worker/jobs/blood-stock';
import { addDays } from '../../src/lib/shared/time';
import type { StockAlertEvent } from '../../src/lib/shared/realtime';
import type { StockRow } from '../../src/lib/shared/blood';
import type { TableName } from '../../src/lib/server/db/tables';

/**
 * The blood bank and the pharmacy attacked from outside (issue #9): every role against every
 * stock endpoint and room, forged ids and cursors, hostile input, races, alert storms, a
 * database freeze mid-dispense and CSV formula injection. Each test names what it proves;
 * every count is read back from DynamoDB Local.
 */

let app: TestApp;
let tz: string;
let today: string;
let pharmacist: TestUser;
let pharmacist2: TestUser;
let admin: TestUser;
let admin2: TestUser;
let doctor: TestUser;
let nurse: TestUser;
let desk: TestUser;
let paramedic: TestUser;
let patient: TestUser;
let patient2: TestUser;
const { socketOf: openSocket, closeAll } = socketPool(() => app);
const socketOf = (user: TestUser) => openSocket(user, { auth: 'token' });

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	doctor = await alwaysOpenDoctor(app, { name: 'Dr Attack Target' });
	[pharmacist, pharmacist2, admin, admin2, nurse, desk, paramedic, patient, patient2] = await Promise.all([
		app.userOf('pharmacist', { name: 'Pia Pharm' }),
		app.userOf('pharmacist', { name: 'Paul Pharm' }),
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('admin', { name: 'Bo Admin' }),
		app.userOf('nurse'),
		app.userOf('front_desk'),
		app.userOf('paramedic'),
		app.userOf('patient', { name: 'Greta Lindqvist' }),
		app.userOf('patient', { name: 'Hans Other' })
	]);
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());

const bag = (tag = 'ATK') => `${tag}-${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

async function medicine(name: string, extra: Record<string, unknown> = {}) {
	const r = await pharmacist.api.post('/api/medicines', { name, form: 'tablet', strength: '500 mg', threshold: 0, ...extra });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.medicine as { id: string; version: number; name: string };
}
async function batch(medicineId: string, batchNumber: string, quantity: number, expiresOn = addDays(today, 200)) {
	const r = await pharmacist.api.post(`/api/medicines/${medicineId}/batches`, { batchNumber, quantity, expiresOn });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body;
}
async function addUnits(group: string, component: string, n: number): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < n; i++) {
		const r = await admin.api.post('/api/blood-bank/units', { bloodGroup: group, component, bagNumber: bag(), collectedAt: hoursAgo(2) });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		ids.push(r.body.unit.id);
	}
	return ids;
}
async function stockOf(group: string, component: string): Promise<StockRow> {
	const r = await admin.api.get('/api/blood-bank/stock');
	return (r.body.stock as StockRow[]).find((s) => s.bloodGroup === group && s.component === component)!;
}
async function setThreshold(group: string, component: string, threshold: number) {
	const row = await stockOf(group, component);
	const r = await admin.api.patch(`/api/blood-bank/stock/${encodeURIComponent(group)}/${component}`, { version: row.version, threshold });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body.stock as StockRow;
}
const issue = (group: string, component: string, count: number, by: TestUser = admin) =>
	by.api.post('/api/blood-bank/issues', { bloodGroup: group, component, count, reason: 'Theatre 3, trauma' });


async function visitWith(prescriptions: unknown[], who: TestUser = patient) {
	const slots = await freeSlots(desk, doctor.doctorId!, today);
	const slot = slots[Math.floor(Math.random() * Math.min(slots.length, 40))]!;
	const booked = await desk.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slot.start, symptoms: 'cough', patientId: who.patientId });
	expect(booked.status, JSON.stringify(booked.body)).toBe(201);
	let a = booked.body.appointment;
	a = (await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN' })).body.appointment;
	a = (await doctor.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CONSULTING' })).body.appointment;
	const rec = (await doctor.api.get(`/api/medical-records/${a.medicalRecordId}`)).body.record;
	const saved = await doctor.api.patch(`/api/medical-records/${rec.id}`, { version: rec.version, diagnosis: 'Infection', prescriptions });
	expect(saved.status, JSON.stringify(saved.body)).toBe(200);
	return { appointment: a, record: saved.body.record, rxIds: saved.body.record.prescriptionStatus.map((s: { id: string }) => s.id) as string[] };
}

/** A 400 in the one error shape, naming `field` among its details. */
function expect400(r: ApiResponse, field: string | undefined, what: string) {
	expect(r.status, `${what} → ${r.status} ${JSON.stringify(r.body)}`).toBe(400);
	expect(r.body.error, what).toMatchObject({ code: expect.any(String), message: expect.any(String) });
	if (field !== undefined) {
		expect(Array.isArray(r.body.error.details), `${what}: details ${JSON.stringify(r.body.error)}`).toBe(true);
		expect(r.body.error.details.map((d: { field: string }) => d.field), what).toContain(field);
	}
}

const STOCK_TABLES: TableName[] = ['medicines', 'medicine_batches', 'dispensing', 'stock_movements', 'blood_units', 'blood_stock', 'donors', 'donation_requests'];
async function counts() {
	return Object.fromEntries(await Promise.all(STOCK_TABLES.map(async (t) => [t, await countItems(app, t)] as const)));
}

/** Every medicine's on_hand is the sum of its live batches; every blood counter the number of available bags. */
async function expectStockConsistent() {
	const meds = await scanAll(app, 'medicines');
	const batches = (await scanAll(app, 'medicine_batches')).filter((b) => b.kind === 'batch');
	const mismatched = meds
		.map((m) => ({ id: m.id, name: m.name, onHand: m.on_hand, batches: batches.filter((b) => b.medicine_id === m.id).reduce((n, b) => n + (b.quantity as number), 0) }))
		.filter((x) => x.onHand !== x.batches || x.onHand < 0);
	expect(mismatched).toEqual([]);
	const units = await scanAll(app, 'blood_units');
	const stock = await scanAll(app, 'blood_stock');
	const off = stock
		.map((s) => ({ key: s.stock_key, available: s.available, bags: units.filter((u) => u.status === 'available' && `${u.blood_group}#${u.component}` === s.stock_key).length }))
		.filter((x) => x.available !== x.bags || x.available < 0);
	expect(off).toEqual([]);
	// Only available bags are in the sparse index.
	expect(units.filter((u) => (u.status === 'available') !== (u.available_key !== undefined))).toEqual([]);
}

describe('every role against every stock endpoint and room', () => {
	it('patients, doctors, nurses, front desk and paramedics cannot change stock, read the queue (allergies), list donors or verify donations: 403 each, audited, nothing written', async () => {
		const m = await medicine('Roletestamol');
		await batch(m.id, 'RT-1', 10);
		await addUnits('B-', 'plasma', 2);
		const row = await stockOf('B-', 'plasma');
		await patient2.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'B-', consent: true });
		const before = await counts();
		const outsiders = [patient, doctor, nurse, desk, paramedic];
		const attempts: [string, string, unknown?][] = [
			['POST', '/api/dispensations', { medicineId: m.id, quantity: 1 }],
			['POST', '/api/medicines', { name: 'Forged drug', form: 'tablet', strength: '1 mg', threshold: 1 }],
			['POST', `/api/medicines/${m.id}/batches`, { batchNumber: 'HACK-1', quantity: 100, expiresOn: addDays(today, 100) }],
			['GET', '/api/pharmacy/queue'],
			['POST', '/api/blood-bank/units', { bloodGroup: 'B-', component: 'plasma', bagNumber: bag(), collectedAt: hoursAgo(1) }],
			['POST', '/api/blood-bank/issues', { bloodGroup: 'B-', component: 'plasma', count: 1, reason: 'stealing a unit' }],
			['PATCH', '/api/blood-bank/stock/B-/plasma', { version: row.version, threshold: 0 }],
			['GET', '/api/blood-bank/units?bloodGroup=B-&component=plasma'],
			['GET', '/api/blood-bank/donors?bloodGroup=B-'],
			['GET', '/api/blood-bank/donation-requests'],
			['POST', '/api/blood-bank/donation-requests', { bloodGroup: 'B-', component: 'plasma' }],
			['POST', '/api/blood-bank/donations', { donorId: patient2.patientId, bloodGroup: 'B-', collectedAt: hoursAgo(1), units: [{ component: 'plasma', bagNumber: bag() }] }]
		];
		const wrong: string[] = [];
		for (const who of outsiders) {
			for (const [method, url, body] of attempts) {
				const r = await who.api.request(method, url, body);
				if (r.status !== 403) wrong.push(`${who.role} ${method} ${url} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
				else expect(r.body.error.code).toBe('FORBIDDEN');
			}
		}
		// A pharmacist runs the dispensary, not the blood bank.
		for (const [method, url, body] of attempts.slice(4)) {
			const r = await pharmacist.api.request(method, url, body);
			if (r.status !== 403) wrong.push(`pharmacist ${method} ${url} → ${r.status}`);
		}
		expect(wrong).toEqual([]);
		expect(await counts()).toEqual(before);
		const ids = [...outsiders, pharmacist].map((u) => u.id);
		const denied = await auditEntries(app, (e) => e.outcome === 'denied' && ids.includes(e.user_id) && ['pharmacy', 'blood_bank'].includes(e.resource_type));
		expect(denied.length).toBeGreaterThanOrEqual(outsiders.length * attempts.length);
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(10);
	});

	it('reading the pharmacy queue (allergies are clinical data) is audited for each reader', async () => {
		for (const who of [pharmacist, admin]) {
			const r = await who.api.get('/api/pharmacy/queue');
			expect(r.status).toBe(200);
		}
		const reads = await auditEntries(app, (e) => e.resource_type === 'prescription' && e.resource_id === 'pharmacy-queue' && e.action === 'list');
		expect(reads.some((e) => e.user_id === pharmacist.id)).toBe(true);
		expect(reads.some((e) => e.user_id === admin.id)).toBe(true);
	});

	it('a patient can only touch their own donor entry: no path or body field reaches another patient’s', async () => {
		const existing = (await patient2.api.get('/api/blood-bank/donors/me')).body.donor;
		const signed = await patient2.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'A-', consent: true, ...(existing ? { version: existing.version } : {}) });
		expect(signed.status, JSON.stringify(signed.body)).toBe(200);
		const theirs = (await getItem(app, 'donors', { id: patient2.patientId! }))!;
		const tries = [
			await patient.api.request('PUT', `/api/blood-bank/donors/${patient2.patientId}`, { bloodGroup: 'AB+', consent: false }),
			await patient.api.request('PUT', '/api/blood-bank/donors/me', { patientId: patient2.patientId, bloodGroup: 'AB+', consent: false }),
			await patient.api.request('PUT', '/api/blood-bank/donors/me', { id: patient2.patientId, bloodGroup: 'AB+', consent: false }),
			await patient.api.request('PATCH', `/api/blood-bank/donors/${patient2.patientId}`, { bloodGroup: 'AB+' })
		];
		expect(tries.map((r) => r.status)).toEqual([404, 400, 400, 404]);
		const after = (await getItem(app, 'donors', { id: patient2.patientId! }))!;
		expect(after).toEqual(theirs);
		// Staff are not donors through /me
		expect((await doctor.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'A-', consent: true })).status).toBe(403);
	});

	it('the role:admin and pharmacy rooms refuse everyone outside them, each refusal audited; admins and pharmacists join', async () => {
		const cases: [TestUser, string, boolean][] = [
			[patient, 'role:admin', false],
			[doctor, 'role:admin', false],
			[nurse, 'role:admin', false],
			[desk, 'role:admin', false],
			[paramedic, 'role:admin', false],
			[pharmacist, 'role:admin', false],
			[patient, 'pharmacy', false],
			[doctor, 'pharmacy', false],
			[nurse, 'pharmacy', false],
			[desk, 'pharmacy', false],
			[paramedic, 'pharmacy', false],
			[admin, 'role:admin', true],
			[pharmacist, 'pharmacy', true],
			[admin, 'pharmacy', true]
		];
		const since = new Date().toISOString();
		for (const [who, room, allowed] of cases) {
			const s = socketOf(who);
			await connected(s);
			const ack = await subscribe(s, room);
			expect(ack.ok, `${who.role} ${room}`).toBe(allowed);
			if (!ack.ok) expect(ack.error.code).toBe('FORBIDDEN');
			// Near-miss names are unknown rooms, never a way in.
			for (const near of ['role:Admin', 'role:admin:x', 'pharmacy:', 'Pharmacy', 'role:super_admin']) {
				const r = await subscribe(s, near);
				expect(r.ok, `${who.role} ${near}`).toBe(false);
			}
		}
		await sleep(200);
		const denied = await auditEntries(app, (e) => e.outcome === 'denied' && e.timestamp >= since);
		for (const [who, , allowed] of cases.filter((c) => !c[2])) {
			void allowed;
			expect(denied.some((e) => e.user_id === who.id), `${who.role} refusal audited`).toBe(true);
		}
		expect(denied.length).toBeGreaterThanOrEqual(cases.filter((c) => !c[2]).length);
	});
});

describe('forged ids and cursors', () => {
	it('dispensing against a prescription for another medicine is refused 409 and changes nothing (patient safety)', async () => {
		const wanted = await medicine('Amlodipine');
		const other = await medicine('Methotrexate');
		await batch(wanted.id, 'AML-1', 20);
		await batch(other.id, 'MTX-1', 20);
		const { rxIds } = await visitWith([{ medicine: 'Amlodipine 5 mg', dosage: '1 tablet', frequency: 'once daily', days: 7 }]);
		const before = await counts();
		const r = await pharmacist.api.post('/api/dispensations', { medicineId: other.id, quantity: 7, prescriptionId: rxIds[0] });
		expect(r.status, JSON.stringify(r.body)).toBe(409);
		expect(r.body.error.code).toBe('MEDICINE_MISMATCH');
		expect(r.body.error.details).toMatchObject({ prescriptionId: rxIds[0], prescribed: 'Amlodipine 5 mg', medicineId: other.id, medicineName: 'Methotrexate' });
		expect(await counts()).toEqual(before);
		expect((await getItem(app, 'prescriptions', { id: rxIds[0]! }))!.status).toBe('pending');
		expect((await getItem(app, 'medicines', { id: other.id }))!.on_hand).toBe(20);
		// the right medicine still dispenses it
		const ok = await pharmacist.api.post('/api/dispensations', { medicineId: wanted.id, quantity: 7, prescriptionId: rxIds[0] });
		expect(ok.status, JSON.stringify(ok.body)).toBe(201);
	});

	it('a medicine whose name is only a prefix of another word does not match ("Amox" is not "Amoxicillin", "Codeine" is not "Codeine-free")', async () => {
		const amox = await medicine('Amox');
		await batch(amox.id, 'AMX-P', 5);
		const { rxIds } = await visitWith([{ medicine: 'Amoxicillin 250 mg', dosage: '1', frequency: 'tds', days: 5 }]);
		const r = await pharmacist.api.post('/api/dispensations', { medicineId: amox.id, quantity: 1, prescriptionId: rxIds[0] });
		expect(r.status).toBe(409);
		expect(r.body.error.code).toBe('MEDICINE_MISMATCH');
		const codeine = await medicine('Codeine');
		await batch(codeine.id, 'COD-P', 5);
		const other = await visitWith([{ medicine: 'Codeine-free linctus', dosage: '5 ml', frequency: 'tds', days: 5 }]);
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: codeine.id, quantity: 1, prescriptionId: other.rxIds[0] })).body.error.code).toBe('MEDICINE_MISMATCH');
		// Case, width and spacing do not matter
		const spaced = await visitWith([{ medicine: '  CODEINE   30 mg', dosage: '1', frequency: 'qds', days: 3 }]);
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: codeine.id, quantity: 1, prescriptionId: spaced.rxIds[0] })).status).toBe(201);
	});

	it('unknown, dispensed and withdrawn prescriptions and unknown medicines are refused; another patient’s prescription dispenses only for its own patient', async () => {
		const m = await medicine('Lisinopril');
		await batch(m.id, 'LIS-1', 30);
		const mine = await visitWith([{ medicine: 'Lisinopril 10 mg', dosage: '1', frequency: 'daily', days: 7 }]);
		const theirs = await visitWith([{ medicine: 'Lisinopril 10 mg', dosage: '1', frequency: 'daily', days: 7 }], patient2);
		const d = await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: theirs.rxIds[0] });
		expect(d.status).toBe(201);
		const rec = (await scanAll(app, 'dispensing')).find((x) => x.id === d.body.dispensation.id)!;
		expect(rec.patient_id).toBe(patient2.patientId);
		const before = await counts();
		const results = await Promise.all([
			pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: theirs.rxIds[0] }),
			pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: crypto.randomUUID() }),
			pharmacist.api.post('/api/dispensations', { medicineId: crypto.randomUUID(), quantity: 1, prescriptionId: mine.rxIds[0] }),
			pharmacist.api.post('/api/dispensations', { medicineId: crypto.randomUUID(), quantity: 1 })
		]);
		expect(results.map((r) => r.status)).toEqual([409, 404, 404, 404]);
		expect(results[0]!.body.error.code).toBe('INVALID_TRANSITION');
		expect(await counts()).toEqual(before);
		expect((await getItem(app, 'prescriptions', { id: mine.rxIds[0]! }))!.status).toBe('pending');
	});

	it('forged, tampered and cross-scope cursors on medicine search and the queue are 400 INVALID_CURSOR, never a 500', async () => {
		for (const n of ['Cursorine A', 'Cursorine B', 'Cursorine C']) await medicine(n);
		const page = await pharmacist.api.get('/api/medicines?prefix=cursorine&limit=1');
		const good = page.body.nextCursor as string;
		expect(good).toBeTruthy();
		const [payload, tag] = good.split('.');
		const forgedPayload = Buffer.from(JSON.stringify({ id: 'x', name_lower: 'a', kind: 'medicine' })).toString('base64url');
		const bad = [
			'garbage',
			`${payload}.${tag}x`,
			`${forgedPayload}.${tag}`,
			`${payload}.${tag}.extra`,
			'.',
			'a'.repeat(1999),
			`${payload}`,
			encodeURIComponent('{"id":"x"}')
		];
		for (const c of bad) {
			const r = await pharmacist.api.get(`/api/medicines?prefix=cursorine&cursor=${encodeURIComponent(c)}`);
			expect(r.status, c.slice(0, 40)).toBe(400);
			expect(r.body.error.code).toBe('INVALID_CURSOR');
		}
		const cross = await pharmacist.api.get(`/api/medicines?prefix=other&cursor=${encodeURIComponent(good)}`);
		expect(cross.body.error.code).toBe('INVALID_CURSOR');
		const q = await pharmacist.api.get(`/api/pharmacy/queue?cursor=${encodeURIComponent(good)}`);
		expect(q.status).toBe(400);
		expect(q.body.error.code).toBe('INVALID_CURSOR');
		expect((await pharmacist.api.get(`/api/medicines?prefix=cursorine&cursor=${'a'.repeat(2001)}`)).status).toBe(400);
	});

	it('path ids with control characters, separators or thousands of characters are 400, never 500', async () => {
		const ids = ['%00abc', 'a%0Db', 'a%1B[31m', '..%2F..%2Fetc', 'x'.repeat(5000), '%E2%80%AEevil', 'a%20b'];
		for (const id of ids) {
			for (const [method, url, body] of [
				['GET', `/api/medicines/${id}`],
				['POST', `/api/medicines/${id}/batches`, { batchNumber: 'B-1', quantity: 1, expiresOn: addDays(today, 10) }],
				['PATCH', `/api/blood-bank/units/${id}`, { version: 1, status: 'reserved' }]
			] as [string, string, unknown?][]) {
				const r = await (method === 'GET' ? pharmacist : admin).api.request(method, url, body);
				expect(r.status, `${method} ${url.slice(0, 60)} → ${JSON.stringify(r.body).slice(0, 200)}`).toBe(400);
				expect(r.body.error.code).toBe('VALIDATION_FAILED');
			}
		}
		for (const p of ['A%20pos/red_cells', 'a%2B/red_cells', 'O%E2%88%92/red_cells', 'A%2B/red%00cells', `A%2B/${'x'.repeat(3000)}`]) {
			const r = await admin.api.patch(`/api/blood-bank/stock/${p}`, { version: 0, threshold: 3 });
			expect400(r, undefined, p);
		}
	});
});

describe('hostile input: 400 naming the field, nothing written', () => {
	it('medicines, batches and dispensing refuse control/bidi characters, bad numbers and dates, extra fields', async () => {
		const m = await medicine('Inputine');
		await batch(m.id, 'IN-1', 5);
		const before = await counts();
		const future = addDays(today, 30);
		const cases: [string, unknown, string][] = [
			['/api/medicines', { name: 'Evil\u0000drug', form: 'tablet', strength: '1 mg', threshold: 1 }, 'name'],
			['/api/medicines', { name: 'Evil\u202Egurd', form: 'tablet', strength: '1 mg', threshold: 1 }, 'name'],
			['/api/medicines', { name: 'Evil\u2066drug', form: 'tablet', strength: '1 mg', threshold: 1 }, 'name'],
			['/api/medicines', { name: 'Fine', form: 'tablet', strength: '1\u200Bmg', threshold: 1 }, 'strength'],
			['/api/medicines', { name: 'Fine', form: 'tablet', strength: '1 mg', threshold: 1.5 }, 'threshold'],
			['/api/medicines', { name: 'Fine', form: 'tablet', strength: '1 mg', threshold: '5' }, 'threshold'],
			['/api/medicines', { name: 'Fine', form: 'tablet', strength: '1 mg', threshold: 1e12 }, 'threshold'],
			['/api/medicines', { name: 'Fine', form: 'tablet', strength: '1 mg', threshold: 1, onHand: 1000 }, ''],
			['/api/medicines', { name: 'x'.repeat(121), form: 'tablet', strength: '1 mg', threshold: 1 }, 'name'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B\u202E1', quantity: 1, expiresOn: future }, 'batchNumber'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B\u00001', quantity: 1, expiresOn: future }, 'batchNumber'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B 1;DROP', quantity: 1, expiresOn: future }, 'batchNumber'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 0, expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: -10, expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 2.5, expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 1e9, expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 'NaN', expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: '10', expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: null, expiresOn: future }, 'quantity'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 5, expiresOn: addDays(today, -1) }, 'expiresOn'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 5, expiresOn: '2027-13-01' }, 'expiresOn'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 5, expiresOn: `${future}T00:00:00Z` }, 'expiresOn'],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-2', quantity: 5, expiresOn: future, medicineId: 'other' }, ''],
			['/api/dispensations', { medicineId: m.id, quantity: 0 }, 'quantity'],
			['/api/dispensations', { medicineId: m.id, quantity: -3 }, 'quantity'],
			['/api/dispensations', { medicineId: m.id, quantity: 0.5 }, 'quantity'],
			['/api/dispensations', { medicineId: m.id, quantity: 1e6 }, 'quantity'],
			['/api/dispensations', { medicineId: m.id, quantity: '1' }, 'quantity'],
			['/api/dispensations', { medicineId: m.id, quantity: 'Infinity' }, 'quantity'],
			['/api/dispensations', { medicineId: m.id }, 'quantity'],
			['/api/dispensations', { medicineId: `${m.id}\u0000`, quantity: 1 }, 'medicineId'],
			['/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: 'rx\u202E' }, 'prescriptionId'],
			['/api/dispensations', { medicineId: m.id, quantity: 1, batchNumber: 'IN-1' }, '']
		];
		for (const [url, body, field] of cases) {
			expect400(await pharmacist.api.post(url, body), field || undefined, `${url} ${JSON.stringify(body)}`);
		}
		// Bodies that are not objects at all
		for (const raw of ['[]', '"x"', '42', 'null', '{"medicineId":', '{"quantity":1e999,"medicineId":"a"}']) {
			const r = await pharmacist.api.request('POST', '/api/dispensations', raw);
			expect(r.status, raw).toBe(400);
			expect(r.body.error.code).toMatch(/VALIDATION_FAILED|INVALID_JSON/);
		}
		expect(await counts()).toEqual(before);
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(5);
	});

	it('blood units, issues, thresholds, donors and donations refuse misspelt groups, bad counts and dates, control characters: 400 naming the field, nothing written', async () => {
		await addUnits('AB-', 'red_cells', 2);
		const row = await stockOf('AB-', 'red_cells');
		await patient2.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'A-', consent: true });
		const before = await counts();
		const unit = (extra: Record<string, unknown>) => ({ bloodGroup: 'AB-', component: 'red_cells', bagNumber: bag(), collectedAt: hoursAgo(1), ...extra });
		const iss = (extra: Record<string, unknown>) => ({ bloodGroup: 'AB-', component: 'red_cells', count: 1, reason: 'Ward 4 transfusion', ...extra });
		const inFuture = new Date(Date.now() + 3 * 3_600_000).toISOString();
		const cases: [string, string, unknown, string][] = [
			['POST', '/api/blood-bank/units', unit({ bloodGroup: 'A pos' }), 'bloodGroup'],
			['POST', '/api/blood-bank/units', unit({ bloodGroup: 'a+' }), 'bloodGroup'],
			['POST', '/api/blood-bank/units', unit({ bloodGroup: 'O\u2212' }), 'bloodGroup'],
			['POST', '/api/blood-bank/units', unit({ bloodGroup: '0+' }), 'bloodGroup'],
			['POST', '/api/blood-bank/units', unit({ bloodGroup: 'AB+ ' }), 'bloodGroup'],
			['POST', '/api/blood-bank/units', unit({ bloodGroup: 'A\uFF0B' }), 'bloodGroup'],
			['POST', '/api/blood-bank/units', unit({ component: 'red cells' }), 'component'],
			['POST', '/api/blood-bank/units', unit({ component: 'Red_Cells' }), 'component'],
			['POST', '/api/blood-bank/units', unit({ bagNumber: 'BAG\u202E01' }), 'bagNumber'],
			['POST', '/api/blood-bank/units', unit({ bagNumber: 'BAG\u000001' }), 'bagNumber'],
			['POST', '/api/blood-bank/units', unit({ bagNumber: 'B' }), 'bagNumber'],
			['POST', '/api/blood-bank/units', unit({ bagNumber: 'B'.repeat(33) }), 'bagNumber'],
			['POST', '/api/blood-bank/units', unit({ collectedAt: inFuture }), 'collectedAt'],
			['POST', '/api/blood-bank/units', unit({ collectedAt: '2026-02-30T10:00:00Z' }), 'collectedAt'],
			['POST', '/api/blood-bank/units', unit({ collectedAt: 'yesterday' }), 'collectedAt'],
			['POST', '/api/blood-bank/units', unit({ collectedAt: 1733000000000 }), 'collectedAt'],
			['POST', '/api/blood-bank/units', unit({ expiresAt: hoursAgo(2) }), 'expiresAt'],
			['POST', '/api/blood-bank/units', unit({ status: 'issued' }), ''],
			['POST', '/api/blood-bank/units', unit({ donorId: 'x/../y' }), 'donorId'],
			['POST', '/api/blood-bank/issues', iss({ count: 0 }), 'count'],
			['POST', '/api/blood-bank/issues', iss({ count: -1 }), 'count'],
			['POST', '/api/blood-bank/issues', iss({ count: 1.5 }), 'count'],
			['POST', '/api/blood-bank/issues', iss({ count: 1e9 }), 'count'],
			['POST', '/api/blood-bank/issues', iss({ count: '1' }), 'count'],
			['POST', '/api/blood-bank/issues', iss({ count: 'NaN' }), 'count'],
			['POST', '/api/blood-bank/issues', iss({ bloodGroup: 'ab-' }), 'bloodGroup'],
			['POST', '/api/blood-bank/issues', iss({ reason: 'ok\u202Eevil' }), 'reason'],
			['POST', '/api/blood-bank/issues', iss({ reason: 'line\nbreak' }), 'reason'],
			['POST', '/api/blood-bank/issues', iss({ reason: 'x' }), 'reason'],
			['POST', '/api/blood-bank/issues', iss({ unitIds: ['a'] }), ''],
			['PATCH', '/api/blood-bank/stock/AB-/red_cells', { version: row.version, threshold: -1 }, 'threshold'],
			['PATCH', '/api/blood-bank/stock/AB-/red_cells', { version: row.version, threshold: 2.5 }, 'threshold'],
			['PATCH', '/api/blood-bank/stock/AB-/red_cells', { version: row.version, threshold: 1e9 }, 'threshold'],
			['PATCH', '/api/blood-bank/stock/AB-/red_cells', { version: row.version, threshold: '3' }, 'threshold'],
			['PATCH', '/api/blood-bank/stock/AB-/red_cells', { version: -1, threshold: 3 }, 'version'],
			['PATCH', '/api/blood-bank/stock/AB-/red_cells', { version: row.version, threshold: 3, available: 99 }, ''],
			['POST', '/api/blood-bank/donation-requests', { bloodGroup: 'A pos', component: 'plasma' }, 'bloodGroup'],
			['POST', '/api/blood-bank/donation-requests', { bloodGroup: 'A-', component: 'plasma', note: 'urgent\u0007' }, 'note'],
			['POST', '/api/blood-bank/donations', { donorId: patient2.patientId, bloodGroup: 'A-', collectedAt: inFuture, units: [{ component: 'plasma', bagNumber: bag() }] }, 'collectedAt'],
			['POST', '/api/blood-bank/donations', { donorId: patient2.patientId, bloodGroup: 'A-', collectedAt: hoursAgo(1), units: [] }, 'units'],
			['POST', '/api/blood-bank/donations', { donorId: patient2.patientId, bloodGroup: 'A-', collectedAt: hoursAgo(1), units: [{ component: 'plasma', bagNumber: 'SAME-1' }, { component: 'red_cells', bagNumber: 'same-1' }] }, 'units'],
			['POST', '/api/blood-bank/donations', { donorId: patient2.patientId, bloodGroup: 'A-', collectedAt: hoursAgo(1), units: Array.from({ length: 5 }, () => ({ component: 'plasma', bagNumber: bag() })) }, 'units'],
			['POST', '/api/blood-bank/donations', { donorId: patient2.patientId, bloodGroup: 'A-', collectedAt: hoursAgo(1), units: [{ component: 'plasma', bagNumber: bag(), bloodGroup: 'O-' }] }, '']
		];
		for (const [method, url, body, field] of cases) {
			expect400(await admin.api.request(method, url, body), field || undefined, `${method} ${url} ${JSON.stringify(body)}`);
		}
		const donorCases: [unknown, string][] = [
			[{ bloodGroup: 'A pos', consent: true }, 'bloodGroup'],
			[{ bloodGroup: 'O\u2212', consent: true }, 'bloodGroup'],
			[{ bloodGroup: 'A-', consent: 'yes' }, 'consent'],
			[{ bloodGroup: 'A-', consent: true, lastDonationOn: addDays(today, 5) }, 'lastDonationOn'],
			[{ bloodGroup: 'A-', consent: true, lastDonationOn: '2026-02-29' }, 'lastDonationOn']
		];
		for (const [body, field] of donorCases) expect400(await patient.api.request('PUT', '/api/blood-bank/donors/me', body), field, JSON.stringify(body));
		expect(await counts()).toEqual(before);
		expect((await stockOf('AB-', 'red_cells')).version).toBe(row.version);
	});
});

describe('races', () => {
	it('30 dispenses racing a batch receipt and two more pharmacists: never below zero, on_hand equals the sum of batches, every record has its movement and audit entry', async () => {
		const m = await medicine('Racemycin');
		await batch(m.id, 'RC-1', 10, addDays(today, 20));
		const results = await Promise.all([
			...Array.from({ length: 30 }, (_, i) => (i % 2 ? pharmacist : pharmacist2).api.post('/api/dispensations', { medicineId: m.id, quantity: 1 })),
			pharmacist.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'RC-2', quantity: 15, expiresOn: addDays(today, 90) })
		]);
		const receipt = results.at(-1)!;
		expect(receipt.status).toBe(201);
		const dispenses = results.slice(0, 30);
		expect(dispenses.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body)).toEqual([]);
		const ok = dispenses.filter((r) => r.status === 201).length;
		expect(ok).toBeGreaterThanOrEqual(10);
		expect(ok).toBeLessThanOrEqual(25);
		const stored = (await getItem(app, 'medicines', { id: m.id }))!;
		expect(stored.on_hand).toBe(25 - ok);
		const records = (await scanAll(app, 'dispensing')).filter((d) => d.medicine_id === m.id);
		expect(records).toHaveLength(ok);
		const moves = (await scanAll(app, 'stock_movements')).filter((x) => x.medicine_id === m.id);
		expect(moves.filter((x) => x.kind === 'dispensed')).toHaveLength(ok);
		expect(moves.filter((x) => x.kind === 'received').reduce((n, x) => n + x.quantity, 0)).toBe(25);
		expect(await auditEntries(app, (e) => e.resource_id === m.id && e.action === 'dispense')).toHaveLength(ok);
		await expectStockConsistent();
	});

	it('50 concurrent dispenses against one prescription: exactly one dispenses, 49 are told it was dispensed', async () => {
		const m = await medicine('Doxycycline');
		await batch(m.id, 'DX-1', 500);
		const { rxIds } = await visitWith([{ medicine: 'Doxycycline 100 mg', dosage: '1', frequency: 'daily', days: 7 }]);
		const t0 = Date.now();
		const results = await Promise.all(
			Array.from({ length: 50 }, (_, i) => (i % 2 ? pharmacist : pharmacist2).api.post('/api/dispensations', { medicineId: m.id, quantity: 7, prescriptionId: rxIds[0] }))
		);
		console.log(`[stock-attacks] 50 dispenses of one prescription: ${Date.now() - t0} ms`);
		expect(results.filter((r) => r.status === 201)).toHaveLength(1);
		const refused = results.filter((r) => r.status !== 201);
		expect(refused.map((r) => `${r.status} ${r.body.error.code}`)).toEqual(Array(49).fill('409 INVALID_TRANSITION'));
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(493);
		expect((await scanAll(app, 'dispensing')).filter((d) => d.prescription_id === rxIds[0])).toHaveLength(1);
		expect(await auditEntries(app, (e) => e.resource_id === m.id && e.action === 'dispense')).toHaveLength(1);
	});

	it('the same bag number added 20 times at once: exactly one 201, 19 × 409, one unit, the counter +1', async () => {
		const number = bag('DUP');
		const before = (await stockOf('A+', 'whole_blood')).available;
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				(i % 2 ? admin : admin2).api.post('/api/blood-bank/units', { bloodGroup: 'A+', component: 'whole_blood', bagNumber: i % 3 ? number : number.toLowerCase(), collectedAt: hoursAgo(1) })
			)
		);
		expect(results.filter((r) => r.status === 201)).toHaveLength(1);
		expect(results.filter((r) => r.status === 409).map((r) => r.body.error.code)).toEqual(Array(19).fill('ALREADY_EXISTS'));
		expect((await scanAll(app, 'blood_units')).filter((u) => u.bag_number === number)).toHaveLength(1);
		expect((await stockOf('A+', 'whole_blood')).available).toBe(before + 1);
	});

	it('two admins verifying the same donation at once, twice each: its units are created once, the counter rises once', async () => {
		const donor = await app.userOf('patient');
		expect((await donor.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'O-', consent: true })).status).toBe(200);
		const before = { wb: (await stockOf('O-', 'whole_blood')).available, pl: (await stockOf('O-', 'plasma')).available };
		const body = { donorId: donor.patientId, bloodGroup: 'O-', collectedAt: hoursAgo(1), units: [{ component: 'whole_blood', bagNumber: bag('DON') }, { component: 'plasma', bagNumber: bag('DON') }] };
		const results = await Promise.all([admin, admin2, admin, admin2].map((u) => u.api.post('/api/blood-bank/donations', body)));
		expect(results.filter((r) => r.status === 201)).toHaveLength(1);
		expect(results.filter((r) => r.status === 409)).toHaveLength(3);
		const units = (await scanAll(app, 'blood_units')).filter((u) => u.donor_id === donor.patientId);
		expect(units).toHaveLength(2);
		expect((await stockOf('O-', 'whole_blood')).available).toBe(before.wb + 1);
		expect((await stockOf('O-', 'plasma')).available).toBe(before.pl + 1);
		expect(await auditEntries(app, (e) => e.resource_id === donor.patientId && e.action === 'donation')).toHaveLength(1);
	});

	it('an issue racing a threshold PATCH made against the same version: the issue wins or the PATCH does, the loser is 409, the counter stays exact', async () => {
		await addUnits('B+', 'platelets', 6);
		const row = await stockOf('B+', 'platelets');
		const [iss, patch] = await Promise.all([
			issue('B+', 'platelets', 2),
			admin2.api.patch('/api/blood-bank/stock/B%2B/platelets', { version: row.version, threshold: 1 })
		]);
		expect(iss.status, JSON.stringify(iss.body)).toBe(201);
		expect([200, 409]).toContain(patch.status);
		if (patch.status === 409) expect(patch.body.error.code).toBe('VERSION_CONFLICT');
		const after = await stockOf('B+', 'platelets');
		expect(after.available).toBe(row.available - 2);
		expect(after.threshold).toBe(patch.status === 200 ? 1 : row.threshold);
		await expectStockConsistent();
	});
});

describe('what gets issued', () => {
	it('a unit past its expiry is never issued, even before the worker has expired it: the issue takes an unexpired bag, and the expired one leaves the count', async () => {
		// One bag that expires in a moment, one good for weeks: first-expiring first would pick the first.
		const soon = await admin.api.post('/api/blood-bank/units', {
			bloodGroup: 'O+',
			component: 'platelets',
			bagNumber: bag('OLD'),
			collectedAt: hoursAgo(100),
			expiresAt: new Date(Date.now() + 1200).toISOString()
		});
		expect(soon.status).toBe(201);
		const [good] = await addUnits('O+', 'platelets', 1);
		const before = (await stockOf('O+', 'platelets')).available;
		await sleep(1500);
		const r = await issue('O+', 'platelets', 1);
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.issued).not.toContain(soon.body.unit.id);
		const old = (await getItem(app, 'blood_units', { id: soon.body.unit.id }))!;
		expect(old.status).toBe('expired');
		expect(r.body.issued.length).toBe(1);
		void good;
		expect((await stockOf('O+', 'platelets')).available).toBe(before - 2);
		// Nothing unexpired left of those two: the next issue is refused on the true count.
		const units = (await scanAll(app, 'blood_units')).filter((u) => u.blood_group === 'O+' && u.component === 'platelets' && u.status === 'issued');
		expect(units.every((u) => u.expires_at > u.issued_at)).toBe(true);
		await expectStockConsistent();
	});

	it('a quarantined bag that has passed its date cannot be released back into stock: 409, the counter unchanged', async () => {
		const r0 = await admin.api.post('/api/blood-bank/units', {
			bloodGroup: 'A-',
			component: 'plasma',
			bagNumber: bag('QRN'),
			collectedAt: hoursAgo(100),
			expiresAt: new Date(Date.now() + 1200).toISOString()
		});
		expect(r0.status).toBe(201);
		const q = await admin.api.patch(`/api/blood-bank/units/${r0.body.unit.id}`, { version: r0.body.unit.version, status: 'quarantined', reason: 'label smudged' });
		expect(q.status, JSON.stringify(q.body)).toBe(200);
		const before = (await stockOf('A-', 'plasma')).available;
		await sleep(1500);
		const back = await admin.api.patch(`/api/blood-bank/units/${r0.body.unit.id}`, { version: q.body.unit.version, status: 'available' });
		expect(back.status, JSON.stringify(back.body)).toBe(409);
		expect(back.body.error.code).toBe('INVALID_TRANSITION');
		expect((await stockOf('A-', 'plasma')).available).toBe(before);
		expect((await getItem(app, 'blood_units', { id: r0.body.unit.id }))!.status).toBe('quarantined');
		await expectStockConsistent();
	});

	it('only expired bags left: the issue is 409 INSUFFICIENT_STOCK with available 0, never an expired unit', async () => {
		const r0 = await admin.api.post('/api/blood-bank/units', {
			bloodGroup: 'B-',
			component: 'whole_blood',
			bagNumber: bag('OLD'),
			collectedAt: hoursAgo(100),
			expiresAt: new Date(Date.now() + 1000).toISOString()
		});
		expect(r0.status).toBe(201);
		const before = (await stockOf('B-', 'whole_blood')).available;
		await sleep(1300);
		const r = await issue('B-', 'whole_blood', before);
		expect(r.status, JSON.stringify(r.body)).toBe(409);
		expect(r.body.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { requested: before, available: before - 1 } });
		expect((await getItem(app, 'blood_units', { id: r0.body.unit.id }))!.status).toBe('expired');
		await expectStockConsistent();
	});

	it('units issued for a patient must be compatible with the patient’s recorded group: A+ red cells for an O+ patient are 409 INCOMPATIBLE_BLOOD, nothing issued; O- red cells and A+ plasma go', async () => {
		await addUnits('A+', 'red_cells', 2);
		await addUnits('O-', 'red_cells', 1);
		await addUnits('A+', 'plasma', 1);
		const recipient = await getItem(app, 'patients', { id: patient.patientId! });
		expect(recipient!.blood_group).toBe('O+');
		const before = { a: (await stockOf('A+', 'red_cells')).available };
		const bad = await admin.api.post('/api/blood-bank/issues', { bloodGroup: 'A+', component: 'red_cells', count: 1, reason: 'Ward 2 transfusion', patientId: patient.patientId });
		expect(bad.status, JSON.stringify(bad.body)).toBe(409);
		expect(bad.body.error).toMatchObject({ code: 'INCOMPATIBLE_BLOOD', details: { patientBloodGroup: 'O+', bloodGroup: 'A+', component: 'red_cells', compatible: ['O+', 'O-'] } });
		expect((await stockOf('A+', 'red_cells')).available).toBe(before.a);
		const ok = await admin.api.post('/api/blood-bank/issues', { bloodGroup: 'O-', component: 'red_cells', count: 1, reason: 'Ward 2 transfusion', patientId: patient.patientId });
		expect(ok.status, JSON.stringify(ok.body)).toBe(201);
		const plasma = await admin.api.post('/api/blood-bank/issues', { bloodGroup: 'A+', component: 'plasma', count: 1, reason: 'Ward 2 plasma', patientId: patient.patientId });
		expect(plasma.status, JSON.stringify(plasma.body)).toBe(201);
		await expectStockConsistent();
	});

	it('a bag recorded with a donorId must name a real donor of that group: a forged or mismatched donor is refused, nothing recorded', async () => {
		const donor = await app.userOf('patient');
		expect((await donor.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'B+', consent: true })).status).toBe(200);
		const before = await counts();
		const unit = (extra: Record<string, unknown>) => admin.api.post('/api/blood-bank/units', { bloodGroup: 'B+', component: 'plasma', bagNumber: bag('DNR'), collectedAt: hoursAgo(1), ...extra });
		const forged = await unit({ donorId: crypto.randomUUID() });
		expect(forged.status, JSON.stringify(forged.body)).toBe(404);
		const notADonor = await unit({ donorId: patient.patientId });
		expect(notADonor.status).toBe(404);
		const wrongGroup = await unit({ donorId: donor.patientId, bloodGroup: 'O-' });
		expect(wrongGroup.status).toBe(409);
		expect(wrongGroup.body.error.code).toBe('BLOOD_GROUP_MISMATCH');
		expect(await counts()).toEqual(before);
		const ok = await unit({ donorId: donor.patientId });
		expect(ok.status, JSON.stringify(ok.body)).toBe(201);
		expect(ok.body.unit.donorId).toBe(donor.patientId);
	});

	it('a verified donation’s bags carry the group the blood bank confirms, not whatever the donor typed: a mismatch is 409 and records nothing', async () => {
		const donor = await app.userOf('patient');
		// The donor claims the most wanted group.
		expect((await donor.api.request('PUT', '/api/blood-bank/donors/me', { bloodGroup: 'O-', consent: true })).status).toBe(200);
		const before = await counts();
		const body = { donorId: donor.patientId, collectedAt: hoursAgo(1), units: [{ component: 'red_cells', bagNumber: bag('DON') }] };
		const missing = await admin.api.post('/api/blood-bank/donations', body);
		expect400(missing, 'bloodGroup', 'a donation without the confirmed group');
		const wrong = await admin.api.post('/api/blood-bank/donations', { ...body, bloodGroup: 'A+' });
		expect(wrong.status, JSON.stringify(wrong.body)).toBe(409);
		expect(wrong.body.error).toMatchObject({ code: 'BLOOD_GROUP_MISMATCH', details: { donorBloodGroup: 'O-', bloodGroup: 'A+' } });
		expect(await counts()).toEqual(before);
		const right = await admin.api.post('/api/blood-bank/donations', { ...body, bloodGroup: 'O-' });
		expect(right.status, JSON.stringify(right.body)).toBe(201);
		expect(right.body.units[0]).toMatchObject({ bloodGroup: 'O-' });
	});
});

describe('alert storms', () => {
	async function adminSocket() {
		const s = socketOf(admin);
		await connected(s);
		expect(await subscribe(s, 'role:admin')).toEqual({ ok: true });
		const out = { critical: [] as StockAlertEvent[], recovered: [] as StockAlertEvent[] };
		s.on('stock:critical', (e) => out.critical.push(e));
		s.on('stock:recovered', (e) => out.recovered.push(e));
		return out;
	}
	const criticalNotices = async (key: string) => (await scanAll(app, 'notifications')).filter((n) => n.kind === 'blood_stock_critical' && n.related_id === key);
	const criticalOutbox = async (key: string) => (await scanAll(app, 'outbox')).filter((n) => n.kind === 'blood_stock_critical' && n.related_id === key);

	it('20 concurrent issues crossing the threshold alert once (one event, one notice and one outbox row per admin); recovered then low again alerts again', async () => {
		const key = 'A-#red_cells';
		await addUnits('A-', 'red_cells', 20);
		await setThreshold('A-', 'red_cells', 15);
		const n0 = (await criticalNotices(key)).length;
		const o0 = (await criticalOutbox(key)).length;
		const live = await adminSocket();
		const results = await Promise.all(Array.from({ length: 20 }, (_, i) => issue('A-', 'red_cells', 1, i % 2 ? admin : admin2)));
		expect(results.filter((r) => r.status === 201)).toHaveLength(20);
		await sleep(300);
		const admins = (await scanAll(app, 'users')).filter((u) => ['admin', 'super_admin'].includes(u.role) && u.active).length;
		expect(live.critical.filter((e) => e.bloodGroup === 'A-' && e.component === 'red_cells')).toHaveLength(1);
		expect((await criticalNotices(key)).length - n0).toBe(admins);
		expect((await criticalOutbox(key)).length - o0).toBe(admins);
		// recovery, then a new drop: a new crossing alerts again
		await addUnits('A-', 'red_cells', 15);
		await sleep(200);
		expect(live.recovered.filter((e) => e.bloodGroup === 'A-' && e.component === 'red_cells')).toHaveLength(1);
		const again = await Promise.all(Array.from({ length: 5 }, () => issue('A-', 'red_cells', 1)));
		expect(again.every((r) => r.status === 201)).toBe(true);
		await sleep(300);
		expect(live.critical.filter((e) => e.bloodGroup === 'A-' && e.component === 'red_cells')).toHaveLength(2);
		expect((await criticalNotices(key)).length - n0).toBe(2 * admins);
		await expectStockConsistent();
	});

	it('two blood-stock worker runs at once expire each unit once and alert once', async () => {
		await setThreshold('AB+', 'platelets', 2);
		const key = 'AB+#platelets';
		const made: string[] = [];
		for (let i = 0; i < 3; i++) {
			const r = await admin.api.post('/api/blood-bank/units', {
				bloodGroup: 'AB+',
				component: 'platelets',
				bagNumber: bag('EXP'),
				collectedAt: hoursAgo(100),
				expiresAt: new Date(Date.now() + 1500).toISOString()
			});
			expect(r.status, JSON.stringify(r.body)).toBe(201);
			made.push(r.body.unit.id);
		}
		expect((await stockOf('AB+', 'platelets')).available).toBe(3);
		await sleep(1700);
		const n0 = (await criticalNotices(key)).length;
		const [a, b] = (await Promise.all([runOnce(app.ctx, bloodStock), runOnce(app.ctx, bloodStock)])) as { expired: number; critical: number }[];
		const units = (await scanAll(app, 'blood_units')).filter((u) => made.includes(u.id));
		expect(units.map((u) => u.status)).toEqual(['expired', 'expired', 'expired']);
		expect((await stockOf('AB+', 'platelets')).available).toBe(0);
		expect(await auditEntries(app, (e) => made.includes(e.resource_id) && e.action === 'expire')).toHaveLength(3);
		expect(a!.expired + b!.expired).toBeGreaterThanOrEqual(3);
		const admins = (await scanAll(app, 'users')).filter((u) => ['admin', 'super_admin'].includes(u.role) && u.active).length;
		expect((await criticalNotices(key)).length - n0).toBe(admins);
		await expectStockConsistent();
	});

	it('two pharmacy-alerts runs at once tell each expiry threshold once per pharmacist and write an expired batch off once', async () => {
		const m = await medicine('Twicemycin', { threshold: 0 });
		await batch(m.id, 'TW-7', 4, addDays(today, 7));
		await batch(m.id, 'TW-1', 3, addDays(today, 1));
		const job = JOBS.find((j) => j.name === 'pharmacy-alerts')!;
		await Promise.all([runOnce(app.ctx, job), runOnce(app.ctx, job)]);
		const notices = (await scanAll(app, 'notifications')).filter((n) => n.related_id === m.id && n.kind === 'pharmacy_expiry');
		expect(notices.filter((n) => n.user_id === pharmacist.id)).toHaveLength(2);
		expect(notices.filter((n) => n.user_id === pharmacist2.id)).toHaveLength(2);
		// Two days on, TW-1 has expired: two concurrent runs write it off once.
		const later = addDays(today, 2);
		await Promise.all([runPharmacyAlerts(app.ctx, { on: later }), runPharmacyAlerts(app.ctx, { on: later })]);
		const moves = (await scanAll(app, 'stock_movements')).filter((x) => x.medicine_id === m.id && x.kind === 'expired');
		expect(moves.map((x) => x.quantity)).toEqual([3]);
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(4);
		expect(await auditEntries(app, (e) => e.resource_id === m.id && e.action === 'write_off_expired')).toHaveLength(1);
		await expectStockConsistent();
	});
});

describe('low-stock claim left behind by a race', () => {
	it('measured: a dispense below the threshold racing a delivery above it, 12 rounds: how often the claim is left standing above the threshold; the hourly job clears every one', async () => {
		let stale = 0;
		const ids: string[] = [];
		for (let round = 0; round < 12; round++) {
			const m = await medicine(`Racelow ${round}`, { threshold: 10 });
			ids.push(m.id);
			await batch(m.id, 'RL-1', 12);
			const [d, b] = await Promise.all([
				pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 5 }),
				pharmacist2.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'RL-2', quantity: 20, expiresOn: addDays(today, 100) })
			]);
			expect([d.status, b.status]).toEqual([201, 201]);
			if (await getItem(app, 'locks', { id: `pharmacy-low#${m.id}` })) stale++;
		}
		console.log(`[stock-attacks] low-stock claim left standing at 27 on hand (threshold 10): ${stale} of 12 rounds`);
		await runPharmacyAlerts(app.ctx);
		for (const id of ids) expect(await getItem(app, 'locks', { id: `pharmacy-low#${id}` })).toBeUndefined();
	});

	it('a drop claimed while a delivery lifted the stock (the delivery read it before the drop) is cleared by the hourly job, so the next real drop is told', async () => {
		const m = await medicine('Claimazole', { threshold: 10 });
		await batch(m.id, 'CZ-1', 30);
		// The interleaving: dispense 30 → 0 commits and claims the drop; a delivery that read the stock
		// before that dispense (30, not low) commits +20 and so does not clear the claim. Here it is made
		// deterministic: the claim stands while the stock is 30, above its threshold.
		await app.ctx.db.doc.send(
			new PutCommand({ TableName: app.ctx.db.tables.locks, Item: { id: `pharmacy-low#${m.id}`, kind: 'pharmacy-alert', ttl: Math.floor(Date.now() / 1000) + 86_400, claimed_at: new Date().toISOString() } })
		);
		await runPharmacyAlerts(app.ctx);
		expect(await getItem(app, 'locks', { id: `pharmacy-low#${m.id}` })).toBeUndefined();
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 25 })).status).toBe(201);
		const told = (await scanAll(app, 'notifications')).filter((n) => n.related_id === m.id && n.kind === 'pharmacy_low_stock' && n.user_id === pharmacist.id);
		expect(told).toHaveLength(1);
	});
});

describe('CSV export and report ranges', () => {
	it('formula-looking names and strengths are neutralised, quotes and line breaks quoted; every row has six cells', async () => {
		const names = ['=HYPERLINK("http://evil","x")', '+cmd|\' /C calc\'!A0', '@SUM(1+1)*cmd', '-2+3+cmd', 'Plain "quoted", name'];
		const ids: string[] = [];
		for (const n of names) ids.push((await medicine(n, { strength: '=1+1' })).id);
		// Characters the schema refuses never reach a cell
		for (const n of ['\tTabbed', '\rCarriage', 'Line\nbreak']) {
			expect((await pharmacist.api.post('/api/medicines', { name: n, form: 'tablet', strength: '1 mg', threshold: 0 })).status).toBe(400);
		}
		for (const id of ids) await batch(id, 'CSV-1', 3);
		const csv = await pharmacist.api.get(`/api/pharmacy/report.csv?from=${addDays(today, -1)}&to=${today}`);
		expect(csv.status).toBe(200);
		const text = String(csv.body);
		const rows = text.split('\r\n').filter(Boolean);
		expect(rows[0]).toBe('Medicine,Strength,Received,Dispensed,Expired,On hand');
		expect(rows).toContain(`"'=HYPERLINK(""http://evil"",""x"")",'=1+1,3,0,0,3`);
		expect(rows).toContain(`'+cmd|' /C calc'!A0,'=1+1,3,0,0,3`);
		expect(rows).toContain(`'@SUM(1+1)*cmd,'=1+1,3,0,0,3`);
		expect(rows).toContain(`'-2+3+cmd,'=1+1,3,0,0,3`);
		expect(rows).toContain(`"Plain ""quoted"", name",'=1+1,3,0,0,3`);
		// No cell of any row starts with a formula character
		for (const line of rows.slice(1)) {
			const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
			for (const c of cells.slice(0, 2)) expect(c, line).not.toMatch(/^[=+\-@\t\r]/);
		}
	});

	it('from after to, absurd or malformed ranges are 400 naming the field, never 500 or a huge scan', async () => {
		const cases: [string, string][] = [
			[`from=${today}&to=${addDays(today, -1)}`, 'from'],
			[`from=0001-01-01&to=${today}`, 'to'],
			[`from=${today}&to=9999-12-31`, 'to'],
			[`from=2026-02-30&to=${today}`, 'from'],
			[`from=${today}`, 'to'],
			[`from=today&to=${today}`, 'from'],
			[`from=${today}&to=${today}&extra=1`, ''],
			[`from=${today}%00&to=${today}`, 'from'],
			[`from[]=${today}&to=${today}`, 'from']
		];
		for (const [q, field] of cases) {
			const t0 = Date.now();
			for (const url of [`/api/pharmacy/report?${q}`, `/api/pharmacy/report.csv?${q}`]) {
				const r = await pharmacist.api.get(url);
				expect400(r, field || undefined, url);
			}
			expect(Date.now() - t0).toBeLessThan(2_000);
		}
	});
});

describe('database frozen during a dispense', () => {
	let dataDir: string;
	let db: LocalDb;
	let own: TestApp;
	let ph: TestUser;

	beforeAll(async () => {
		dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtrack-stock-outage-'));
		db = await startDynamoLocal({ port: await freePort(), dataDir });
		own = await startTestApp({ DYNAMODB_ENDPOINT: db.endpoint });
		ph = await own.userOf('pharmacist');
	});
	afterAll(async () => {
		db?.thaw();
		await own?.close();
		await db?.stop();
		if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it('dispenses in flight when DynamoDB freezes answer 503 DATABASE_UNAVAILABLE; after the thaw stock, records, movements and audit agree (no half write)', async () => {
		const m = (await ph.api.post('/api/medicines', { name: 'Frozenol', form: 'tablet', strength: '5 mg', threshold: 0 })).body.medicine;
		expect((await ph.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'FZ-1', quantity: 200, expiresOn: addDays(todayInZone('UTC'), 100) })).status).toBe(201);
		// A steady stream of dispenses, then the freeze in the middle of it.
		let stop = false;
		const statuses: number[] = [];
		const bodies: ApiResponse[] = [];
		const stream = (async () => {
			while (!stop) {
				const batchOf = await Promise.all(Array.from({ length: 4 }, () => ph.api.post('/api/dispensations', { medicineId: m.id, quantity: 1 })));
				for (const r of batchOf) {
					statuses.push(r.status);
					if (r.status !== 201) bodies.push(r);
				}
				if (batchOf.some((r) => r.status !== 201)) return;
			}
		})();
		while (statuses.length < 8) await sleep(10);
		db.freeze();
		const frozenAt = performance.now();
		const r = await ph.api.post('/api/dispensations', { medicineId: m.id, quantity: 1 });
		const ms = performance.now() - frozenAt;
		await stream;
		stop = true;
		console.log(`[stock-attacks] dispense during freeze: ${r.status} in ${Math.round(ms)} ms; stream ${statuses.length} answers`);
		expect(r.status).toBe(503);
		expect(r.body.error.code).toBe('DATABASE_UNAVAILABLE');
		expect(ms).toBeLessThan(6_000);
		for (const b of bodies) {
			expect(b.status).toBe(503);
			expect(b.body.error.code).toBe('DATABASE_UNAVAILABLE');
		}
		db.thaw();
		// Back: wait until the server answers again, then read what was stored.
		const t0 = Date.now();
		while ((await ph.api.get(`/api/medicines/${m.id}`)).status !== 200) {
			if (Date.now() - t0 > 15_000) throw new Error('not back after the thaw');
			await sleep(200);
		}
		await sleep(1500); // anything the frozen process had accepted has been applied by now
		const stored = (await getItem(own, 'medicines', { id: m.id }))!;
		const batches = (await scanAll(own, 'medicine_batches')).filter((b) => b.medicine_id === m.id && b.kind === 'batch');
		const records = (await scanAll(own, 'dispensing')).filter((d) => d.medicine_id === m.id);
		const moves = (await scanAll(own, 'stock_movements')).filter((x) => x.medicine_id === m.id && x.kind === 'dispensed');
		const audits = await auditEntries(own, (e) => e.resource_id === m.id && e.action === 'dispense');
		const acked = statuses.filter((s) => s === 201).length;
		console.log(`[stock-attacks] after thaw: acked ${acked}, records ${records.length}, on_hand ${stored.on_hand}`);
		expect(stored.on_hand).toBe(batches.reduce((n, b) => n + b.quantity, 0));
		expect(stored.on_hand).toBe(200 - records.length);
		expect(moves).toHaveLength(records.length);
		expect(audits).toHaveLength(records.length);
		// Every dispense acknowledged is stored; nothing is stored that the client was told twice.
		expect(records.length).toBeGreaterThanOrEqual(acked);
		// And it dispenses again.
		const after = await ph.api.post('/api/dispensations', { medicineId: m.id, quantity: 1 });
		expect(after.status).toBe(201);
	});
});

describe('at the end of all of this', () => {
	it('every medicine counter equals the sum of its batches and every blood counter the number of available bags', async () => {
		await expectStockConsistent();
	});
});
