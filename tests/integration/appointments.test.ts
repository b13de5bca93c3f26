import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { io, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { QueuePlaces } from '../../src/lib/client/appointments';

let app: TestApp;
let tz: string;
let today: string;
let doctor: TestUser;
let otherDoctor: TestUser;
let patient: TestUser;
let otherPatient: TestUser;
let nurse: TestUser;
let desk: TestUser;
let admin: TestUser;

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	[doctor, otherDoctor] = await Promise.all([alwaysOpenDoctor(app), alwaysOpenDoctor(app)]);
	[patient, otherPatient, nurse, desk, admin] = await Promise.all([
		app.userOf('patient'),
		app.userOf('patient'),
		app.userOf('nurse'),
		app.userOf('front_desk'),
		app.userOf('admin')
	]);
});
afterAll(async () => app?.close());

let slotCursor = 8;
async function nextSlot(): Promise<string> {
	const slots = await freeSlots(patient, doctor.doctorId!, today);
	const s = slots[slotCursor++ % slots.length];
	if (!s) throw new Error('no free slot today');
	return s.start;
}

async function book(by: TestUser = patient, extra: Record<string, unknown> = {}) {
	const start = await nextSlot();
	const r = await by.api.post('/api/appointments', {
		doctorId: doctor.doctorId,
		start,
		symptoms: 'fever and cough for three days',
		reportedUrgency: 'normal',
		...extra
	});
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.appointment;
}

async function setStatus(by: TestUser, appt: { id: string; version: number }, status: string, extra: Record<string, unknown> = {}) {
	return by.api.patch(`/api/appointments/${appt.id}`, { version: appt.version, status, ...extra });
}

describe('booking', () => {
	it('a new doctor works Monday to Friday 09:00-17:00 in 15-minute slots', async () => {
		const fresh = await app.userOf('doctor');
		const d = await fresh.api.get(`/api/doctors/${fresh.doctorId}`);
		expect(d.body.doctor.slotMinutes).toBe(15);
		expect(d.body.doctor.weekly).toEqual([1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })));
	});

	it('slots are ISO 8601 with the hospital offset and a booked slot disappears from the free list', async () => {
		const before = await freeSlots(patient, doctor.doctorId!, today);
		expect(before[0]!.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00[+-]\d{2}:\d{2}$/);
		const appt = await book();
		expect(appt.status).toBe('PENDING');
		expect(appt.version).toBe(1);
		const after = await freeSlots(patient, doctor.doctorId!, today);
		expect(after.map((s) => s.start)).not.toContain(appt.start);
		expect(after.length).toBe(before.length - 1);
	});

	it('20 concurrent bookings of one slot: exactly one wins, the others are offered the nearest free slots', async () => {
		const start = await nextSlot();
		const patients = await Promise.all(Array.from({ length: 20 }, () => app.userOf('patient')));
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				patients[i]!.api.post('/api/appointments', { doctorId: doctor.doctorId, start, symptoms: 'headache since morning' })
			)
		);
		const won = results.filter((r) => r.status === 201);
		const lost = results.filter((r) => r.status === 409);
		expect(won).toHaveLength(1);
		expect(lost).toHaveLength(19);
		for (const r of lost) {
			expect(r.body.error.code).toBe('SLOT_TAKEN');
			expect(r.body.error.details.alternatives.length).toBeGreaterThan(0);
			expect(r.body.error.details.alternatives.map((s: { start: string }) => s.start)).not.toContain(start);
		}
		const stored = await app.setup.doc.send(new ScanCommand({ TableName: app.ctx.db.tables.appointments }));
		expect((stored.Items ?? []).filter((a) => a.doctor_id === doctor.doctorId && a.start === new Date(start).toISOString())).toHaveLength(1);
	});

	it('listing doctors with a date gives each one that day\'s free slot count', async () => {
		const r = await patient.api.get(`/api/doctors?specialization=Cardiology&date=${today}`);
		expect(r.status).toBe(200);
		const mine = r.body.doctors.find((d: { id: string }) => d.id === doctor.doctorId);
		expect(mine.freeSlots).toBe((await freeSlots(patient, doctor.doctorId!, today)).length);
		expect((await patient.api.get('/api/doctors?specialization=Cardiology')).body.doctors[0].freeSlots).toBeUndefined();
	});

	it('a slot that is not on the schedule is refused with a 400 naming start', async () => {
		const r = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: `${today}T10:07:00+00:00`, symptoms: 'rash on arm' });
		expect(r.status).toBe(400);
		expect(r.body.error.details[0].field).toBe('start');
	});

	it('a patient cannot book for another patient', async () => {
		const start = await nextSlot();
		const r = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start, symptoms: 'back pain', patientId: otherPatient.patientId });
		expect(r.status).toBe(403);
	});
});

