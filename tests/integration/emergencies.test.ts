import { socketPool, connected, subscribe } from '../fixtures/sockets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tieToHospital, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, countItems, sleep } from './helpers';
import type { EmergencyView } from '../../src/lib/shared/emergencies';
import { emergencyRequest, emptyReserve, reserveProblems, type EmergencyForm } from '../../src/lib/client/emergency-form';

/** Internal emergencies: live to the affected department's room only, acknowledged once per department, resolved with a timeline. */

let app: TestApp;
let admin: TestUser;
let raiser: TestUser;
let erNurse: TestUser;
let erDoctor: TestUser;
let radNurse: TestUser;
let patient: TestUser;
/** An Emergency nurse of another hospital: same department, other site. */
let farNurse: TestUser;
let hospitalId: string;
let farId: string;
const { socketOf, closeAll } = socketPool(() => app);

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC' });
	[admin, raiser, erNurse, erDoctor, radNurse, patient] = await Promise.all([
		app.userOf('admin'),
		app.userOf('doctor', { name: 'Rae Raiser', department: 'Cardiology' }),
		app.userOf('nurse', { name: 'Erin ER', department: 'Emergency' }),
		app.userOf('doctor', { name: 'Eli ER', department: 'Emergency' }),
		app.userOf('nurse', { name: 'Ray Radiology', department: 'Radiology' }),
		app.userOf('patient')
	]);
	const h = await admin.api.post('/api/hospitals', {
		name: 'General',
		latitude: 1,
		longitude: 1,
		departments: ['Emergency', 'Radiology', 'Cardiology'],
		resources: { general_beds: { total: 10 }, icu_beds: { total: 2 }, ventilators: { total: 2 } }
	});
	hospitalId = h.body.hospital.id;
	// they all work at General: its staff raise, acknowledge and resolve its emergencies
	await Promise.all([raiser, erNurse, erDoctor, radNurse].map((u) => tieToHospital(admin, u, hospitalId)));
	const far = await admin.api.post('/api/hospitals', {
		name: 'Eastside',
		latitude: 3,
		longitude: 3,
		departments: ['Emergency'],
		resources: { general_beds: { total: 4 }, icu_beds: { total: 1 }, ventilators: { total: 1 } }
	});
	farId = far.body.hospital.id;
	farNurse = await app.userOf('nurse', { name: 'Fay Far', department: 'Emergency', hospitalId: farId });
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());

/** A department's room at one hospital, as the wire names it. */
const dept = (hospital: string, slug: string) => `dept:${hospital}:${slug}`;

