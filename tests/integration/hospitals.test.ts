import { socketPool, connected, subscribe, north } from '../fixtures/sockets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tieToHospital, type TestApp, type TestUser, createHospital } from '../fixtures/app';
import { auditEntries, sleep } from './helpers';
import type { AlertView, Candidate, HospitalView } from '../../src/lib/shared/hospitals';

/**
 * Hospitals, bed status, ambulance alerts and pandemic hold-back against DynamoDB Local: candidates
 * by great-circle distance, reservations that never go below zero under concurrent selections,
 * live capacity on `hospital:<id>`, and the paramedic's own alerts only.
 */

let app: TestApp;
let admin: TestUser;
let nurse: TestUser;
let doctor: TestUser;
let medic: TestUser;
let medic2: TestUser;
let patient: TestUser;
let pharmacist: TestUser;
const { socketOf, closeAll } = socketPool(() => app);

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC' });
	[admin, nurse, doctor, medic, medic2, patient, pharmacist] = await Promise.all([
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('nurse', { name: 'Nia Nurse', department: 'Emergency' }),
		app.userOf('doctor'),
		app.userOf('paramedic', { name: 'Pat Medic' }),
		app.userOf('paramedic', { name: 'Quinn Medic' }),
		app.userOf('patient'),
		app.userOf('pharmacist')
	]);
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());


/** A point `km` north of (lat, lon) along its meridian (1° = 111.195 km on the mean sphere). */

async function hospital(name: string, latitude: number, longitude: number, totals = { general_beds: 20, icu_beds: 4, ventilators: 3 }): Promise<HospitalView> {
	return createHospital(admin, { name, latitude, longitude, departments: ['Emergency', 'Radiology'], totals });
}

const alert = (user: TestUser, at: { latitude: number; longitude: number }, extra: Record<string, unknown> = {}) =>
	user.api.post('/api/ambulance-alerts', { condition: 'Chest pain, suspected STEMI', severity: 'high', needs: { icu_beds: 1 }, ...at, ...extra });


const read = async (id: string): Promise<HospitalView> => (await admin.api.get(`/api/hospitals/${id}`)).body.hospital;