describe('status machine', () => {
	it('walks PENDING → CONFIRMED → CHECKED_IN → CONSULTING → COMPLETED and issues the invoice', async () => {
		let a = await book();
		let r = await setStatus(desk, a, 'CONFIRMED');
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		a = r.body.appointment;
		r = await setStatus(nurse, a, 'CHECKED_IN');
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		a = r.body.appointment;
		expect(a.checkedInAt).toBeTruthy();
		const v = await nurse.api.post(`/api/appointments/${a.id}/vitals`, { version: a.version, temperatureC: 38.2, pulseBpm: 92, systolic: 124, diastolic: 81, spo2: 97, weightKg: 70.5 });
		expect(v.status, JSON.stringify(v.body)).toBe(200);
		a = v.body.appointment;
		expect(a.vitals.temperatureC).toBe(38.2);
		r = await setStatus(doctor, a, 'CONSULTING');
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		a = r.body.appointment;
		expect(a.medicalRecordId).toBeTruthy();
		const rec = await doctor.api.get(`/api/medical-records/${a.medicalRecordId}`);
		expect(rec.status).toBe(200);
		const saved = await doctor.api.patch(`/api/medical-records/${a.medicalRecordId}`, {
			version: rec.body.record.version,
			diagnosis: 'Influenza A',
			treatment: 'Rest and fluids',
			prescriptions: [{ medicine: 'Paracetamol', dosage: '500 mg', frequency: 'every 6 hours', days: 5 }]
		});
		expect(saved.status, JSON.stringify(saved.body)).toBe(200);
		r = await setStatus(doctor, a, 'COMPLETED');
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		const inv = await patient.api.get(`/api/invoices?patientId=${patient.patientId}`);
		expect(inv.status).toBe(200);
		const invoice = inv.body.invoices.find((i: { appointmentId: string }) => i.appointmentId === a.id);
		expect(invoice.totalCents).toBe(5000);
		expect(invoice.status).toBe('unpaid');
		const mine = await patient.api.get(`/api/medical-records?patientId=${patient.patientId}`);
		expect(mine.body.records[0].diagnosis).toBe('Influenza A');
		expect(mine.body.records[0].vitals.spo2).toBe(97);
	});

	it('an illegal transition gets 409 INVALID_TRANSITION naming the current status', async () => {
		const a = await book();
		const r = await setStatus(doctor, a, 'COMPLETED');
		expect(r.status).toBe(409);
		expect(r.body.error.code).toBe('INVALID_TRANSITION');
		expect(r.body.error.details.currentStatus).toBe('PENDING');
		expect(r.body.error.message).toContain('Pending');
	});

	it('each role may set only its own transitions (a nurse cannot complete, a patient cannot confirm)', async () => {
		const a = await book();
		expect((await setStatus(patient, a, 'CONFIRMED')).status).toBe(403);
		expect((await setStatus(nurse, a, 'CONSULTING')).status).toBe(403);
		expect((await setStatus(admin, a, 'CONFIRMED')).status).toBe(403);
		expect((await setStatus(otherDoctor, a, 'CONFIRMED')).status).toBe(403);
		expect((await setStatus(otherPatient, a, 'CANCELLED')).status).toBe(404);
		const own = await setStatus(patient, a, 'CANCELLED', { reason: 'feeling better' });
		expect(own.status).toBe(200);
		expect(own.body.appointment.status).toBe('CANCELLED');
	});

	it('cancelling frees the slot for someone else', async () => {
		const a = await book();
		await setStatus(desk, a, 'CANCELLED');
		const r = await otherPatient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: a.start, symptoms: 'sore throat' });
		expect(r.status).toBe(201);
	});

	it('front desk reschedules to another slot: status RESCHEDULED, old slot free again', async () => {
		const a = await book();
		const target = await nextSlot();
		const r = await desk.api.patch(`/api/appointments/${a.id}`, { version: a.version, start: target });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		expect(r.body.appointment.status).toBe('RESCHEDULED');
		expect(r.body.appointment.start).toBe(target);
		const free = (await freeSlots(patient, doctor.doctorId!, today)).map((s) => s.start);
		expect(free).toContain(a.start);
		expect(free).not.toContain(target);
	});

	it('every transition notifies the patient in-app and queues an SMS in the outbox', async () => {
		const a = await book();
		await setStatus(desk, a, 'CONFIRMED');
		const n = await patient.api.get('/api/notifications');
		expect(n.body.items.some((x: { kind: string; relatedId: string }) => x.kind === 'appointment_confirmed' && x.relatedId === a.id)).toBe(true);
		const out = await app.setup.doc.send(new ScanCommand({ TableName: app.ctx.db.tables.outbox }));
		expect((out.Items ?? []).some((o) => o.related_id === a.id && o.kind === 'appointment_confirmed' && o.channel === 'sms')).toBe(true);
	});
});

