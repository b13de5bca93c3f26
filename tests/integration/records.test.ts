import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, getItem } from './helpers';

/**
 * Clinical records are amended, never overwritten: only the author edits an open visit's
 * record; a completed visit's record, vitals, symptoms and priority are closed and change
 * only through amendments that keep what they replaced. Triage belongs to staff. Allergies
 * warn the prescriber.
 */
let app: TestApp;
let tz: string;
let today: string;
let author: TestUser;
let colleague: TestUser;
let outsider: TestUser;
let nurse: TestUser;
let desk: TestUser;

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	[author, colleague, outsider] = await Promise.all([alwaysOpenDoctor(app), alwaysOpenDoctor(app), alwaysOpenDoctor(app)]);
	[nurse, desk] = await Promise.all([app.userOf('nurse'), app.userOf('front_desk')]);
});
afterAll(async () => app?.close());

let cursor = 2;
async function book(patient: TestUser, d: TestUser, extra: Record<string, unknown> = {}) {
	const slots = await freeSlots(desk, d.doctorId!, today);
	const r = await desk.api.post('/api/appointments', { doctorId: d.doctorId, start: slots[cursor++ % slots.length]!.start, symptoms: 'productive cough, fever', patientId: patient.patientId, ...extra });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.appointment;
}

async function move(by: TestUser, a: { id: string; version: number }, body: Record<string, unknown>) {
	const r = await by.api.patch(`/api/appointments/${a.id}`, { version: a.version, ...body });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body.appointment;
}

/** A visit by `author` taken as far as `until`, with vitals and a written record. */
async function visit(patient: TestUser, until: 'CONSULTING' | 'COMPLETED' = 'COMPLETED') {
	let a = await book(patient, author);
	a = await move(nurse, a, { status: 'CHECKED_IN', priority: 'high' });
	const v = await nurse.api.post(`/api/appointments/${a.id}/vitals`, { version: a.version, temperatureC: 38.9, pulseBpm: 104 });
	a = v.body.appointment;
	a = await move(author, a, { status: 'CONSULTING' });
	const rec = (await author.api.get(`/api/medical-records/${a.medicalRecordId}`)).body.record;
	const saved = await author.api.patch(`/api/medical-records/${rec.id}`, { version: rec.version, diagnosis: 'Community-acquired pneumonia', treatment: 'Oral antibiotics' });
	expect(saved.status, JSON.stringify(saved.body)).toBe(200);
	if (until === 'COMPLETED') a = await move(author, a, { status: 'COMPLETED' });
	return { appointment: a, recordId: rec.id as string };
}

describe('open visit: only the author writes', () => {
	it('another doctor caring for the same patient cannot replace the author’s diagnosis (403, audited)', async () => {
		const patient = await app.userOf('patient');
		const { recordId } = await visit(patient, 'CONSULTING');
		await book(patient, colleague); // the colleague has the patient in care too
		const rec = (await colleague.api.get(`/api/medical-records/${recordId}`)).body.record;
		const r = await colleague.api.patch(`/api/medical-records/${recordId}`, { version: rec.version, diagnosis: 'Asthma' });
		expect(r.status).toBe(403);
		expect((await getItem(app, 'medical_records', { id: recordId }))!.diagnosis).toBe('Community-acquired pneumonia');
		expect(await auditEntries(app, (e) => e.user_id === colleague.id && e.resource_id === recordId && e.outcome === 'denied')).toHaveLength(1);
		expect((await nurse.api.patch(`/api/medical-records/${recordId}`, { version: rec.version, diagnosis: 'Asthma' })).status).toBe(403);
	});
});