describe('hospitals', () => {
	it('creates a hospital (admin) and reads it in the issue’s shape', async () => {
		const h = await hospital('St Mary', 51.5, -0.17);
		expect(h).toMatchObject({ name: 'St Mary', version: 1, latitude: 51.5, longitude: -0.17, pandemic: { enabled: false, heldBackShare: 0 } });
		expect(h.resources.icu_beds).toEqual({ total: 4, available: 4, reserved: 0, occupied: 0, outOfService: 0, heldBack: 0 });
		const got = await doctor.api.get(`/api/hospitals/${h.id}`);
		expect(got.status).toBe(200);
		expect(got.body.hospital).toEqual(h);
		const list = await medic.api.get('/api/hospitals');
		expect(list.body.hospitals.map((x: HospitalView) => x.id)).toContain(h.id);
		expect((await auditEntries(app, (e) => e.resource_id === h.id && e.action === 'create')).length).toBe(1);
	});

	it('refuses bad input naming the field, and non-admins creating sites', async () => {
		const bad = await admin.api.post('/api/hospitals', { name: 'X Hospital', latitude: 95, longitude: 0, resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: -1 } } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe('VALIDATION_FAILED');
		expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['latitude', 'resources.ventilators.total']));
		const body = { name: 'Nurse Hospital', latitude: 1, longitude: 1, resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 1 } } };
		expect((await nurse.api.post('/api/hospitals', body)).status).toBe(403);
		expect((await medic.api.post('/api/hospitals', body)).status).toBe(403);
		expect((await patient.api.get('/api/hospitals')).status).toBe(403);
		expect((await pharmacist.api.get('/api/hospitals')).status).toBe(403);
	});

	it('a nurse occupies and frees beds, versioned, audited and live on hospital:<id>; a stale version is 409', async () => {
		const h = await hospital('Bed Hospital', 10, 10);
		await tieToHospital(admin, nurse, h.id);
		const s = socketOf(doctor);
		const seen: HospitalView[] = [];
		s.on('hospital:updated', (e) => seen.push(e));
		await connected(s);
		expect(await subscribe(s, `hospital:${h.id}`)).toEqual({ ok: true });

		const occ = await nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: 1, resource: 'general_beds', action: 'occupy', count: 3 });
		expect(occ.status, JSON.stringify(occ.body)).toBe(200);
		expect(occ.body.hospital.version).toBe(2);
		expect(occ.body.hospital.resources.general_beds).toMatchObject({ total: 20, available: 17, occupied: 3 });
		const stale = await nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: 1, resource: 'general_beds', action: 'free' });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		const oos = await admin.api.post(`/api/hospitals/${h.id}/beds`, { version: 2, resource: 'icu_beds', action: 'out_of_service', count: 1 });
		expect(oos.body.hospital.resources.icu_beds).toMatchObject({ available: 3, outOfService: 1 });
		const tooMany = await nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: 3, resource: 'general_beds', action: 'free', count: 4 });
		expect(tooMany.status).toBe(409);
		expect((await doctor.api.post(`/api/hospitals/${h.id}/beds`, { version: 3, resource: 'general_beds', action: 'free' })).status).toBe(403);

		const t0 = Date.now();
		while (seen.length < 2 && Date.now() - t0 < 2000) await sleep(20);
		expect(seen.map((e) => e.version)).toEqual([2, 3]);
		expect(seen[1]!.resources.icu_beds.outOfService).toBe(1);
		const audits = await auditEntries(app, (e) => e.resource_id === h.id && e.action.startsWith('beds_'));
		expect(audits.map((e) => e.action).sort()).toEqual(['beds_occupy', 'beds_out_of_service']);
	});

	it('hospital:<id> is for doctors, nurses, front desk, paramedics and admins; patients and pharmacists are refused', async () => {
		const h = await hospital('Room Hospital', 11, 11);
		for (const u of [nurse, medic, admin]) {
			const s = socketOf(u);
			await connected(s);
			expect(await subscribe(s, `hospital:${h.id}`)).toEqual({ ok: true });
		}
		for (const u of [patient, pharmacist]) {
			const s = socketOf(u);
			await connected(s);
			const ack = await subscribe(s, `hospital:${h.id}`);
			expect(ack.ok).toBe(false);
		}
	});
});

