import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, sleep } from './helpers';
import { addDays } from '../../src/lib/shared/time';

/**
 * Care (SPEC §2) cannot be self-granted, clinical fields follow care, and emergency access
 * ("break the glass") opens a chart for a while, audited and announced to super admins.
 */
let app: TestApp;
let tz: string;
let today: string;
let doctor: TestUser;
let stranger: TestUser;
let nurse: TestUser;
let desk: TestUser;
let admin: TestUser;
let superAdmin: TestUser;

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz, EMERGENCY_ACCESS_MINUTES: '0.05' });
	[doctor, stranger] = await Promise.all([alwaysOpenDoctor(app), alwaysOpenDoctor(app)]);
	[nurse, desk, admin, superAdmin] = await Promise.all([
		app.userOf('nurse'),
		app.userOf('front_desk'),
		app.userOf('admin'),
		app.userOf('super_admin')
	]);
});
afterAll(async () => app?.close());

let cursor = 4;
async function slot(d: TestUser, date = today): Promise<string> {
	const s = await freeSlots(desk, d.doctorId!, date);
	const pick = s[cursor++ % s.length];
	if (!pick) throw new Error('no free slot');
	return pick.start;
}

async function bookBy(by: TestUser, patient: TestUser, d: TestUser, date = today) {
	return by.api.post('/api/appointments', {
		doctorId: d.doctorId,
		start: await slot(d, date),
		symptoms: 'chest pain on exertion',
		...(by.role === 'patient' ? {} : { patientId: patient.patientId })
	});
}

const denials = (u: TestUser) => auditEntries(app, (e) => e.user_id === u.id && e.outcome === 'denied' && e.resource_type === 'appointment');