describe('completed visit: amend, never overwrite', () => {
	it('the author’s PATCH after completion is 409 RECORD_LOCKED and changes nothing', async () => {
		const patient = await app.userOf('patient');
		const { recordId } = await visit(patient);
		const rec = (await author.api.get(`/api/medical-records/${recordId}`)).body.record;
		expect(rec.locked).toBe(true);
		const r = await author.api.patch(`/api/medical-records/${recordId}`, { version: rec.version, diagnosis: 'Bronchitis' });
		expect(r.status).toBe(409);
		expect(r.body.error.code).toBe('RECORD_LOCKED');
		expect((await getItem(app, 'medical_records', { id: recordId }))!.diagnosis).toBe('Community-acquired pneumonia');
	});

	it('an amendment shows the new value and keeps the previous one, who, when and why', async () => {
		const patient = await app.userOf('patient');
		const { recordId } = await visit(patient);
		const rec = (await author.api.get(`/api/medical-records/${recordId}`)).body.record;
		const reason = 'Chest X-ray report arrived: lobar pneumonia confirmed';
		const r = await author.api.post(`/api/medical-records/${recordId}/amendments`, {
			version: rec.version,
			reason,
			changes: { diagnosis: 'Lobar pneumonia, right lower lobe', treatment: 'Oral antibiotics' }
		});
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		const now = (await patient.api.get(`/api/medical-records/${recordId}`)).body.record;
		expect(now.diagnosis).toBe('Lobar pneumonia, right lower lobe');
		expect(now.version).toBe(rec.version + 1);
		expect(now.amendments).toHaveLength(1);
		// treatment did not change, so only the diagnosis is an amended field
		expect(now.amendments[0]).toMatchObject({ by: author.id, byName: author.name, reason, previous: { diagnosis: 'Community-acquired pneumonia' } });
		expect(Object.keys(now.amendments[0].previous)).toEqual(['diagnosis']);
		expect(Date.parse(now.amendments[0].at)).toBeGreaterThan(Date.parse(rec.lockedAt) - 1);
		// A second amendment from the stale version is refused; the first one stays.
		const stale = await author.api.post(`/api/medical-records/${recordId}/amendments`, { version: rec.version, reason, changes: { diagnosis: 'Other' } });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		const [entry] = await auditEntries(app, (e) => e.action === 'amend' && e.resource_id === recordId);
		expect(entry!.changed_fields).toEqual(['diagnosis']);
		expect(JSON.stringify(entry)).not.toContain('pneumonia');
	});

	it('an amendment needs a reason of 10 characters and a real change; before completion it is 409 RECORD_OPEN', async () => {
		const patient = await app.userOf('patient');
		const open = await visit(patient, 'CONSULTING');
		const rec = (await author.api.get(`/api/medical-records/${open.recordId}`)).body.record;
		const early = await author.api.post(`/api/medical-records/${open.recordId}/amendments`, { version: rec.version, reason: 'a valid long reason', changes: { notes: 'x' } });
		expect(early.status).toBe(409);
		expect(early.body.error.code).toBe('RECORD_OPEN');
		const done = await visit(patient);
		const closed = (await author.api.get(`/api/medical-records/${done.recordId}`)).body.record;
		const short = await author.api.post(`/api/medical-records/${done.recordId}/amendments`, { version: closed.version, reason: 'typo', changes: { notes: 'x' } });
		expect(short.status).toBe(400);
		expect(short.body.error.details[0].field).toBe('reason');
		const same = await author.api.post(`/api/medical-records/${done.recordId}/amendments`, { version: closed.version, reason: 'no real change here', changes: { diagnosis: closed.diagnosis } });
		expect(same.status).toBe(400);
	});

	it('a doctor caring for the patient may amend; one outside care and a nurse may not', async () => {
		const patient = await app.userOf('patient');
		const { recordId } = await visit(patient);
		const rec = (await author.api.get(`/api/medical-records/${recordId}`)).body.record;
		const body = { version: rec.version, reason: 'Medication reconciliation at follow-up', changes: { notes: 'Allergic rash reported after discharge' } };
		expect((await outsider.api.post(`/api/medical-records/${recordId}/amendments`, body)).status).toBe(403);
		expect((await nurse.api.post(`/api/medical-records/${recordId}/amendments`, body)).status).toBe(403);
		await book(patient, colleague);
		const r = await colleague.api.post(`/api/medical-records/${recordId}/amendments`, body);
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.record.amendments[0]).toMatchObject({ by: colleague.id, previous: { notes: '' } });
	});

	it('vitals of a completed visit are never re-posted (409 RECORD_LOCKED); an amendment corrects them and keeps the originals', async () => {
		const patient = await app.userOf('patient');
		const { appointment, recordId } = await visit(patient);
		const repost = await nurse.api.post(`/api/appointments/${appointment.id}/vitals`, { version: appointment.version, temperatureC: 36.6 });
		expect(repost.status).toBe(409);
		expect(repost.body.error.code).toBe('RECORD_LOCKED');
		const rec = (await author.api.get(`/api/medical-records/${recordId}`)).body.record;
		expect(rec.vitals).toMatchObject({ temperatureC: 38.9, pulseBpm: 104 });
		const r = await author.api.post(`/api/medical-records/${recordId}/amendments`, { version: rec.version, reason: 'Pulse was transcribed wrongly', changes: { vitals: { pulseBpm: 94 } } });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.record.vitals).toMatchObject({ temperatureC: 38.9, pulseBpm: 94 });
		expect(r.body.record.amendments[0].previous.vitals).toMatchObject({ temperatureC: 38.9, pulseBpm: 104 });
	});

	it('nobody changes a completed, cancelled or missed appointment’s symptoms or priority', async () => {
		const patient = await app.userOf('patient');
		const { appointment } = await visit(patient);
		for (const [who, body] of [
			[patient, { symptoms: 'rewritten by the patient' }],
			[desk, { symptoms: 'rewritten by the desk' }],
			[nurse, { priority: 'critical' }],
			[author, { priority: 'normal' }]
		] as const) {
			const r = await who.api.patch(`/api/appointments/${appointment.id}`, { version: appointment.version, ...body });
			expect(r.status, `${who.role} ${JSON.stringify(r.body)}`).toBe(409);
			expect(r.body.error.code).toBe('RECORD_LOCKED');
		}
		const cancelled = await move(desk, await book(patient, author), { status: 'CANCELLED' });
		const r = await desk.api.patch(`/api/appointments/${cancelled.id}`, { version: cancelled.version, symptoms: 'changed after cancelling' });
		expect(r.status).toBe(409);
		expect((await getItem(app, 'appointments', { id: appointment.id }))!.symptoms).toBe('productive cough, fever');
	});
});