describe('ambulance alerts', () => {
	it('10, 40 and 80 km away with radius 50: two candidates, nearest first, distances right to 0.1 km', async () => {
		const at = { latitude: 40, longitude: 60 };
		const far = await hospital('Far 80', north(40, 80), 60);
		const mid = await hospital('Mid 40', north(40, 40), 60);
		const near = await hospital('Near 10', north(40, 10), 60);
		const r = await alert(medic, at, { radiusKm: 50 });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.alert).toMatchObject({ status: 'open' });
		const c = r.body.candidates as Candidate[];
		expect(c.map((x) => x.hospitalId)).toEqual([near.id, mid.id]);
		expect(Math.abs(c[0]!.distanceKm - 10)).toBeLessThan(0.1);
		expect(Math.abs(c[1]!.distanceKm - 40)).toBeLessThan(0.1);
		expect(c[0]!.available).toEqual({ general_beds: 20, icu_beds: 4, ventilators: 3 });
		expect(c.some((x) => x.hospitalId === far.id)).toBe(false);
		// default radius is 50 km too
		const d = await alert(medic, at);
		expect((d.body.candidates as Candidate[]).map((x) => x.hospitalId)).toEqual([near.id, mid.id]);
	});

	it('refuses bad alerts naming the field, and alerts from anyone but paramedics', async () => {
		const bad = await medic.api.post('/api/ambulance-alerts', { condition: 'x', severity: 'urgent', needs: {}, latitude: 0, longitude: 200 });
		expect(bad.status).toBe(400);
		expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['severity', 'needs', 'longitude']));
		expect((await alert(nurse, { latitude: 0, longitude: 0 })).status).toBe(403);
		expect((await alert(patient, { latitude: 0, longitude: 0 })).status).toBe(403);
	});

	it('two paramedics on the last ICU bed at once: one 200, one 409 RESOURCES_GONE; available 0, reserved 1', async () => {
		const h = await hospital('Last Bed', -20, 30, { general_beds: 5, icu_beds: 1, ventilators: 1 });
		const at = { latitude: -20.05, longitude: 30 };
		const [a1, a2] = await Promise.all([alert(medic, at), alert(medic2, at)]);
		expect(a1.body.candidates.map((c: Candidate) => c.hospitalId)).toEqual([h.id]);
		const [s1, s2] = await Promise.all([
			medic.api.post(`/api/ambulance-alerts/${a1.body.alert.id}/selection`, { hospitalId: h.id }),
			medic2.api.post(`/api/ambulance-alerts/${a2.body.alert.id}/selection`, { hospitalId: h.id })
		]);
		const statuses = [s1.status, s2.status].sort();
		expect(statuses).toEqual([200, 409]);
		const won = s1.status === 200 ? s1 : s2;
		const lost = s1.status === 200 ? s2 : s1;
		expect(won.body.alert).toMatchObject({ status: 'en_route', hospitalId: h.id });
		expect(lost.body.error.code).toBe('RESOURCES_GONE');
		expect(lost.body.error.details.candidates).toEqual([]);
		const now = await read(h.id);
		expect(now.resources.icu_beds).toMatchObject({ available: 0, reserved: 1 });
	});

	it('50 concurrent selections against 10 ICU beds: exactly 10 reserved, never below zero', async () => {
		const h = await hospital('Ten Beds', 5, -50, { general_beds: 0, icu_beds: 10, ventilators: 0 });
		const at = { latitude: 5.01, longitude: -50 };
		const alerts: string[] = [];
		for (let i = 0; i < 50; i++) alerts.push((await alert(i % 2 ? medic : medic2, at)).body.alert.id);
		const t0 = Date.now();
		const results = await Promise.all(alerts.map((id, i) => (i % 2 ? medic : medic2).api.post(`/api/ambulance-alerts/${id}/selection`, { hospitalId: h.id })));
		const ms = Date.now() - t0;
		const ok = results.filter((r) => r.status === 200).length;
		const gone = results.filter((r) => r.status === 409 && r.body.error.code === 'RESOURCES_GONE').length;
		console.log(`50 selections against 10 beds: ${ok} × 200, ${gone} × 409 in ${ms} ms`);
		expect(ok).toBe(10);
		expect(gone).toBe(40);
		expect((await read(h.id)).resources.icu_beds).toMatchObject({ available: 0, reserved: 10 });
		expect((await auditEntries(app, (e) => e.action === 'reserve' && alerts.includes(e.resource_id))).length).toBe(10);
	});

	it('arrival turns the reservation into occupancy, cancellation gives it back; only the own paramedic acts', async () => {
		const h = await hospital('Flow Hospital', -40, -60, { general_beds: 3, icu_beds: 2, ventilators: 2 });
		const at = { latitude: -40.1, longitude: -60 };
		const a = (await alert(medic, at, { needs: { icu_beds: 1, ventilators: 1 } })).body.alert as AlertView;
		expect((await medic2.api.post(`/api/ambulance-alerts/${a.id}/selection`, { hospitalId: h.id })).status).toBe(404);
		expect((await medic2.api.get(`/api/ambulance-alerts/${a.id}`)).status).toBe(404);
		expect((await medic.api.post(`/api/ambulance-alerts/${a.id}/selection`, { hospitalId: h.id })).status).toBe(200);
		expect((await read(h.id)).resources.ventilators).toMatchObject({ available: 1, reserved: 1 });
		expect((await medic.api.post(`/api/ambulance-alerts/${a.id}/selection`, { hospitalId: h.id })).status).toBe(409);
		const arrived = await medic.api.post(`/api/ambulance-alerts/${a.id}/status`, { status: 'arrived' });
		expect(arrived.status, JSON.stringify(arrived.body)).toBe(200);
		expect(arrived.body.alert.status).toBe('arrived');
		let now = await read(h.id);
		expect(now.resources.icu_beds).toMatchObject({ available: 1, reserved: 0, occupied: 1 });
		// Ventilators are tracked one by one: the reservation is handed back and a nurse puts a named device on the patient.
		expect(now.resources.ventilators).toMatchObject({ available: 2, reserved: 0, occupied: 0 });

		const b = (await alert(medic, at)).body.alert as AlertView;
		await medic.api.post(`/api/ambulance-alerts/${b.id}/selection`, { hospitalId: h.id });
		expect((await read(h.id)).resources.icu_beds).toMatchObject({ available: 0, reserved: 1 });
		expect((await medic2.api.post(`/api/ambulance-alerts/${b.id}/status`, { status: 'cancelled' })).status).toBe(404);
		expect((await medic.api.post(`/api/ambulance-alerts/${b.id}/status`, { status: 'cancelled' })).body.alert.status).toBe('cancelled');
		now = await read(h.id);
		expect(now.resources.icu_beds).toMatchObject({ available: 1, reserved: 0, occupied: 1 });
		const mine = await medic2.api.get('/api/ambulance-alerts');
		expect(mine.body.alerts.some((x: AlertView) => x.id === a.id || x.id === b.id)).toBe(false);
	});

	it('hospital staff see an alert live and answer it; the paramedic hears the answer and the selection', async () => {
		const h = await hospital('Live Hospital', 60, 100);
		await tieToHospital(admin, nurse, h.id);
		const staff = socketOf(nurse);
		const staffSeen: AlertView[] = [];
		const capacity: HospitalView[] = [];
		staff.on('ambulance:updated', (e) => staffSeen.push(e));
		staff.on('hospital:updated', (e) => capacity.push(e));
		await connected(staff);
		expect(await subscribe(staff, `hospital:${h.id}`)).toEqual({ ok: true });
		expect(await subscribe(staff, `hospital-alerts:${h.id}`)).toEqual({ ok: true });
		const ps = socketOf(medic);
		const medicSeen: AlertView[] = [];
		ps.on('ambulance:updated', (e) => medicSeen.push(e));
		await connected(ps);
		expect(await subscribe(ps, `user:${medic.id}`)).toEqual({ ok: true });

		const a = (await alert(medic, { latitude: 60.1, longitude: 100 })).body.alert as AlertView;
		const until = async (f: () => boolean) => {
			const t0 = Date.now();
			while (!f() && Date.now() - t0 < 2000) await sleep(20);
			return f();
		};
		expect(await until(() => staffSeen.some((e) => e.id === a.id && e.status === 'open'))).toBe(true);
		const ans = await nurse.api.post(`/api/ambulance-alerts/${a.id}/responses`, { hospitalId: h.id, response: 'accept' });
		expect(ans.status, JSON.stringify(ans.body)).toBe(200);
		expect(await until(() => medicSeen.some((e) => e.responses[h.id]?.response === 'accept'))).toBe(true);
		const listed = await nurse.api.get(`/api/ambulance-alerts?hospitalId=${h.id}`);
		expect(listed.body.alerts.map((x: AlertView) => x.id)).toContain(a.id);
		await medic.api.post(`/api/ambulance-alerts/${a.id}/selection`, { hospitalId: h.id });
		expect(await until(() => medicSeen.some((e) => e.status === 'en_route'))).toBe(true);
		expect(await until(() => capacity.some((e) => e.resources.icu_beds.reserved === 1))).toBe(true);
	});
});