describe('care cannot be self-granted', () => {
	it('a doctor who books an unknown patient with himself gets 403 (audited), and still cannot read the chart or open a chat', async () => {
		const patient = await app.userOf('patient');
		const before = (await denials(stranger)).length;
		const r = await bookBy(stranger, patient, stranger);
		expect(r.status, JSON.stringify(r.body)).toBe(403);
		expect(r.body.error.code).toBe('FORBIDDEN');
		expect((await denials(stranger)).length).toBe(before + 1);
		expect((await stranger.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
		expect((await stranger.api.get(`/api/medical-records?patientId=${patient.patientId}`)).status).toBe(403);
		expect((await stranger.api.post('/api/conversations', { patientId: patient.patientId })).status).toBe(403);
	});

	it('a nurse books nothing, not even for today (403, audited)', async () => {
		const patient = await app.userOf('patient');
		const before = (await denials(nurse)).length;
		const r = await bookBy(nurse, patient, doctor);
		expect(r.status).toBe(403);
		expect((await denials(nurse)).length).toBe(before + 1);
		expect((await nurse.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
	});

	it('a doctor cannot book a patient with another doctor, and a patient books only for themselves', async () => {
		const patient = await app.userOf('patient');
		const other = await app.userOf('patient');
		expect((await bookBy(stranger, patient, doctor)).status).toBe(403);
		const forOther = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: await slot(doctor), symptoms: 'cough', patientId: other.patientId });
		expect(forOther.status).toBe(403);
	});

	it('the patient, the front desk and an admin book; the doctor then books a follow-up for the patient now in his care', async () => {
		const patient = await app.userOf('patient');
		expect((await bookBy(patient, patient, doctor)).status).toBe(201);
		expect((await bookBy(desk, patient, doctor, addDays(today, 1))).status).toBe(201);
		expect((await bookBy(admin, patient, doctor, addDays(today, 2))).status).toBe(201);
		const followUp = await bookBy(doctor, patient, doctor, addDays(today, 7));
		expect(followUp.status, JSON.stringify(followUp.body)).toBe(201);
		expect(followUp.body.appointment.priority).toBe('normal');
	});

	it('a cancelled booking with no visit grants nothing: the chart and the chat close again', async () => {
		const patient = await app.userOf('patient');
		const booked = await bookBy(patient, patient, stranger);
		expect(booked.status).toBe(201);
		expect((await stranger.api.get(`/api/patients/${patient.patientId}`)).status).toBe(200);
		const chat = await patient.api.post('/api/conversations', { doctorId: stranger.doctorId });
		expect(chat.status).toBe(201);
		const a = booked.body.appointment;
		expect((await patient.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CANCELLED' })).status).toBe(200);
		expect((await stranger.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
		expect((await stranger.api.get(`/api/conversations/${chat.body.conversation.id}/messages`)).status).toBe(403);
		const send = await patient.api.post(`/api/conversations/${chat.body.conversation.id}/messages`, { clientId: crypto.randomUUID(), text: 'still there?' });
		expect(send.status).toBe(403);
		// And the doctor cannot book himself back into care.
		expect((await bookBy(stranger, patient, stranger, addDays(today, 3))).status).toBe(403);
	});

	it('a visit that took place keeps care after a later booking is cancelled', async () => {
		const patient = await app.userOf('patient');
		let a = (await bookBy(desk, patient, doctor)).body.appointment;
		for (const [who, status] of [[nurse, 'CHECKED_IN'], [doctor, 'CONSULTING'], [doctor, 'COMPLETED']] as const) {
			const r = await who.api.patch(`/api/appointments/${a.id}`, { version: a.version, status });
			expect(r.status, JSON.stringify(r.body)).toBe(200);
			a = r.body.appointment;
		}
		const later = (await bookBy(doctor, patient, doctor, addDays(today, 5))).body.appointment;
		expect((await doctor.api.patch(`/api/appointments/${later.id}`, { version: later.version, status: 'CANCELLED' })).status).toBe(200);
		expect((await doctor.api.get(`/api/patients/${patient.patientId}`)).status).toBe(200);
		expect((await doctor.api.get(`/api/medical-records?patientId=${patient.patientId}`)).status).toBe(200);
	});
});

describe('clinical fields follow care', () => {
	it('a nurse listing a patient with no appointment today sees names and times only; with one today, the symptoms too', async () => {
		const patient = await app.userOf('patient');
		const tomorrow = (await bookBy(desk, patient, doctor, addDays(today, 1))).body.appointment;
		const list = await nurse.api.get(`/api/appointments?patientId=${patient.patientId}`);
		expect(list.status).toBe(200);
		const row = list.body.appointments.find((x: { id: string }) => x.id === tomorrow.id);
		expect(row).toMatchObject({ patientName: patient.name, start: tomorrow.start, clinical: false });
		for (const field of ['symptoms', 'notes', 'vitals', 'medicalRecordId']) expect(row).not.toHaveProperty(field);
		expect((await nurse.api.get(`/api/appointments/${tomorrow.id}`)).body.appointment.symptoms).toBeUndefined();

		await bookBy(desk, patient, doctor);
		const again = await nurse.api.get(`/api/appointments?patientId=${patient.patientId}`);
		for (const x of again.body.appointments) expect(x.symptoms).toBe('chest pain on exertion');
	});

	it('the front desk board and queue carry no symptoms or vitals; the treating doctor and the patient see them', async () => {
		const patient = await app.userOf('patient');
		const a = (await bookBy(desk, patient, doctor)).body.appointment;
		const checked = await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN' });
		await nurse.api.post(`/api/appointments/${a.id}/vitals`, { version: checked.body.appointment.version, temperatureC: 38.5 });
		const board = await desk.api.get(`/api/appointments?date=${today}`);
		const onBoard = board.body.appointments.find((x: { id: string }) => x.id === a.id);
		expect(onBoard.clinical).toBe(false);
		expect(onBoard.symptoms).toBeUndefined();
		const queue = await desk.api.get(`/api/doctors/${doctor.doctorId}/queue`);
		expect(queue.body.queue.find((x: { id: string }) => x.id === a.id).vitals).toBeUndefined();
		const docQueue = await doctor.api.get(`/api/doctors/${doctor.doctorId}/queue`);
		expect(docQueue.body.queue.find((x: { id: string }) => x.id === a.id).vitals.temperatureC).toBe(38.5);
		expect((await patient.api.get(`/api/appointments/${a.id}`)).body.appointment.symptoms).toBe('chest pain on exertion');
	});
});

describe('emergency access (break the glass)', () => {
	it('a nurse outside care is refused with an offer of emergency access; a reason under 10 characters is a 400', async () => {
		const patient = await app.userOf('patient');
		const r = await nurse.api.get(`/api/patients/${patient.patientId}`);
		expect(r.status).toBe(403);
		expect(r.body.error.details.emergencyAccess).toBe(`/api/patients/${patient.patientId}/emergency-access`);
		const short = await nurse.api.post(`/api/patients/${patient.patientId}/emergency-access`, { reason: 'urgent' });
		expect(short.status).toBe(400);
		expect(short.body.error.details[0].field).toBe('reason');
		expect((await desk.api.post(`/api/patients/${patient.patientId}/emergency-access`, { reason: 'front desk wants to look' })).status).toBe(403);
	});

	it('grants read access, audited with the reason, announced live and in the notification centre to every super admin, and expires', async () => {
		const patient = await app.userOf('patient', { name: 'Glass Patient' });
		const socket: Socket = io(app.url, { path: '/socket.io', transports: ['websocket'], auth: { token: superAdmin.token } });
		await new Promise<void>((resolve, reject) => {
			socket.on('connect', () => resolve());
			socket.on('connect_error', reject);
		});
		const live = new Promise<{ kind: string; relatedId?: string; title: string }>((resolve) =>
			socket.on('notification:new', (n) => n.kind === 'emergency_access' && n.relatedId === patient.patientId && resolve(n))
		);
		const reason = 'Unconscious on arrival in the ED, no relatives reachable';
		const granted = await nurse.api.post(`/api/patients/${patient.patientId}/emergency-access`, { reason });
		expect(granted.status, JSON.stringify(granted.body)).toBe(201);
		expect(granted.body.access.kind).toBe('emergency');
		const note = await live;
		expect(note.title).toContain('Glass Patient');
		socket.disconnect();

		const [entry] = await auditEntries(app, (e) => e.action === 'emergency_access' && e.resource_id === patient.patientId);
		expect(entry).toMatchObject({ user_id: nurse.id, role: 'nurse', reason, outcome: 'success', resource_type: 'patient' });
		const centre = await superAdmin.api.get('/api/notifications');
		expect(centre.body.items.some((n: { kind: string; relatedId: string }) => n.kind === 'emergency_access' && n.relatedId === patient.patientId)).toBe(true);

		const chart = await nurse.api.get(`/api/patients/${patient.patientId}`);
		expect(chart.status).toBe(200);
		expect(chart.body.patient.access.kind).toBe('emergency');
		expect(Date.parse(chart.body.patient.access.expiresAt)).toBeGreaterThan(Date.now());
		expect((await nurse.api.get(`/api/medical-records?patientId=${patient.patientId}`)).status).toBe(200);
		// Read only: nothing can be written through it.
		const write = await nurse.api.request('PUT', `/api/patients/${patient.patientId}/allergies`, { version: chart.body.patient.version, allergies: [] });
		expect(write.status).toBe(403);

		// EMERGENCY_ACCESS_MINUTES is 0.05 here: three seconds.
		await sleep(Date.parse(chart.body.patient.access.expiresAt) - Date.now() + 200);
		expect((await nurse.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
		expect((await nurse.api.get(`/api/medical-records?patientId=${patient.patientId}`)).status).toBe(403);
	});

	it('a clinician already caring for the patient is told so and no grant is made', async () => {
		const patient = await app.userOf('patient');
		await bookBy(desk, patient, doctor);
		const r = await doctor.api.post(`/api/patients/${patient.patientId}/emergency-access`, { reason: 'checking something urgent' });
		expect(r.status).toBe(200);
		expect(r.body.access).toEqual({ kind: 'care' });
		expect(await auditEntries(app, (e) => e.action === 'emergency_access' && e.resource_id === patient.patientId)).toHaveLength(0);
	});
});

describe('booking rules', () => {
	it('a patient cannot hold two overlapping appointments (409 PATIENT_BUSY), even when ten are booked at once', async () => {
		const patient = await app.userOf('patient');
		const doctors = await Promise.all(Array.from({ length: 10 }, () => alwaysOpenDoctor(app)));
		const start = (await freeSlots(patient, doctor.doctorId!, addDays(today, 3)))[20]!.start;
		const results = await Promise.all(
			doctors.map((d) => patient.api.post('/api/appointments', { doctorId: d.doctorId, start, symptoms: 'same time everywhere' }))
		);
		expect(results.filter((r) => r.status === 201)).toHaveLength(1);
		const refused = results.filter((r) => r.status !== 201);
		expect(refused).toHaveLength(9);
		for (const r of refused) expect([409]).toContain(r.status);
		expect(refused.some((r) => r.body.error.code === 'PATIENT_BUSY')).toBe(true);
		const mine = await patient.api.get(`/api/appointments?patientId=${patient.patientId}`);
		expect(mine.body.appointments).toHaveLength(1);
		// A later, non-overlapping time is fine; a move onto the booked time is refused.
		const other = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: (await freeSlots(patient, doctor.doctorId!, addDays(today, 3)))[40]!.start, symptoms: 'later that day' });
		expect(other.status).toBe(201);
		const moved = await desk.api.patch(`/api/appointments/${other.body.appointment.id}`, { version: other.body.appointment.version, start });
		expect(moved.status).toBe(409);
		expect(['PATIENT_BUSY', 'SLOT_TAKEN']).toContain(moved.body.error.code);
	});

	it('a doctor marked off duty cannot be booked (409 DOCTOR_OFF_DUTY)', async () => {
		const off = await alwaysOpenDoctor(app);
		const start = (await freeSlots(desk, off.doctorId!, addDays(today, 1)))[0]!.start;
		const d = (await off.api.get(`/api/doctors/${off.doctorId}`)).body.doctor;
		expect((await off.api.patch(`/api/doctors/${off.doctorId}`, { version: d.version, status: 'off' })).status).toBe(200);
		const patient = await app.userOf('patient');
		const r = await patient.api.post('/api/appointments', { doctorId: off.doctorId, start, symptoms: 'routine check' });
		expect(r.status).toBe(409);
		expect(r.body.error.code).toBe('DOCTOR_OFF_DUTY');
	});
});

describe('finding a patient to break the glass', () => {
	it('a doctor or nurse searching by name gets name and date of birth only, and the search is audited', async () => {
		await app.userOf('patient', { name: 'Quentin Searchable' });
		const r = await nurse.api.get('/api/patients?name=quentin');
		expect(r.status).toBe(200);
		expect(r.body.items).toHaveLength(1);
		expect(Object.keys(r.body.items[0]).sort()).toEqual(['dateOfBirth', 'id', 'name']);
		expect(await auditEntries(app, (e) => e.user_id === nurse.id && e.action === 'search')).toHaveLength(1);
	});
});