describe('triage belongs to staff', () => {
	it('the patient’s urgency is kept as reportedUrgency; priority starts normal and only a nurse or the treating doctor sets it', async () => {
		const patient = await app.userOf('patient');
		const slots = await freeSlots(patient, author.doctorId!, today);
		const withPriority = await patient.api.post('/api/appointments', { doctorId: author.doctorId, start: slots[30]!.start, symptoms: 'sudden chest pain', priority: 'critical' });
		expect(withPriority.status).toBe(400);
		const r = await patient.api.post('/api/appointments', { doctorId: author.doctorId, start: slots[30]!.start, symptoms: 'sudden chest pain', reportedUrgency: 'critical' });
		expect(r.status).toBe(201);
		const a = r.body.appointment;
		expect(a).toMatchObject({ priority: 'normal', reportedUrgency: 'critical' });
		expect((await patient.api.patch(`/api/appointments/${a.id}`, { version: a.version, priority: 'critical' })).status).toBe(403);
		expect((await desk.api.patch(`/api/appointments/${a.id}`, { version: a.version, priority: 'critical' })).status).toBe(403);
		expect((await outsider.api.patch(`/api/appointments/${a.id}`, { version: a.version, priority: 'critical' })).status).toBe(403);
		const triaged = await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN', priority: 'critical' });
		expect(triaged.status).toBe(200);
		expect(triaged.body.appointment.priority).toBe('critical');
		const byDoctor = await author.api.patch(`/api/appointments/${a.id}`, { version: triaged.body.appointment.version, priority: 'high' });
		expect(byDoctor.body.appointment.priority).toBe('high');
	});
});

describe('allergies', () => {
	it('a nurse in care records allergies on the chart; the front desk does not see them; prescribing a match warns until confirmed', async () => {
		const patient = await app.userOf('patient');
		const { recordId } = await visit(patient, 'CONSULTING');
		const chart = (await nurse.api.get(`/api/patients/${patient.patientId}`)).body.patient;
		expect(chart.allergies).toEqual([]);
		const put = await nurse.api.request('PUT', `/api/patients/${patient.patientId}/allergies`, {
			version: chart.version,
			allergies: [{ substance: 'Penicillin', reaction: 'hives, facial swelling', severity: 'severe' }]
		});
		expect(put.status, JSON.stringify(put.body)).toBe(200);
		expect(put.body.patient.allergies).toHaveLength(1);
		expect((await desk.api.get(`/api/patients/${patient.patientId}`)).body.patient.allergies).toBeUndefined();
		expect((await patient.api.get(`/api/patients/${patient.patientId}`)).body.patient.allergies[0].substance).toBe('Penicillin');
		expect((await desk.api.request('PUT', `/api/patients/${patient.patientId}/allergies`, { version: put.body.patient.version, allergies: [] })).status).toBe(403);

		const rec = (await author.api.get(`/api/medical-records/${recordId}`)).body.record;
		const rx = [{ medicine: 'Amoxicillin 500 mg', dosage: '500 mg', frequency: 'three times a day', days: 7 }];
		const warned = await author.api.patch(`/api/medical-records/${recordId}`, { version: rec.version, prescriptions: rx });
		expect(warned.status).toBe(409);
		expect(warned.body.error.code).toBe('ALLERGY_WARNING');
		expect(warned.body.error.details.matches[0]).toMatchObject({ medicine: 'Amoxicillin 500 mg', substance: 'Penicillin', severity: 'severe' });
		expect((await getItem(app, 'medical_records', { id: recordId }))!.prescriptions).toEqual([]);
		const confirmed = await author.api.patch(`/api/medical-records/${recordId}`, { version: rec.version, prescriptions: rx, acknowledgeAllergies: true });
		expect(confirmed.status).toBe(200);
		expect(await auditEntries(app, (e) => e.action === 'update_allergy_override' && e.resource_id === recordId)).toHaveLength(1);
		// Unrelated medicines pass without a warning.
		const next = await author.api.patch(`/api/medical-records/${recordId}`, {
			version: confirmed.body.record.version,
			prescriptions: [...rx, { medicine: 'Paracetamol', dosage: '1 g', frequency: 'every 6 hours', days: 3 }]
		});
		expect(next.status).toBe(200);
	});
});