describe('pandemic mode', () => {
	it('holds back ceil(share × total) of ICU beds and ventilators for critical cases: 0.5 on 4 ICU beds, high sees 2, critical 4', async () => {
		const h = await hospital('Pandemic Hospital', -60, 150, { general_beds: 10, icu_beds: 4, ventilators: 3 });
		const s = socketOf(medic);
		const seen: HospitalView[] = [];
		s.on('hospital:updated', (e) => seen.push(e));
		await connected(s);
		expect(await subscribe(s, `hospital:${h.id}`)).toEqual({ ok: true });

		expect((await nurse.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: 1, enabled: true, heldBackShare: 0.5 })).status).toBe(403);
		const bad = await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: 1, enabled: true, heldBackShare: 0.95 });
		expect(bad.status).toBe(400);
		expect(bad.body.error.details[0].field).toBe('heldBackShare');
		const on = await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: 1, enabled: true, heldBackShare: 0.5 });
		expect(on.status, JSON.stringify(on.body)).toBe(200);
		expect(on.body.hospital.pandemic).toEqual({ enabled: true, heldBackShare: 0.5 });
		expect(on.body.hospital.resources.icu_beds).toMatchObject({ total: 4, available: 4, heldBack: 2 });
		expect(on.body.hospital.resources.ventilators.heldBack).toBe(2); // ceil(1.5)
		expect(on.body.hospital.resources.general_beds.heldBack).toBe(0);
		expect((await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: 1, enabled: false, heldBackShare: 0 })).status).toBe(409);

		const at = { latitude: -60.05, longitude: 150 };
		const high = await alert(medic, at, { severity: 'high' });
		const critical = await alert(medic, at, { severity: 'critical' });
		expect(high.body.candidates[0].available.icu_beds).toBe(2);
		expect(critical.body.candidates[0].available.icu_beds).toBe(4);

		// high-severity cases take only what is not held back
		const more = [await alert(medic, at), await alert(medic, at)].map((r) => r.body.alert.id as string);
		const picks = [];
		for (const id of [high.body.alert.id as string, ...more]) picks.push((await medic.api.post(`/api/ambulance-alerts/${id}/selection`, { hospitalId: h.id })).status);
		expect(picks).toEqual([200, 200, 409]);
		expect((await medic.api.post(`/api/ambulance-alerts/${critical.body.alert.id}/selection`, { hospitalId: h.id })).status).toBe(200);
		expect((await read(h.id)).resources.icu_beds).toMatchObject({ available: 1, reserved: 3, heldBack: 2 });

		const t0 = Date.now();
		while (!seen.some((e) => e.pandemic.enabled) && Date.now() - t0 < 2000) await sleep(20);
		expect(seen.find((e) => e.pandemic.enabled)?.resources.icu_beds.heldBack).toBe(2);
		expect((await auditEntries(app, (e) => e.resource_id === h.id && e.action === 'pandemic_on')).length).toBe(1);
	});
});