describe('concurrency', () => {
	it('50 concurrent saves from one stale version: one succeeds, 49 get 409, the winner’s state is stored', async () => {
		const a = await book();
		const results = await Promise.all(
			Array.from({ length: 50 }, (_, i) =>
				nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, priority: i % 2 ? 'high' : 'critical', symptoms: `note ${i}` })
			)
		);
		const ok = results.filter((r) => r.status === 200);
		const conflicts = results.filter((r) => r.status === 409);
		expect(ok).toHaveLength(1);
		expect(conflicts).toHaveLength(49);
		for (const c of conflicts) expect(c.body.error.code).toBe('VERSION_CONFLICT');
		const now = await nurse.api.get(`/api/appointments/${a.id}`);
		expect(now.body.appointment.version).toBe(a.version + 1);
		expect(now.body.appointment.symptoms).toBe(ok[0]!.body.appointment.symptoms);
	});
});

describe('queue', () => {
	it('orders checked-in patients by priority, then check-in time, and shows the patient their position', async () => {
		const a1 = await book(patient);
		const a2 = await book(desk, { patientId: otherPatient.patientId });
		const a3 = await book(desk, { patientId: otherPatient.patientId });
		// Triage at check-in: the nurse sets the priority the queue orders by.
		for (const [a, priority] of [[a1, 'normal'], [a3, 'normal'], [a2, 'critical']] as const) {
			expect((await setStatus(nurse, a, 'CHECKED_IN', { priority })).status).toBe(200);
		}
		const q = await doctor.api.get(`/api/doctors/${doctor.doctorId}/queue`);
		const ids = q.body.queue.filter((x: { status: string }) => x.status === 'CHECKED_IN').map((x: { id: string }) => x.id);
		expect(ids.indexOf(a2.id)).toBeLessThan(ids.indexOf(a1.id));
		expect(ids.indexOf(a1.id)).toBeLessThan(ids.indexOf(a3.id));
		const mine = await patient.api.get(`/api/appointments/${a1.id}`);
		expect(mine.body.appointment.queuePosition).toBe(ids.indexOf(a1.id) + 1);
		expect((await otherDoctor.api.get(`/api/doctors/${doctor.doctorId}/queue`)).status).toBe(403);
	});

	it('a queue subscriber gets queue:updated when a nurse checks a patient in', async () => {
		const a = await book();
		const socket: Socket = io(app.url, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: doctor.api.cookie! } });
		await new Promise<void>((resolve, reject) => {
			socket.on('connect', () => resolve());
			socket.on('connect_error', reject);
		});
		const ack = await socket.emitWithAck('subscribe', { room: `doctor-queue:${doctor.doctorId}` });
		expect(ack).toEqual({ ok: true });
		const got = new Promise<{ id: string; status: string; version: number }>((resolve) =>
			socket.on('queue:updated', (e) => e.id === a.id && resolve(e))
		);
		const r = await setStatus(nurse, a, 'CHECKED_IN');
		const event = await got;
		expect(event.status).toBe('CHECKED_IN');
		expect(event.version).toBe(r.body.appointment.version);
		const denied = await socket.emitWithAck('subscribe', { room: `doctor-queue:${otherDoctor.doctorId}` });
		expect(denied.ok).toBe(false);
		socket.disconnect();
	});
});