describe('internal emergencies', () => {
	it('a user joins only their own department’s room at their own hospital; administrators any', async () => {
		const s = socketOf(erNurse);
		await connected(s);
		expect(await subscribe(s, dept(hospitalId, 'emergency'))).toEqual({ ok: true });
		expect((await subscribe(s, dept(hospitalId, 'radiology'))).ok).toBe(false);
		// the site-less name of old is not a room any more
		const old = await subscribe(s, 'dept:emergency');
		expect(old.ok).toBe(false);
		expect(!old.ok && old.error.code).toBe('VALIDATION_FAILED');
		const p = socketOf(patient);
		await connected(p);
		expect((await subscribe(p, dept(hospitalId, 'emergency'))).ok).toBe(false);
		expect((await auditEntries(app, (e) => e.action === 'read_denied' && e.user_id === erNurse.id && e.resource_id === dept(hospitalId, 'radiology'))).length).toBe(1);
		const a = socketOf(admin);
		await connected(a);
		expect(await subscribe(a, dept(hospitalId, 'radiology'))).toEqual({ ok: true });
		expect(await subscribe(a, dept(farId, 'emergency'))).toEqual({ ok: true });
		const none = await subscribe(a, dept('h_nowhere', 'emergency'));
		expect(!none.ok && none.error.code).toBe('NOT_FOUND');
	});

	it('another site’s department room is refused to a nurse of the same department (403, audited), and its code blue never reaches her', async () => {
		const far = socketOf(farNurse);
		const er = socketOf(erNurse);
		const farSeen: EmergencyView[] = [];
		const erSeen: EmergencyView[] = [];
		far.on('emergency:raised', (e) => farSeen.push(e));
		er.on('emergency:raised', (e) => erSeen.push(e));
		await Promise.all([connected(far), connected(er)]);
		const denied = await subscribe(far, dept(hospitalId, 'emergency'));
		expect(denied.ok).toBe(false);
		expect(!denied.ok && denied.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/another hospital/) });
		expect((await auditEntries(app, (e) => e.outcome === 'denied' && e.user_id === farNurse.id && e.resource_id === dept(hospitalId, 'emergency'))).length).toBe(1);
		// General's nurse is refused Eastside's room the same way
		expect((await subscribe(er, dept(farId, 'emergency'))).ok).toBe(false);
		expect(await subscribe(far, dept(farId, 'emergency'))).toEqual({ ok: true });
		expect(await subscribe(er, dept(hospitalId, 'emergency'))).toEqual({ ok: true });

		// General's code blue: its Emergency nurse hears it, Eastside's does not
		const t0 = Date.now();
		const r = await raiser.api.post('/api/emergencies', { hospitalId, type: 'code_blue', location: 'Ward 9', severity: 'critical', departments: ['Emergency'] });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		await expect.poll(() => erSeen.map((e) => e.id), { timeout: 1000, interval: 10 }).toEqual([r.body.emergency.id]);
		console.log(`emergency:raised reached General's Emergency nurse in ${Date.now() - t0} ms`);
		await sleep(300);
		expect(farSeen).toEqual([]);
		expect((await farNurse.api.get('/api/emergencies')).body.emergencies.map((e: EmergencyView) => e.id)).not.toContain(r.body.emergency.id);
		expect((await farNurse.api.post(`/api/emergencies/${r.body.emergency.id}/acknowledgements`, {})).status).toBe(403);

		// and the other way round: Eastside's own emergency reaches her room, not General's
		const e = await admin.api.post('/api/emergencies', { hospitalId: farId, type: 'fire', location: 'Store room', severity: 'high', departments: ['Emergency'] });
		expect(e.status, JSON.stringify(e.body)).toBe(201);
		await expect.poll(() => farSeen.map((x) => x.id), { timeout: 1000, interval: 10 }).toEqual([e.body.emergency.id]);
		await sleep(200);
		expect(erSeen.map((x) => x.id)).toEqual([r.body.emergency.id]);
		for (const [who, id] of [[raiser, r.body.emergency.id], [admin, e.body.emergency.id]] as const) expect((await who.api.post(`/api/emergencies/${id}/resolution`, {})).status).toBe(200);
	});

	it('reaches a subscribed Emergency nurse within 1 s, not a Radiology nurse; one acknowledgement per department; the raiser hears it', async () => {
		const er = socketOf(erNurse);
		const rad = socketOf(radNurse);
		const me = socketOf(raiser);
		const erSeen: { e: EmergencyView; at: number }[] = [];
		const radSeen: EmergencyView[] = [];
		const raiserAcks: EmergencyView[] = [];
		er.on('emergency:raised', (e) => erSeen.push({ e, at: Date.now() }));
		rad.on('emergency:raised', (e) => radSeen.push(e));
		me.on('emergency:acknowledged', (e) => raiserAcks.push(e));
		await Promise.all([connected(er), connected(rad), connected(me)]);
		expect(await subscribe(er, dept(hospitalId, 'emergency'))).toEqual({ ok: true });
		expect(await subscribe(rad, dept(hospitalId, 'radiology'))).toEqual({ ok: true });
		expect(await subscribe(me, `user:${raiser.id}`)).toEqual({ ok: true });

		const t0 = Date.now();
		const r = await raiser.api.post('/api/emergencies', { hospitalId, type: 'code_blue', location: 'Ward 3, bed 12', severity: 'critical', departments: ['Emergency'] });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		const id = r.body.emergency.id as string;
		while (!erSeen.length && Date.now() - t0 < 1000) await sleep(10);
		expect(erSeen.length).toBe(1);
		const latency = erSeen[0]!.at - t0;
		console.log(`emergency:raised reached the Emergency nurse in ${latency} ms`);
		expect(latency).toBeLessThan(1000);
		expect(erSeen[0]!.e).toMatchObject({ id, type: 'code_blue', status: 'active', departments: ['Emergency'] });
		await sleep(200);
		expect(radSeen).toEqual([]);

		expect((await radNurse.api.post(`/api/emergencies/${id}/acknowledgements`, {})).status).toBe(403);
		const ack = await erNurse.api.post(`/api/emergencies/${id}/acknowledgements`, {});
		expect(ack.status, JSON.stringify(ack.body)).toBe(201);
		expect(ack.body.emergency.acknowledgements).toHaveLength(1);
		expect(ack.body.emergency.acknowledgements[0]).toMatchObject({ department: 'Emergency', byName: 'Erin ER' });
		expect(ack.body.emergency.acknowledgements[0].responseSeconds).toBeGreaterThanOrEqual(0);
		const again = await erDoctor.api.post(`/api/emergencies/${id}/acknowledgements`, {});
		expect(again.status).toBe(409);
		expect(again.body.error.code).toBe('ALREADY_ACKNOWLEDGED');
		const t1 = Date.now();
		while (!raiserAcks.length && Date.now() - t1 < 1000) await sleep(10);
		expect(raiserAcks[0]?.acknowledgements[0]?.department).toBe('Emergency');

		const listed = await erDoctor.api.get('/api/emergencies');
		expect(listed.body.emergencies.map((e: EmergencyView) => e.id)).toContain(id);
		expect((await radNurse.api.get('/api/emergencies')).body.emergencies.map((e: EmergencyView) => e.id)).not.toContain(id);

		const res = await raiser.api.post(`/api/emergencies/${id}/resolution`, {});
		expect(res.status).toBe(200);
		expect(res.body.emergency.status).toBe('resolved');
		expect(res.body.emergency.timeline.map((t: { what: string }) => t.what)).toEqual([
			'Code blue raised at Ward 3, bed 12 for Emergency',
			expect.stringMatching(/^Emergency acknowledged/),
			'Resolved'
		]);
		expect((await raiser.api.post(`/api/emergencies/${id}/resolution`, {})).status).toBe(409);
		expect((await erDoctor.api.get('/api/emergencies')).body.emergencies.map((e: EmergencyView) => e.id)).not.toContain(id);
		expect((await erDoctor.api.get(`/api/emergencies/${id}`)).body.emergency.status).toBe('resolved');
	});

	it('a critical emergency reserves resources of its hospital; resolving releases them and keeps the timeline', async () => {
		const icu = async () => (await admin.api.get(`/api/hospitals/${hospitalId}`)).body.hospital.resources.icu_beds;
		const before = await icu();
		const r = await raiser.api.post('/api/emergencies', { hospitalId, type: 'mass_casualty', location: 'Main entrance', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 2 } });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.emergency.reserved).toEqual({ icu_beds: 2 });
		expect(await icu()).toMatchObject({ available: before.available - 2, reserved: before.reserved + 2 });
		const more = await raiser.api.post('/api/emergencies', { hospitalId, type: 'fire', location: 'Lab', severity: 'critical', departments: ['Radiology'], reserve: { icu_beds: 1 } });
		expect(more.status).toBe(409);
		expect(more.body.error.code).toBe('RESOURCES_GONE');
		const notCritical = await raiser.api.post('/api/emergencies', { hospitalId, type: 'fire', location: 'Lab', severity: 'high', departments: ['Radiology'], reserve: { icu_beds: 1 } });
		expect(notCritical.status).toBe(400);
		expect(notCritical.body.error.details[0].field).toBe('reserve');
		const done = await raiser.api.post(`/api/emergencies/${r.body.emergency.id}/resolution`, {});
		expect(done.status).toBe(200);
		expect(await icu()).toMatchObject({ available: before.available, reserved: before.reserved });
		expect(done.body.emergency.timeline.map((t: { what: string }) => t.what)).toEqual([
			'Mass casualty raised at Main entrance for Emergency',
			'Reserved 2 ICU beds',
			'Resolved; released 2 ICU beds'
		]);
	});

	it('the raise form’s path: what the page posts reserves exactly the typed counts, a too-large count is 409 RESOURCES_GONE with nothing written, a non-critical form sends no reservation', async () => {
		const read = async () => (await admin.api.get(`/api/hospitals/${hospitalId}`)).body.hospital.resources;
		const before = await read();
		const form: EmergencyForm = { hospitalId, type: 'mass_casualty', location: '  Car park  ', severity: 'critical', departments: ['Emergency'], reserve: { ...emptyReserve(), icu_beds: '1', ventilators: '1', general_beds: '' } };
		expect(reserveProblems(form)).toEqual({});
		expect(reserveProblems({ ...form, reserve: { ...form.reserve, icu_beds: '1.5' } })).toEqual({ 'reserve.icu_beds': 'Enter a whole number, 0 or more.' });
		const body = emergencyRequest(form);
		expect(body).toEqual({ hospitalId, type: 'mass_casualty', location: 'Car park', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 1, ventilators: 1 } });
		const r = await raiser.api.post('/api/emergencies', body);
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.emergency.reserved).toEqual({ icu_beds: 1, ventilators: 1 });
		expect(r.body.emergency.timeline.map((t: { what: string }) => t.what)).toContain('Reserved 1 ICU bed, 1 ventilator');
		let now = await read();
		expect(now.icu_beds).toMatchObject({ available: before.icu_beds.available - 1, reserved: before.icu_beds.reserved + 1 });
		expect(now.ventilators).toMatchObject({ available: before.ventilators.available - 1, reserved: before.ventilators.reserved + 1 });

		const tooMany = await raiser.api.post('/api/emergencies', emergencyRequest({ ...form, reserve: { ...form.reserve, icu_beds: String(now.icu_beds.available + 1) } }));
		expect(tooMany.status).toBe(409);
		expect(tooMany.body.error.code).toBe('RESOURCES_GONE');
		expect(tooMany.body.error.message).toMatch(/does not have \d+ ICU beds?, 1 ventilator free to reserve now/);
		expect(await read()).toEqual(now);
		expect((await erNurse.api.get('/api/emergencies')).body.emergencies.filter((e: EmergencyView) => e.location === 'Car park').length).toBe(1);

		const high = emergencyRequest({ ...form, severity: 'high' });
		expect(high).not.toHaveProperty('reserve');
		const h = await raiser.api.post('/api/emergencies', high);
		expect(h.status).toBe(201);
		expect(h.body.emergency.reserved).toEqual({});

		for (const id of [r.body.emergency.id, h.body.emergency.id]) expect((await raiser.api.post(`/api/emergencies/${id}/resolution`, {})).status).toBe(200);
		now = await read();
		expect(now.icu_beds).toMatchObject({ available: before.icu_beds.available, reserved: before.icu_beds.reserved });
		expect(now.ventilators).toMatchObject({ available: before.ventilators.available, reserved: before.ventilators.reserved });
	});

	it('staff of another hospital, or of none, neither raise, acknowledge nor resolve General’s emergencies (403, nothing written); an administrator does', async () => {
		const other = await admin.api.post('/api/hospitals', { name: 'Elsewhere', latitude: 2, longitude: 2, departments: ['Emergency'], resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 0 } } });
		const [outsider, untied] = await Promise.all([
			app.userOf('nurse', { name: 'Otto Outsider', department: 'Emergency', hospitalId: other.body.hospital.id }),
			app.userOf('doctor', { name: 'Una Untied', department: 'Emergency' })
		]);
		const before = await countItems(app, 'emergencies');
		const icu = async () => (await admin.api.get(`/api/hospitals/${hospitalId}`)).body.hospital.resources.icu_beds;
		const held = (await icu()).reserved;
		const body = { hospitalId, type: 'code_blue', location: 'Ward 1', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 1 } };
		const o = await outsider.api.post('/api/emergencies', body);
		expect(o.status).toBe(403);
		expect(o.body.error.message).toMatch(/another hospital/);
		const u = await untied.api.post('/api/emergencies', body);
		expect(u.status).toBe(403);
		expect(u.body.error.message).toMatch(/not tied to a hospital/);
		expect(await countItems(app, 'emergencies')).toBe(before);
		expect((await icu()).reserved).toBe(held);
		expect((await auditEntries(app, (e) => e.outcome === 'denied' && e.resource_id === hospitalId && [outsider.id, untied.id].includes(e.user_id))).length).toBe(2);

		const raised = await raiser.api.post('/api/emergencies', { ...body, reserve: undefined });
		expect(raised.status, JSON.stringify(raised.body)).toBe(201);
		const id = raised.body.emergency.id as string;
		for (const x of [outsider, untied]) {
			expect((await x.api.post(`/api/emergencies/${id}/acknowledgements`, {})).status).toBe(403);
			expect((await x.api.post(`/api/emergencies/${id}/resolution`, {})).status).toBe(403);
			expect((await x.api.get('/api/emergencies')).body.emergencies.map((e: EmergencyView) => e.id)).not.toContain(id);
		}
		const still = (await admin.api.get(`/api/emergencies/${id}`)).body.emergency as EmergencyView;
		expect(still).toMatchObject({ status: 'active', acknowledgements: [] });
		expect((await admin.api.post(`/api/emergencies/${id}/resolution`, {})).status).toBe(200);
	});

	it('refuses bad input naming the field, and patients', async () => {
		const bad = await raiser.api.post('/api/emergencies', { hospitalId, type: 'flood', location: '', severity: 'critical', departments: [] });
		expect(bad.status).toBe(400);
		expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['type', 'location', 'departments']));
		expect((await patient.api.post('/api/emergencies', { hospitalId, type: 'fire', location: 'Lab', severity: 'high', departments: ['Radiology'] })).status).toBe(403);
	});
});