describe('EDXL-HAVE export', () => {
	it('parses as XML, escapes names and carries the current counts', async () => {
		const { XMLParser, XMLValidator } = await import('fast-xml-parser');
		const h = await hospital(`St "Anne's" <Heart> & Lung`, 33, 33, { general_beds: 12, icu_beds: 5, ventilators: 4 });
		await tieToHospital(admin, nurse, h.id);
		await nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: 1, resource: 'icu_beds', action: 'occupy', count: 2 });
		const r = await fetch(`${app.url}/api/hospitals/${h.id}/have.xml`, { headers: { cookie: doctor.api.cookie! } });
		expect(r.status).toBe(200);
		expect(r.headers.get('content-type')).toMatch(/application\/xml/);
		const xml = await r.text();
		expect(XMLValidator.validate(xml)).toBe(true);
		const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
		const hosp = doc.HospitalStatus.Hospital;
		expect(doc.HospitalStatus['@_xmlns']).toBe('urn:oasis:names:tc:emergency:EDXL:HAVE:1.0');
		expect(hosp.Organization.OrganizationInformation['xnl:OrganisationName']['xnl:NameElement']).toBe(`St "Anne's" <Heart> & Lung`);
		const beds = hosp.HospitalBedCapacityStatus.BedCapacity as { BedType: string; Capacity: { AvailableCount: number; BaselineCount: number } }[];
		expect(beds.find((b) => b.BedType === 'AdultICU')!.Capacity).toMatchObject({ AvailableCount: 3, BaselineCount: 5 });
		expect(beds.find((b) => b.BedType === 'MedicalSurgical')!.Capacity.AvailableCount).toBe(12);
		expect(hosp.HospitalResourcesStatus.CommentText).toBe('Ventilators: 4 available of 4');
		expect(hosp.Organization.OrganizationInformation['xnl:OrganisationName']['@_xnl:ID']).toBe(h.id);
		expect(hosp.EmergencyDepartmentStatus.EMSTraffic.EMSTrafficStatus).toBe('Normal');
		expect((await fetch(`${app.url}/api/hospitals/${h.id}/have.xml`, { headers: { cookie: patient.api.cookie! } })).status).toBe(403);
	});
});
