import crypto from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, getItem, runWorkerOnce, scanAll, sleep } from './helpers';
import { runPharmacyAlerts } from '../../src/lib/server/services/pharmacy';
import { dispense } from '../../src/lib/server/services/dispensing';
import { createContext } from '../../src/lib/server/context';
import { runOnce } from '../../worker/scheduler';
import { JOBS } from '../../worker/jobs';
import { addDays } from '../../src/lib/shared/time';
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from '../../src/lib/shared/realtime';

/**
 * The dispensary: medicines and batches, dispensing that never takes stock below zero however
 * many pharmacists press at once, prescriptions from visits queued live and settled once,
 * expiry and low-stock alerts told once, and the inventory report with its CSV.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let app: TestApp;
let tz: string;
let today: string;
let pharmacist: TestUser;
let pharmacist2: TestUser;
let admin: TestUser;
let nurse: TestUser;
let doctor: TestUser;
let desk: TestUser;
let patient: TestUser;
const open: ClientSocket[] = [];
const INTERNAL_TOKEN = crypto.randomBytes(24).toString('hex');

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz, INTERNAL_TOKEN });
	doctor = await alwaysOpenDoctor(app, { name: 'Dr Olga Brandt' });
	[pharmacist, pharmacist2, admin, nurse, desk, patient] = await Promise.all([
		app.userOf('pharmacist', { name: 'Pia Pharm' }),
		app.userOf('pharmacist', { name: 'Paul Pharm' }),
		app.userOf('admin'),
		app.userOf('nurse'),
		app.userOf('front_desk'),
		app.userOf('patient', { name: 'Greta Lindqvist' })
	]);
});
afterEach(() => {
	for (const s of open.splice(0)) s.close();
});
afterAll(async () => app?.close());

async function medicine(name: string, extra: Record<string, unknown> = {}) {
	const r = await pharmacist.api.post('/api/medicines', { name, form: 'tablet', strength: '500 mg', threshold: 5, ...extra });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.medicine as { id: string; version: number; name: string };
}

async function batch(medicineId: string, batchNumber: string, quantity: number, expiresOn: string) {
	const r = await pharmacist.api.post(`/api/medicines/${medicineId}/batches`, { batchNumber, quantity, expiresOn });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body;
}

function socket(user: TestUser): ClientSocket {
	const s: ClientSocket = io(app.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: user.token } });
	open.push(s);
	return s;
}
async function joined(user: TestUser, room: string): Promise<ClientSocket> {
	const s = socket(user);
	await new Promise<void>((resolve, reject) => {
		s.once('connect', () => resolve());
		s.once('connect_error', reject);
	});
	const ack = await new Promise<SubscribeAck>((resolve) => s.emit('subscribe', { room }, resolve));
	if (!ack.ok) throw Object.assign(new Error(ack.error.message), { code: ack.error.code });
	return s;
}

const notificationsOf = async (userId: string, relatedId: string, kind: string) =>
	(await scanAll(app, 'notifications')).filter((n) => n.user_id === userId && n.related_id === relatedId && n.kind === kind);

describe('medicines and batches', () => {
	it('creates a medicine, receives batches and reads them first-expiring first; a repeated batch number is 409', async () => {
		const m = await medicine('Amoxicillin');
		await batch(m.id, 'AMX-2', 40, addDays(today, 200));
		await batch(m.id, 'AMX-1', 10, addDays(today, 90));
		const r = await nurse.api.get(`/api/medicines/${m.id}`);
		expect(r.status).toBe(200);
		expect(r.body.medicine).toMatchObject({ id: m.id, name: 'Amoxicillin', form: 'tablet', strength: '500 mg', threshold: 5, onHand: 50, version: 3 });
		expect(r.body.medicine.batches.map((b: { batchNumber: string; quantity: number }) => [b.batchNumber, b.quantity])).toEqual([
			['AMX-1', 10],
			['AMX-2', 40]
		]);
		const again = await pharmacist.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'amx-1', quantity: 5, expiresOn: addDays(today, 30) });
		expect(again.status).toBe(409);
		expect(again.body.error.code).toBe('ALREADY_EXISTS');
		expect((await pharmacist.api.get(`/api/medicines/${m.id}`)).body.medicine.onHand).toBe(50);
		const audit = await auditEntries(app, (e) => e.resource_id === m.id && e.resource_type === 'medicine');
		expect(audit.map((e) => e.action).sort()).toEqual(['create', 'receive_batch', 'receive_batch']);
	});

	it('searches by name prefix, case-insensitively, in pages with signed cursors', async () => {
		for (const n of ['Zolmitriptan', 'zopiclone', 'Zonisamide', 'Zidovudine']) await medicine(n);
		const first = await doctor.api.get('/api/medicines?prefix=ZO&limit=2');
		expect(first.status).toBe(200);
		expect(first.body.items.map((m: { name: string }) => m.name)).toEqual(['Zolmitriptan', 'Zonisamide']);
		expect(first.body.nextCursor).toBeTruthy();
		const second = await doctor.api.get(`/api/medicines?prefix=zo&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
		expect(second.body.items.map((m: { name: string }) => m.name)).toEqual(['zopiclone']);
		const forged = await doctor.api.get(`/api/medicines?prefix=zi&cursor=${encodeURIComponent(first.body.nextCursor)}`);
		expect(forged.status).toBe(400);
		expect(forged.body.error.code).toBe('INVALID_CURSOR');
	});
});

describe('dispensing never goes below zero', () => {
	it('100 concurrent dispenses of 1 against 50 in stock: 50 succeed, 50 are 409 INSUFFICIENT_STOCK, stock 0, 50 records, 50 audit entries', async () => {
		const m = await medicine('Paracetamol', { threshold: 0 });
		await batch(m.id, 'P-EARLY', 20, addDays(today, 20));
		await batch(m.id, 'P-LATE', 30, addDays(today, 300));
		const t0 = Date.now();
		const results = await Promise.all(
			Array.from({ length: 100 }, (_, i) => (i % 2 ? pharmacist : pharmacist2).api.post('/api/dispensations', { medicineId: m.id, quantity: 1 }))
		);
		const ms = Date.now() - t0;
		const ok = results.filter((r) => r.status === 201);
		const short = results.filter((r) => r.status === 409);
		console.log(`[pharmacy] 100 concurrent dispenses vs 50: ${ok.length} dispensed, ${short.length} refused, ${ms} ms`);
		expect(results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body)).toEqual([]);
		expect(ok).toHaveLength(50);
		expect(short).toHaveLength(50);
		for (const r of short) expect(r.body.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { requested: 1, available: 0, missing: 1 } });
		const stored = await getItem(app, 'medicines', { id: m.id });
		expect(stored!.on_hand).toBe(0);
		const batches = (await scanAll(app, 'medicine_batches')).filter((b) => b.medicine_id === m.id && b.kind === 'batch');
		expect(batches.map((b) => b.quantity)).toEqual([0, 0]);
		expect((await scanAll(app, 'dispensing')).filter((d) => d.medicine_id === m.id)).toHaveLength(50);
		expect(await auditEntries(app, (e) => e.resource_id === m.id && e.action === 'dispense')).toHaveLength(50);
		// first-expiring first: the early batch's 20 went out in the first 20 dispensations
		const early = (await scanAll(app, 'dispensing')).filter((d) => d.medicine_id === m.id && d.batches[0].batch_number === 'P-EARLY');
		expect(early).toHaveLength(20);
	});

	it('two server processes racing on one medicine (no shared memory) still stop at zero', async () => {
		const m = await medicine('Prednisolone', { threshold: 0 });
		await batch(m.id, 'PR-1', 10, addDays(today, 15));
		await batch(m.id, 'PR-2', 20, addDays(today, 45));
		// A second context is what a second instance holds: its own client, its own lanes.
		const other = createContext(app.ctx.config);
		const callers = [pharmacist, pharmacist2].map((u) => ({ actor: { id: u.id, email: u.email, name: u.name, role: u.role }, requestId: 'race', ip: '127.0.0.1' }));
		const t0 = Date.now();
		const results = await Promise.allSettled(
			Array.from({ length: 60 }, (_, i) => dispense(i % 2 ? app.ctx : other, callers[i % 2]!, { medicineId: m.id, quantity: 1 }))
		);
		console.log(`[pharmacy] 60 dispenses from two contexts vs 30: ${results.filter((r) => r.status === 'fulfilled').length} dispensed, ${Date.now() - t0} ms`);
		other.db.raw.destroy();
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(30);
		const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
		expect(refused.map((r) => (r.reason as { code?: string }).code)).toEqual(Array(30).fill('INSUFFICIENT_STOCK'));
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(0);
		expect((await scanAll(app, 'dispensing')).filter((d) => d.medicine_id === m.id)).toHaveLength(30);
	});

	it('mixed quantities at once: taken in order while they fit, each refusal saying what was left for it, never below zero', async () => {
		const m = await medicine('Diclofenac', { threshold: 0 });
		await batch(m.id, 'DC-1', 7, addDays(today, 20));
		await batch(m.id, 'DC-2', 8, addDays(today, 60));
		const sizes = [4, 6, 3, 9, 2, 5, 1, 8, 2, 3];
		const results = await Promise.all(sizes.map((q) => pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: q })));
		const dispensed = results.filter((r) => r.status === 201).reduce((n, r) => n + (r.body.dispensation.quantity as number), 0);
		expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
		const stored = (await getItem(app, 'medicines', { id: m.id }))!.on_hand as number;
		expect(stored).toBe(15 - dispensed);
		expect(stored).toBeGreaterThanOrEqual(0);
		for (const r of results.filter((x) => x.status === 409)) {
			const d = r.body.error.details;
			expect(d.requested).toBeGreaterThan(d.available);
			expect(d.missing).toBe(d.requested - d.available);
		}
		const batches = (await scanAll(app, 'medicine_batches')).filter((b) => b.medicine_id === m.id && b.kind === 'batch');
		expect(batches.reduce((n, b) => n + b.quantity, 0)).toBe(stored);
		expect(batches.every((b) => b.quantity >= 0)).toBe(true);
		const records = (await scanAll(app, 'dispensing')).filter((x) => x.medicine_id === m.id);
		expect(records.reduce((n, x) => n + x.quantity, 0)).toBe(dispensed);
		expect(await auditEntries(app, (e) => e.resource_id === m.id && e.action === 'dispense')).toHaveLength(records.length);
	});

	it('splits across batches first-expiring first; when short says exactly what is missing', async () => {
		const m = await medicine('Ibuprofen');
		await batch(m.id, 'I-1', 3, addDays(today, 10));
		await batch(m.id, 'I-2', 4, addDays(today, 40));
		const r = await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 5 });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.dispensation.batches).toEqual([
			{ batchNumber: 'I-1', quantity: 3, expiresOn: addDays(today, 10) },
			{ batchNumber: 'I-2', quantity: 2, expiresOn: addDays(today, 40) }
		]);
		expect(r.body.dispensation.onHand).toBe(2);
		const short = await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 9 });
		expect(short.status).toBe(409);
		expect(short.body.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { medicineId: m.id, requested: 9, available: 2, missing: 7 } });
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(2);
	});

	it('refuses bad input with 400 naming the field, unknown medicines with 404, and changes nothing', async () => {
		const m = await medicine('Cetirizine');
		await batch(m.id, 'C-1', 5, addDays(today, 100));
		const cases: [string, unknown][] = [
			['/api/dispensations', { medicineId: m.id, quantity: -1 }],
			['/api/dispensations', { medicineId: m.id, quantity: 0 }],
			['/api/dispensations', { medicineId: m.id, quantity: 1.5 }],
			['/api/dispensations', { medicineId: '../../etc', quantity: 1 }],
			['/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: 'x'.repeat(80) }],
			['/api/dispensations', { medicineId: m.id, quantity: 1, extra: true }],
			['/api/medicines', { name: 'Bad\u0007name', form: 'tablet', strength: '1 mg', threshold: 1 }],
			['/api/medicines', { name: 'Fine', form: 'potion', strength: '1 mg', threshold: 1 }],
			['/api/medicines', { name: 'Fine', form: 'tablet', strength: '1 mg', threshold: -3 }],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B\u202E1', quantity: 1, expiresOn: addDays(today, 5) }],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-9', quantity: -5, expiresOn: addDays(today, 5) }],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-9', quantity: 5, expiresOn: '2026-02-30' }],
			[`/api/medicines/${m.id}/batches`, { batchNumber: 'B-9', quantity: 5, expiresOn: addDays(today, -1) }]
		];
		for (const [path, payload] of cases) {
			const r = await pharmacist.api.post(path, payload);
			expect(r.status, `${path} ${JSON.stringify(payload)} → ${JSON.stringify(r.body)}`).toBe(400);
			expect(r.body.error.code).toBe('VALIDATION_FAILED');
			expect(r.body.error.details.length).toBeGreaterThan(0);
		}
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: 'no-such-medicine', quantity: 1 })).status).toBe(404);
		expect((await pharmacist.api.post('/api/medicines/no-such-medicine/batches', { batchNumber: 'X', quantity: 1, expiresOn: addDays(today, 5) })).status).toBe(404);
		expect((await pharmacist.api.get('/api/medicines/no-such-medicine')).status).toBe(404);
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: 'no-such-rx' })).status).toBe(404);
		expect((await pharmacist.api.get('/api/medicines/bad%24id')).status).toBe(400);
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(5);
	});

	it('patients and doctors cannot dispense, nurses cannot add medicines (403, audited); doctors and nurses read stock', async () => {
		const m = await medicine('Metformin');
		await batch(m.id, 'M-1', 5, addDays(today, 100));
		for (const who of [patient, doctor, nurse, desk]) {
			const r = await who.api.post('/api/dispensations', { medicineId: m.id, quantity: 1 });
			expect(r.status, who.role).toBe(403);
		}
		expect((await nurse.api.post('/api/medicines', { name: 'Nurse drug', form: 'tablet', strength: '1 mg', threshold: 1 })).status).toBe(403);
		expect((await doctor.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'D-1', quantity: 1, expiresOn: addDays(today, 5) })).status).toBe(403);
		expect((await patient.api.get(`/api/medicines/${m.id}`)).status).toBe(403);
		expect((await patient.api.get('/api/pharmacy/queue')).status).toBe(403);
		expect((await doctor.api.get('/api/pharmacy/queue')).status).toBe(403);
		expect((await doctor.api.get(`/api/medicines/${m.id}`)).status).toBe(200);
		expect((await admin.api.post('/api/dispensations', { medicineId: m.id, quantity: 1 })).status).toBe(201);
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(4);
		const denied = await auditEntries(app, (e) => e.outcome === 'denied' && e.resource_type === 'pharmacy' && [patient.id, doctor.id, nurse.id, desk.id].includes(e.user_id));
		expect(denied.length).toBeGreaterThanOrEqual(6);
	});
});

describe('prescriptions from visits', () => {
	async function visitWith(prescriptions: unknown[]) {
		const slots = await freeSlots(desk, doctor.doctorId!, today);
		const booked = await desk.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[3]!.start, symptoms: 'cough', patientId: patient.patientId });
		expect(booked.status, JSON.stringify(booked.body)).toBe(201);
		let a = booked.body.appointment;
		a = (await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN' })).body.appointment;
		a = (await doctor.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CONSULTING' })).body.appointment;
		const rec = (await doctor.api.get(`/api/medical-records/${a.medicalRecordId}`)).body.record;
		const saved = await doctor.api.patch(`/api/medical-records/${rec.id}`, { version: rec.version, diagnosis: 'Bronchitis', prescriptions });
		expect(saved.status, JSON.stringify(saved.body)).toBe(200);
		return { appointment: a, record: saved.body.record };
	}

	it('a prescription written in a visit reaches the open queue live, with name and allergies, and is dispensed once; doctor and patient see it dispensed', async () => {
		const m = await medicine('Azithromycin');
		await batch(m.id, 'AZ-1', 10, addDays(today, 100));

		const queueSocket = await joined(pharmacist, 'pharmacy');
		const queued = new Promise<{ prescriptionId: string }>((resolve) => queueSocket.on('pharmacy:queue', (e) => e.status === 'pending' && resolve(e)));
		const { record } = await visitWith([{ medicine: 'Azithromycin 250 mg', dosage: '1 tablet', frequency: 'once daily', days: 3 }]);
		const event = await queued;
		// allergies recorded on the chart show in the queue as they stand now
		const chart = (await doctor.api.get(`/api/patients/${patient.patientId}`)).body.patient;
		const al = await doctor.api.request('PUT', `/api/patients/${patient.patientId}/allergies`, {
			version: chart.version,
			allergies: [{ substance: 'Latex', reaction: 'rash', severity: 'mild' }]
		});
		expect(al.status, JSON.stringify(al.body)).toBe(200);
		expect(record.prescriptionStatus).toEqual([{ id: event.prescriptionId, medicine: 'Azithromycin 250 mg', status: 'pending' }]);

		const q = await pharmacist.api.get('/api/pharmacy/queue');
		expect(q.status).toBe(200);
		const entry = q.body.items.find((e: { id: string }) => e.id === event.prescriptionId);
		expect(entry).toMatchObject({ patientName: 'Greta Lindqvist', medicine: 'Azithromycin 250 mg', doctorName: 'Dr Olga Brandt', status: 'pending' });
		expect(entry.allergies).toEqual([expect.objectContaining({ substance: 'Latex', severity: 'mild' })]);

		const recordSocket = await joined(doctor, `record:medical_record:${record.id}`);
		const patientSocket = await joined(patient, `user:${patient.id}`);
		const doctorSaw = new Promise((resolve) => recordSocket.on('prescription:updated', resolve));
		const patientSaw = new Promise((resolve) => patientSocket.on('prescription:updated', resolve));
		const d = await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 3, prescriptionId: event.prescriptionId });
		expect(d.status, JSON.stringify(d.body)).toBe(201);
		expect(await doctorSaw).toMatchObject({ id: event.prescriptionId, status: 'dispensed', recordId: record.id, dispensedBy: 'Pia Pharm' });
		expect(await patientSaw).toMatchObject({ id: event.prescriptionId, status: 'dispensed' });

		const again = await pharmacist2.api.post('/api/dispensations', { medicineId: m.id, quantity: 3, prescriptionId: event.prescriptionId });
		expect(again.status).toBe(409);
		expect(again.body.error.code).toBe('INVALID_TRANSITION');
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(7);
		const after = await pharmacist.api.get('/api/pharmacy/queue');
		expect(after.body.items.some((e: { id: string }) => e.id === event.prescriptionId)).toBe(false);
		const seenByDoctor = (await doctor.api.get(`/api/medical-records/${record.id}`)).body.record;
		expect(seenByDoctor.prescriptionStatus[0]).toMatchObject({ status: 'dispensed', dispensedBy: 'Pia Pharm' });
		const seenByPatient = (await patient.api.get(`/api/medical-records?patientId=${patient.patientId}`)).body.records.find((r: { id: string }) => r.id === record.id);
		expect(seenByPatient.prescriptionStatus[0].status).toBe('dispensed');
	});

	it('a save keeps unchanged prescriptions, queues new ones and withdraws removed pending ones; a dispensed one stays dispensed', async () => {
		const m = await medicine('Omeprazole');
		await batch(m.id, 'O-1', 10, addDays(today, 100));
		const a = { medicine: 'Omeprazole 20 mg', dosage: '1 capsule', frequency: 'daily', days: 14 };
		const b = { medicine: 'Salbutamol inhaler', dosage: '2 puffs', frequency: 'as needed', days: 30 };
		const c = { medicine: 'Ibuprofen 400 mg', dosage: '1 tablet', frequency: 'three times daily', days: 5 };
		const { record } = await visitWith([a, b]);
		const [idA, idB] = record.prescriptionStatus.map((s: { id: string }) => s.id);
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 1, prescriptionId: idA })).status).toBe(201);
		const cur = (await doctor.api.get(`/api/medical-records/${record.id}`)).body.record;
		const saved = await doctor.api.patch(`/api/medical-records/${record.id}`, { version: cur.version, prescriptions: [a, c] });
		expect(saved.status, JSON.stringify(saved.body)).toBe(200);
		const status = saved.body.record.prescriptionStatus;
		expect(status[0]).toMatchObject({ id: idA, status: 'dispensed' });
		expect(status[1]).toMatchObject({ medicine: 'Ibuprofen 400 mg', status: 'pending' });
		expect((await getItem(app, 'prescriptions', { id: idB }))!.status).toBe('cancelled');
		const queue = (await pharmacist.api.get('/api/pharmacy/queue')).body.items.map((e: { id: string }) => e.id);
		expect(queue).toContain(status[1].id);
		expect(queue).not.toContain(idB);
		// a diagnosis-only save touches no prescription
		const cur2 = (await doctor.api.get(`/api/medical-records/${record.id}`)).body.record;
		const plain = await doctor.api.patch(`/api/medical-records/${record.id}`, { version: cur2.version, notes: 'review in a week' });
		expect(plain.body.record.prescriptionStatus.map((s: { id: string }) => s.id)).toEqual([idA, status[1].id]);
	});

	it('an amendment of a completed visit that replaces a pending prescription withdraws it and queues the new one', async () => {
		const first = { medicine: 'Codeine 30 mg', dosage: '1 tablet', frequency: 'every 6 hours', days: 3 };
		const instead = { medicine: 'Paracetamol 1 g', dosage: '1 tablet', frequency: 'every 6 hours', days: 3 };
		const { appointment, record } = await visitWith([first]);
		const oldId = record.prescriptionStatus[0].id as string;
		const a = (await doctor.api.get(`/api/appointments/${appointment.id}`)).body.appointment;
		expect((await doctor.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'COMPLETED' })).status).toBe(200);
		const closed = (await doctor.api.get(`/api/medical-records/${record.id}`)).body.record;
		const amended = await doctor.api.post(`/api/medical-records/${record.id}/amendments`, {
			version: closed.version,
			reason: 'Codeine is not suitable for this patient',
			changes: { prescriptions: [instead] }
		});
		expect(amended.status, JSON.stringify(amended.body)).toBe(201);
		const [now] = amended.body.record.prescriptionStatus;
		expect(now).toMatchObject({ medicine: 'Paracetamol 1 g', status: 'pending' });
		expect((await getItem(app, 'prescriptions', { id: oldId }))!.status).toBe('cancelled');
		const queue = (await pharmacist.api.get('/api/pharmacy/queue')).body.items.map((e: { id: string }) => e.id);
		expect(queue).toContain(now.id);
		expect(queue).not.toContain(oldId);
		const m = await medicine('Codeine');
		await batch(m.id, 'COD-1', 10, addDays(today, 100));
		const late = await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 12, prescriptionId: oldId });
		expect(late.status).toBe(409);
		expect(late.body.error.message).toContain('withdrawn');
	});

	it('two pharmacists pressing Dispense on the same prescription at once: one dispenses, the other is told it was already dispensed', async () => {
		const m = await medicine('Clarithromycin');
		await batch(m.id, 'CL-1', 50, addDays(today, 100));
		const { record } = await visitWith([{ medicine: 'Clarithromycin 500 mg', dosage: '1 tablet', frequency: 'twice daily', days: 7 }]);
		const rxId = record.prescriptionStatus[0].id as string;
		const [a, b, plain] = await Promise.all([
			pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 14, prescriptionId: rxId }),
			pharmacist2.api.post('/api/dispensations', { medicineId: m.id, quantity: 14, prescriptionId: rxId }),
			pharmacist2.api.post('/api/dispensations', { medicineId: m.id, quantity: 5 })
		]);
		expect([a.status, b.status].sort()).toEqual([201, 409]);
		expect([a, b].find((r) => r.status === 409)!.body.error.code).toBe('INVALID_TRANSITION');
		expect(plain.status).toBe(201);
		expect((await getItem(app, 'medicines', { id: m.id }))!.on_hand).toBe(50 - 14 - 5);
		expect((await scanAll(app, 'dispensing')).filter((d) => d.prescription_id === rxId)).toHaveLength(1);
	});

	it('only pharmacists and administrators may join the pharmacy room', async () => {
		await expect(joined(patient, 'pharmacy')).rejects.toThrow();
		await expect(joined(doctor, 'pharmacy')).rejects.toThrow();
		await expect(joined(admin, 'pharmacy')).resolves.toBeTruthy();
	});
});

describe('alerts', () => {
	it('expiry alerts fire once per batch and threshold across repeated worker runs, to every pharmacist, live', async () => {
		const m = await medicine('Insulin glargine', { form: 'injection', strength: '100 U/ml', threshold: 0 });
		const days = [30, 15, 7, 5, 3, 1, 60];
		for (const d of days) await batch(m.id, `INS-${d}`, 2, addDays(today, d));
		const live = await joined(pharmacist, 'pharmacy');
		const heard: string[] = [];
		live.on('pharmacy:alert', (e) => e.kind === 'expiry' && e.medicineId === m.id && heard.push(`${e.batchNumber}@${e.daysLeft}`));
		const job = JOBS.find((j) => j.name === 'pharmacy-alerts')!;
		await runOnce(app.ctx, job);
		await runOnce(app.ctx, job);
		await runPharmacyAlerts(app.ctx);
		const mine = async (user: TestUser) => (await notificationsOf(user.id, m.id, 'pharmacy_expiry')).map((n) => n.title as string).sort();
		// 30, 15, 7, 5 (its 7-day alert), 3 and 1 days; nothing for 60 days
		expect(await mine(pharmacist)).toHaveLength(6);
		expect(await mine(pharmacist2)).toHaveLength(6);
		await sleep(100);
		expect(heard.sort()).toEqual(['INS-1@1', 'INS-15@15', 'INS-3@3', 'INS-30@30', 'INS-5@5', 'INS-7@7'].sort());

		// Two days later: 30→28 (no new threshold), 15→13, 7→5 (7 told already), 5→3, 3→1; 1 has expired and is written off.
		const later = addDays(today, 2);
		const r1 = await runPharmacyAlerts(app.ctx, { on: later });
		const r2 = await runPharmacyAlerts(app.ctx, { on: later });
		expect(r2.expiryAlerts).toBe(0);
		expect(r1.writtenOff).toBeGreaterThanOrEqual(1);
		const titles = await mine(pharmacist);
		expect(titles).toHaveLength(6 + 2);
		expect(titles.filter((t) => t.startsWith('Batch INS-5 '))).toHaveLength(2);
		expect(titles.filter((t) => t.startsWith('Batch INS-3 '))).toHaveLength(2);
		const stored = await getItem(app, 'medicines', { id: m.id });
		expect(stored!.on_hand).toBe(12);
		const claims = (await scanAll(app, 'locks')).filter((l) => String(l.id).startsWith(`pharmacy-expiry#${m.id}#`));
		expect(claims).toHaveLength(8);
	});

	it('`npm run worker -- --once pharmacy-alerts` runs the job as its own process and tells nothing already told', async () => {
		const m = await medicine('Heparin', { form: 'injection', strength: '5000 IU', threshold: 0 });
		await batch(m.id, 'HEP-1', 3, addDays(today, 14));
		const run = () => runWorkerOnce(app, 'pharmacy-alerts', { INTERNAL_TOKEN, HOSPITAL_TIMEZONE: tz });
		const live = await joined(pharmacist, 'pharmacy');
		const heard = new Promise((resolve) => live.on('pharmacy:alert', (e) => e.medicineId === m.id && resolve(e)));
		const first = await run();
		expect(first.code, first.out).toBe(0);
		expect(await heard).toMatchObject({ kind: 'expiry', batchNumber: 'HEP-1', daysLeft: 14 });
		const second = await run();
		expect(second.code, second.out).toBe(0);
		expect(await notificationsOf(pharmacist.id, m.id, 'pharmacy_expiry')).toHaveLength(1);
		const result = second.result!;
		expect(result.expiryAlerts).toBe(0);
	});

	it('low stock is told once per drop below the threshold, again after a delivery and a new drop', async () => {
		const m = await medicine('Warfarin', { strength: '5 mg', threshold: 10 });
		await batch(m.id, 'W-1', 12, addDays(today, 200));
		const live = await joined(pharmacist2, 'pharmacy');
		const heard: number[] = [];
		live.on('pharmacy:alert', (e) => e.kind === 'low_stock' && e.medicineId === m.id && heard.push(e.onHand));
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 3 })).status).toBe(201);
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 1 })).status).toBe(201);
		await runPharmacyAlerts(app.ctx);
		expect(await notificationsOf(pharmacist.id, m.id, 'pharmacy_low_stock')).toHaveLength(1);
		expect(await notificationsOf(pharmacist2.id, m.id, 'pharmacy_low_stock')).toHaveLength(1);
		await batch(m.id, 'W-2', 20, addDays(today, 300));
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 20 })).status).toBe(201);
		expect(await notificationsOf(pharmacist.id, m.id, 'pharmacy_low_stock')).toHaveLength(2);
		await sleep(100);
		expect(heard).toEqual([9, 8]);
		const alerts = (await pharmacist.api.get('/api/pharmacy/alerts')).body.alerts;
		expect(alerts).toContainEqual({ kind: 'low_stock', medicineId: m.id, medicineName: 'Warfarin', onHand: 8, threshold: 10 });
	});
});

describe('inventory report', () => {
	it('counts received, dispensed and expired per medicine in the range and what was on hand at its end, as JSON and CSV', async () => {
		const m = await medicine('=HYPERLINK("http://evil")', { strength: '1, "strong"', threshold: 0 });
		await batch(m.id, 'R-1', 20, addDays(today, 100));
		await batch(m.id, 'R-2', 6, today);
		expect((await pharmacist.api.post('/api/dispensations', { medicineId: m.id, quantity: 5 })).status).toBe(201);
		await runPharmacyAlerts(app.ctx, { on: addDays(today, 1) }); // R-2 expires: 1 of its 6 was dispensed first (first-expiring)
		const r = await doctor.api.get(`/api/pharmacy/report?from=${addDays(today, -3)}&to=${today}`);
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		const row = r.body.report.rows.find((x: { medicineId: string }) => x.medicineId === m.id);
		expect(row).toMatchObject({ received: 26, dispensed: 5, expired: 1, onHand: 20 });
		const before = await doctor.api.get(`/api/pharmacy/report?from=${addDays(today, -3)}&to=${addDays(today, -1)}`);
		expect(before.body.report.rows.find((x: { medicineId: string }) => x.medicineId === m.id)).toMatchObject({ received: 0, dispensed: 0, expired: 0, onHand: 0 });

		const csv = await pharmacist.api.get(`/api/pharmacy/report.csv?from=${addDays(today, -3)}&to=${today}`);
		expect(csv.status).toBe(200);
		expect(csv.headers.get('content-type')).toContain('text/csv');
		expect(csv.headers.get('content-disposition')).toContain('attachment');
		const lines = String(csv.body).split('\r\n');
		expect(lines[0]).toBe('Medicine,Strength,Received,Dispensed,Expired,On hand');
		expect(lines).toContain(`"'=HYPERLINK(""http://evil"")","1, ""strong""",26,5,1,20`);
		expect((await pharmacist.api.get(`/api/pharmacy/report?from=${today}&to=${addDays(today, -1)}`)).status).toBe(400);
		expect((await patient.api.get(`/api/pharmacy/report?from=${today}&to=${today}`)).status).toBe(403);
	});
});