describe('queue positions', () => {
	it('a waiting patient hears their new place when the patient ahead starts their consultation', async () => {
		const waiting = await app.userOf('patient');
		const first = await book(desk, { patientId: otherPatient.patientId });
		const second = await book(desk, { patientId: waiting.patientId });
		const f = (await setStatus(nurse, first, 'CHECKED_IN', { priority: 'critical' })).body.appointment;
		await setStatus(nurse, second, 'CHECKED_IN', { priority: 'critical' });
		const before = await waiting.api.get(`/api/appointments/${second.id}`);
		const socket: Socket = io(app.url, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: waiting.api.cookie! } });
		await new Promise<void>((resolve, reject) => {
			socket.on('connect', () => resolve());
			socket.on('connect_error', reject);
		});
		// As the patient's page does: the place with the highest seq wins. The check-ins' own
		// announcements may still be on their way and arrive after the consultation's.
		const places = new QueuePlaces();
		socket.on('queue:position', (e) => e.appointmentId === second.id && places.offer(e.appointmentId, e));
		expect((await setStatus(doctor, f, 'CONSULTING')).status).toBe(200);
		await expect.poll(() => places.get(second.id)?.position).toBe(before.body.appointment.queuePosition - 1);
		const after = (await waiting.api.get(`/api/appointments/${second.id}`)).body.appointment;
		expect(after.queuePosition).toBe(places.get(second.id)!.position);
		expect(after.queueSeq).toBeGreaterThanOrEqual(places.get(second.id)!.seq);
		socket.disconnect();
	});
});

describe('clinical records access', () => {
	it('a doctor without the patient in care cannot read their records; the denial is audited', async () => {
		const r = await otherDoctor.api.get(`/api/medical-records?patientId=${patient.patientId}`);
		expect(r.status).toBe(403);
		const audit = await app.setup.doc.send(new ScanCommand({ TableName: app.ctx.db.tables.audit_logs }));
		expect((audit.Items ?? []).some((e) => e.user_id === otherDoctor.id && e.outcome === 'denied' && e.resource_type === 'medical_record')).toBe(true);
	});

	it('reading a medical record is audited', async () => {
		const list = await patient.api.get(`/api/medical-records?patientId=${patient.patientId}`);
		expect(list.status).toBe(200);
		const audit = await app.setup.doc.send(new ScanCommand({ TableName: app.ctx.db.tables.audit_logs }));
		expect((audit.Items ?? []).some((e) => e.user_id === patient.id && e.resource_type === 'medical_record' && e.action === 'list')).toBe(true);
	});

	it('another patient gets 404 for someone else’s records', async () => {
		expect((await otherPatient.api.get(`/api/medical-records?patientId=${patient.patientId}`)).status).toBe(404);
	});
});
