import { socketPool, type ClientSocket, connected, subscribe, north } from '../fixtures/sockets';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser, createHospital } from '../fixtures/app';
import { startDynamoLocal, type LocalDb } from '../../src/lib/server/db/embedded';
import { auditEntries, getItem, scanAll, sleep } from './helpers';
import type { AlertView, HospitalView, ResourceKind } from '../../src/lib/shared/hospitals';
import type { VentilatorView } from '../../src/lib/shared/ventilators';

/**
 * Attack review of hospitals, ventilators, ambulance alerts and internal emergencies (#10), from
 * outside: the real HTTP API and sockets against DynamoDB Local. Other roles and other sites'
 * staff on every endpoint, 30 requests at once on one alert or one hospital row, forged input,
 * DynamoDB frozen mid-request, a server restart under an open alert, and the EDXL-HAVE export.
 * After every race the hospital's counters are recounted: per resource available + reserved +
 * occupied + out of service = total, none negative, and the ventilators equal the devices.
 */

let app: TestApp;
let admin: TestUser;
let medicA: TestUser;
let medicB: TestUser;
let patient: TestUser;
let otherPatient: TestUser;
const { socketOf, closeAll } = socketPool(() => app);

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC' });
	[admin, medicA, medicB, patient, otherPatient] = await Promise.all([
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('paramedic', { name: 'Pia Medic' }),
		app.userOf('paramedic', { name: 'Paul Medic' }),
		app.userOf('patient', { name: 'Quentin Private' }),
		app.userOf('patient', { name: 'Rosa Private' })
	]);
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());

let site = 0;
/** A site at its own spot on the globe (far from every other test's), so alerts of one test never reach another's. */
async function hospital(totals = { general_beds: 10, icu_beds: 4, ventilators: 4 }, at?: { latitude: number; longitude: number }, name?: string): Promise<HospitalView> {
	site++;
	return createHospital(admin, {
		name: name ?? `Attack Site ${site}`,
		latitude: at?.latitude ?? -60 + site * 1.5,
		longitude: at?.longitude ?? 10 + (site % 7) * 20,
		departments: ['Emergency', 'Radiology'],
		totals
	});
}
const staffOf = (role: 'doctor' | 'nurse' | 'front_desk', h: HospitalView, department = 'Emergency', name?: string) =>
	app.userOf(role, { hospitalId: h.id, department, ...(name ? { name } : {}) });
const near = (h: HospitalView) => ({ latitude: north(h.latitude, 1), longitude: h.longitude });
async function sendAlert(medic: TestUser, h: HospitalView, extra: Record<string, unknown> = {}) {
	const r = await medic.api.post('/api/ambulance-alerts', { condition: 'Chest pain, conscious', severity: 'high', needs: { icu_beds: 1 }, ...near(h), ...extra });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.alert as AlertView;
}
const stored = async (id: string) => (await getItem(app, 'hospitals', { id }))! as { version: number; resources: Record<ResourceKind, Record<string, number>> };

/** The recount: every resource's buckets add up to its total and none is negative; the ventilators equal the devices. */
async function expectCountsHold(hospitalId: string): Promise<HospitalView['resources']> {
	const h = await stored(hospitalId);
	for (const [kind, c] of Object.entries(h.resources)) {
		for (const b of ['available', 'reserved', 'occupied', 'out_of_service', 'held_back']) expect(c[b], `${kind}.${b}`).toBeGreaterThanOrEqual(0);
		expect(c.available! + c.reserved! + c.occupied! + c.out_of_service!, `${kind} buckets vs total`).toBe(c.total);
	}
	const devices = (await scanAll(app, 'ventilators')).filter((d) => d.hospital_id === hospitalId);
	const v = h.resources.ventilators;
	expect(devices.length).toBe(v.total);
	expect(devices.filter((d) => d.status === 'in_use').length).toBe(v.occupied);
	expect(devices.filter((d) => ['cleaning', 'maintenance', 'out_of_service'].includes(d.status)).length).toBe(v.out_of_service);
	expect(devices.filter((d) => d.status === 'available').length).toBe(v.available! + v.reserved!);
	return (await admin.api.get(`/api/hospitals/${hospitalId}`)).body.hospital.resources;
}

async function devicesOf(u: TestUser, hospitalId: string): Promise<VentilatorView[]> {
	const r = await u.api.get(`/api/hospitals/${hospitalId}/ventilators`);
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body.ventilators;
}

describe('roles × endpoints', () => {
	it("a paramedic cannot read, choose for, cancel or close another paramedic's alert (404, nothing written)", async () => {
		const h = await hospital();
		const alert = await sendAlert(medicA, h);
		const before = await stored(h.id);
		expect((await medicB.api.get(`/api/ambulance-alerts/${alert.id}`)).status).toBe(404);
		expect((await medicB.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: h.id })).status).toBe(404);
		expect((await medicB.api.post(`/api/ambulance-alerts/${alert.id}/status`, { status: 'cancelled' })).status).toBe(404);
		expect((await medicB.api.get('/api/ambulance-alerts')).body.alerts.map((a: AlertView) => a.id)).not.toContain(alert.id);
		expect((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.status).toBe('open');
		expect((await stored(h.id)).version).toBe(before.version);
	});

	it("hospital staff never close a paramedic's alert: a candidate site's doctor cannot cancel it or mark it arrived, so another site's reservation stays (403)", async () => {
		const [a, b] = [await hospital(), await hospital()];
		const b2 = await hospital(undefined, { latitude: north(b.latitude, 3), longitude: b.longitude });
		const doctorB2 = await staffOf('doctor', b2);
		const nurseB = await staffOf('nurse', b);
		const alert = await sendAlert(medicA, b);
		expect(alert.hospitalIds.sort()).toEqual([b.id, b2.id].sort());
		expect((await medicA.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: b.id })).status).toBe(200);
		for (const [u, status] of [[doctorB2, 'arrived'], [doctorB2, 'cancelled'], [nurseB, 'cancelled'], [admin, 'arrived']] as const) {
			const r = await u.api.post(`/api/ambulance-alerts/${alert.id}/status`, { status });
			expect(r.status, `${u.role} ${status}: ${JSON.stringify(r.body)}`).toBe(403);
			expect(r.body.error.code).toBe('FORBIDDEN');
		}
		expect((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.status).toBe('en_route');
		expect((await stored(b.id)).resources.icu_beds.reserved).toBe(1);
		void a;
	});

	it('a paramedic chooses only a hospital within the alert’s radius (a forged far-away site is refused, nothing reserved)', async () => {
		const h = await hospital();
		const far = await hospital(undefined, { latitude: h.latitude, longitude: h.longitude + 40 });
		const alert = await sendAlert(medicA, h, { radiusKm: 20 });
		expect(alert.hospitalIds).toEqual([h.id]);
		const r = await medicA.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: far.id });
		expect(r.status, JSON.stringify(r.body)).toBe(409);
		expect(r.body.error.code).toBe('NOT_A_CANDIDATE');
		expect((await stored(far.id)).resources.icu_beds.reserved).toBe(0);
		expect((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.status).toBe('open');
	});

	it("staff of hospital A never see the patients on B's ventilators (list, device, move log), B's own staff and admins do", async () => {
		const [a, b] = [await hospital(), await hospital()];
		const [nurseB, nurseA, doctorA, deskA] = [await staffOf('nurse', b), await staffOf('nurse', a), await staffOf('doctor', a), await staffOf('front_desk', a)];
		const [dev] = await devicesOf(nurseB, b.id);
		const put = await nurseB.api.post(`/api/ventilators/${dev!.id}/moves`, { version: dev!.version, status: 'in_use', patientId: patient.patientId, location: 'ICU bed 2', reason: 'Intubated' });
		expect(put.status, JSON.stringify(put.body)).toBe(200);
		expect(put.body.ventilator.patient.name).toBe('Quentin Private');
		for (const u of [nurseA, doctorA, deskA, medicA]) {
			const list = await devicesOf(u, b.id);
			expect(JSON.stringify(list), u.role).not.toContain('Quentin');
			expect(list.find((d) => d.id === dev!.id)!.patient, u.role).toBeUndefined();
			const one = await u.api.get(`/api/ventilators/${dev!.id}`);
			expect(one.status).toBe(200);
			expect(JSON.stringify(one.body), u.role).not.toContain('Quentin');
			expect(JSON.stringify(one.body), u.role).not.toContain(patient.patientId!);
		}
		for (const u of [nurseB, admin]) {
			expect((await devicesOf(u, b.id)).find((d) => d.id === dev!.id)!.patient?.name).toBe('Quentin Private');
			expect((await u.api.get(`/api/ventilators/${dev!.id}`)).body.moves[0].patientName).toBe('Quentin Private');
		}
	});

	it("staff of hospital A cannot move B's devices, reserve B's resources through an emergency, or read, acknowledge or resolve B's emergency", async () => {
		const [a, b] = [await hospital(), await hospital()];
		const [nurseA, doctorA, doctorB, nurseBRadiology] = [await staffOf('nurse', a), await staffOf('doctor', a), await staffOf('doctor', b), await staffOf('nurse', b, 'Radiology')];
		const [dev] = await devicesOf(admin, b.id);
		const move = await nurseA.api.post(`/api/ventilators/${dev!.id}/moves`, { version: dev!.version, location: 'Ward 9', reason: 'Borrowing it' });
		expect(move.status).toBe(403);
		const beds = await nurseA.api.post(`/api/hospitals/${b.id}/beds`, { version: b.version, resource: 'icu_beds', action: 'occupy', count: 1 });
		expect(beds.status).toBe(403);
		const raise = await doctorA.api.post('/api/emergencies', { hospitalId: b.id, type: 'code_blue', location: 'Ward 3', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 2 } });
		expect(raise.status).toBe(403);
		expect((await stored(b.id)).resources.icu_beds.reserved).toBe(0);

		const own = await doctorB.api.post('/api/emergencies', { hospitalId: b.id, type: 'code_blue', location: 'Ward 3, bed 4', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 1 } });
		expect(own.status, JSON.stringify(own.body)).toBe(201);
		const id = own.body.emergency.id as string;
		const read = await doctorA.api.get(`/api/emergencies/${id}`);
		expect(read.status, JSON.stringify(read.body)).toBe(403);
		expect(JSON.stringify(read.body)).not.toContain('Ward 3');
		// paramedics read only their own "emergency" records (their alerts): told it does not exist
		const byMedic = await medicA.api.get(`/api/emergencies/${id}`);
		expect(byMedic.status, JSON.stringify(byMedic.body)).toBe(404);
		expect((await patient.api.get(`/api/emergencies/${id}`)).status).toBe(403);
		// B's own staff read it, even of another department; admins too
		expect((await nurseBRadiology.api.get(`/api/emergencies/${id}`)).status).toBe(200);
		expect((await admin.api.get(`/api/emergencies/${id}`)).status).toBe(200);
		expect((await nurseA.api.post(`/api/emergencies/${id}/acknowledgements`)).status).toBe(403);
		expect((await doctorA.api.post(`/api/emergencies/${id}/resolution`)).status).toBe(403);
		expect((await getItem(app, 'emergencies', { id }))!.status).toBe('active');
		expect((await stored(b.id)).resources.icu_beds.reserved).toBe(1);
		expect((await auditEntries(app, (e) => e.resource_id === id && e.outcome === 'denied')).length).toBeGreaterThanOrEqual(4);
	});

	it('a patient joins no hospital:, hospital-alerts: or dept: room; a paramedic no hospital-alerts: or dept: room', async () => {
		const h = await hospital();
		const p = socketOf(patient);
		const m = socketOf(medicA);
		await Promise.all([connected(p), connected(m)]);
		for (const room of [`hospital:${h.id}`, `hospital-alerts:${h.id}`, `dept:${h.id}:emergency`]) {
			const ack = await subscribe(p, room);
			expect(ack.ok, room).toBe(false);
		}
		for (const room of [`hospital-alerts:${h.id}`, `dept:${h.id}:emergency`]) expect((await subscribe(m, room)).ok, room).toBe(false);
		expect((await subscribe(m, `hospital:${h.id}`)).ok).toBe(true);
	});

	it("what a paramedic hears in hospital:<id>: counts and devices, never a patient's name or id, never the site's internal emergencies", async () => {
		const h = await hospital();
		const [nurse, doctor] = [await staffOf('nurse', h, 'Emergency'), await staffOf('doctor', h, 'Emergency')];
		const m = socketOf(medicA);
		await connected(m);
		expect((await subscribe(m, `hospital:${h.id}`)).ok).toBe(true);
		const heard: { event: string; payload: unknown }[] = [];
		m.onAny((event: string, payload: unknown) => heard.push({ event, payload }));

		const [dev] = await devicesOf(nurse, h.id);
		expect((await nurse.api.post(`/api/ventilators/${dev!.id}/moves`, { version: dev!.version, status: 'in_use', patientId: otherPatient.patientId, reason: 'Intubated' })).status).toBe(200);
		const em = await doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'code_blue', location: 'Ward 5, Rosa Private', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 1 } });
		expect(em.status, JSON.stringify(em.body)).toBe(201);
		expect((await nurse.api.post(`/api/emergencies/${em.body.emergency.id}/acknowledgements`)).status).toBe(201);
		expect((await doctor.api.post(`/api/emergencies/${em.body.emergency.id}/resolution`)).status).toBe(200);
		await expect.poll(() => heard.filter((e) => e.event === 'hospital:updated').length).toBeGreaterThanOrEqual(3);
		await sleep(200);
		expect(heard.some((e) => e.event === 'ventilator:updated')).toBe(true);
		const text = JSON.stringify(heard);
		expect(text).not.toContain('Rosa');
		expect(text).not.toContain(otherPatient.patientId!);
		expect(heard.filter((e) => e.event.startsWith('emergency:')).map((e) => e.event)).toEqual([]);
	});

	it('an administrator’s screen still hears every site’s emergencies live (role:admin), and the department and the raiser theirs', async () => {
		const h = await hospital();
		const [nurse, doctor] = [await staffOf('nurse', h, 'Emergency'), await staffOf('doctor', h, 'Radiology')];
		const [sa, sn, sd] = [socketOf(admin), socketOf(nurse), socketOf(doctor)];
		await Promise.all([connected(sa), connected(sn), connected(sd)]);
		expect((await subscribe(sa, 'role:admin')).ok).toBe(true);
		expect((await subscribe(sn, `dept:${h.id}:emergency`)).ok).toBe(true);
		const got = (s: ClientSocket) => new Promise<string>((resolve) => s.once('emergency:raised', (e) => resolve(e.id)));
		const hearing = Promise.all([got(sa), got(sn), got(sd)]);
		const em = await doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'fire', location: 'Kitchen', severity: 'high', departments: ['Emergency'] });
		expect(em.status).toBe(201);
		expect(await hearing).toEqual([em.body.emergency.id, em.body.emergency.id, em.body.emergency.id]);
	});
});

describe('races', () => {
	it('30 at once on one alert (selections, cancels, arrivals mixed): one selection at most, one close at most, counters equal a recount', async () => {
		const h = await hospital({ general_beds: 4, icu_beds: 3, ventilators: 3 });
		for (let round = 0; round < 3; round++) {
			const alert = await sendAlert(medicA, h, { needs: { icu_beds: 1, ventilators: 1 }, severity: 'critical' });
			const kinds = Array.from({ length: 30 }, (_, i) => (['select', 'cancelled', 'arrived'] as const)[(i + round) % 3]!);
			const rs = await Promise.all(
				kinds.map((k) =>
					k === 'select'
						? medicA.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: h.id })
						: medicA.api.post(`/api/ambulance-alerts/${alert.id}/status`, { status: k })
				)
			);
			for (const r of rs) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
			const ok = kinds.filter((_, i) => rs[i]!.status === 200);
			expect(ok.filter((k) => k === 'select').length).toBeLessThanOrEqual(1);
			expect(ok.filter((k) => k !== 'select').length).toBeLessThanOrEqual(1);
			const final = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
			const audits = await auditEntries(app, (e) => e.resource_id === alert.id && ['reserve', 'cancel', 'arrive'].includes(e.action));
			expect(audits.length).toBe(ok.length);
			if (ok.includes('select') && ok.includes('arrived')) expect(final.status).toBe('arrived');
			else if (ok.includes('cancelled')) expect(final.status).toBe('cancelled');
			const counts = await expectCountsHold(h.id);
			expect(counts.icu_beds.reserved).toBe(final.status === 'en_route' ? 1 : 0);
		}
		const counts = await expectCountsHold(h.id);
		expect(counts.ventilators.reserved + counts.icu_beds.reserved).toBe(0);
	});

	it('pandemic toggles racing selections: never a non-critical case in the hold-back, counters equal a recount', async () => {
		const h = await hospital({ general_beds: 4, icu_beds: 10, ventilators: 2 });
		const alerts = await Promise.all(Array.from({ length: 8 }, () => sendAlert(medicA, h)));
		let version = h.version;
		const toggles = Array.from({ length: 6 }, async (_, i) => {
			for (let t = 0; t < 5; t++) {
				const r = await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version, enabled: i % 2 === 0, heldBackShare: 0.5 });
				if (r.status === 200) return r;
				version = (await stored(h.id)).version;
			}
			return undefined;
		});
		const selections = alerts.map((a) => medicA.api.post(`/api/ambulance-alerts/${a.id}/selection`, { hospitalId: h.id }));
		const [ts, ss] = await Promise.all([Promise.all(toggles), Promise.all(selections)]);
		for (const r of ss) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
		expect(ts.some((r) => r?.status === 200)).toBe(true);
		const row = await stored(h.id);
		const icu = row.resources.icu_beds as Record<'total' | 'available' | 'reserved' | 'held_back', number>;
		const taken = ss.filter((r) => r.status === 200).length;
		expect(icu.reserved).toBe(taken);
		// every selection that landed left the hold-back in place as it was then: never below it now unless it went off
		if (icu.held_back > 0) expect(icu.available).toBeGreaterThanOrEqual(Math.min(icu.held_back, icu.total - taken));
		await expectCountsHold(h.id);
	});

	it('bed changes, ventilator moves and reservations at once on one hospital row: each lands or is a clean 409, counters equal a recount', async () => {
		const h = await hospital({ general_beds: 20, icu_beds: 6, ventilators: 6 });
		const nurse = await staffOf('nurse', h);
		const devs = await devicesOf(nurse, h.id);
		const alerts = await Promise.all(Array.from({ length: 5 }, () => sendAlert(medicA, h, { needs: { icu_beds: 1, ventilators: 1 }, severity: 'critical' })));
		const row = await stored(h.id);
		const reqs = [
			...Array.from({ length: 10 }, (_, i) => nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: row.version, resource: i % 2 ? 'general_beds' : 'icu_beds', action: 'occupy', count: 1 })),
			...devs.map((d, i) => nurse.api.post(`/api/ventilators/${d.id}/moves`, { version: d.version, status: i % 2 ? 'cleaning' : 'maintenance', reason: 'Service' })),
			...alerts.map((a) => medicA.api.post(`/api/ambulance-alerts/${a.id}/selection`, { hospitalId: h.id })),
			...Array.from({ length: 9 }, () => admin.api.post(`/api/hospitals/${h.id}/beds`, { version: row.version, resource: 'general_beds', action: 'out_of_service', count: 1 }))
		];
		const rs = await Promise.all(reqs);
		for (const r of rs) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
		const beds = rs.slice(0, 10).filter((r) => r.status === 200).length + rs.slice(-9).filter((r) => r.status === 200).length;
		expect(beds).toBeLessThanOrEqual(1); // all sent the same version: one at most
		const counts = await expectCountsHold(h.id);
		const selected = rs.slice(10 + devs.length, 10 + devs.length + 5).filter((r) => r.status === 200).length;
		const moved = rs.slice(10, 10 + devs.length).filter((r) => r.status === 200).length;
		expect(counts.ventilators.reserved).toBe(selected);
		expect(counts.ventilators.outOfService).toBe(moved);
		expect(selected + moved).toBeLessThanOrEqual(6);
	});

	it('late capacity racing a selection: no candidate is ever added to an alert that closed', async () => {
		const h = await hospital({ general_beds: 4, icu_beds: 2, ventilators: 0 });
		const late = await hospital({ general_beds: 4, icu_beds: 2, ventilators: 0 }, { latitude: north(h.latitude, 4), longitude: h.longitude });
		const lateNurse = await staffOf('nurse', late);
		// `late` is full: not a candidate
		const r0 = await lateNurse.api.post(`/api/hospitals/${late.id}/beds`, { version: late.version, resource: 'icu_beds', action: 'occupy', count: 2 });
		expect(r0.status).toBe(200);
		for (let round = 0; round < 5; round++) {
			const alert = await sendAlert(medicA, h);
			expect(alert.hospitalIds).toEqual([h.id]);
			const v = (await stored(late.id)).version;
			const [sel, freed] = await Promise.all([
				medicA.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: h.id }),
				lateNurse.api.post(`/api/hospitals/${late.id}/beds`, { version: v, resource: 'icu_beds', action: 'free', count: 1 })
			]);
			expect(sel.status).toBe(200);
			expect(freed.status).toBe(200);
			await sleep(100);
			const a = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
			expect(a.status).toBe('en_route');
			const added = await auditEntries(app, (e) => e.resource_id === alert.id && e.action === 'alert_candidate_added');
			// added only while it was open, and then it is in hospital_ids
			expect(added.length).toBe(a.hospital_ids.includes(late.id) ? 1 : 0);
			expect((await medicA.api.post(`/api/ambulance-alerts/${alert.id}/status`, { status: 'cancelled' })).status).toBe(200);
			const v2 = (await stored(late.id)).version;
			expect((await lateNurse.api.post(`/api/hospitals/${late.id}/beds`, { version: v2, resource: 'icu_beds', action: 'occupy', count: 1 })).status).toBe(200);
		}
		await expectCountsHold(h.id);
		await expectCountsHold(late.id);
	});

	it('an emergency resolved twice at once (10 requests) releases its reservation once', async () => {
		const h = await hospital({ general_beds: 10, icu_beds: 5, ventilators: 3 });
		const doctor = await staffOf('doctor', h);
		const em = await doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'mass_casualty', location: 'Main entrance', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 2, ventilators: 1, general_beds: 3 } });
		expect(em.status, JSON.stringify(em.body)).toBe(201);
		expect((await stored(h.id)).resources.icu_beds.reserved).toBe(2);
		const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? doctor : admin).api.post(`/api/emergencies/${em.body.emergency.id}/resolution`)));
		expect(rs.filter((r) => r.status === 200).length).toBe(1);
		for (const r of rs.filter((x) => x.status !== 200)) expect(r.body.error.code).toBe('INVALID_TRANSITION');
		const counts = await expectCountsHold(h.id);
		expect([counts.icu_beds.available, counts.ventilators.available, counts.general_beds.available]).toEqual([5, 3, 10]);
		expect((await auditEntries(app, (e) => e.resource_id === em.body.emergency.id && e.action === 'resolve')).length).toBe(1);
	});
});

describe('forged input', () => {
	it('ids of other kinds (a patient, a ventilator, an alert, an emergency id as a hospital id and the other way round) are 404, never 500', async () => {
		const h = await hospital();
		const [dev] = await devicesOf(admin, h.id);
		const alert = await sendAlert(medicA, h);
		const fakes = [patient.patientId!, patient.id, dev!.id, alert.id];
		for (const f of fakes) {
			for (const path of [`/api/hospitals/${f}`, `/api/hospitals/${f}/have.xml`, `/api/hospitals/${f}/ventilators`]) {
				const r = await admin.api.get(path);
				expect(r.status, path).toBe(404);
				expect(r.body.error.code).toBe('NOT_FOUND');
			}
			expect((await admin.api.post(`/api/hospitals/${f}/beds`, { version: 1, resource: 'icu_beds', action: 'occupy' })).status).toBe(404);
			expect((await admin.api.patch(`/api/hospitals/${f}/pandemic`, { version: 1, enabled: true, heldBackShare: 0.2 })).status).toBe(404);
			expect((await medicA.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: f })).status).toBe(404);
			expect((await admin.api.post('/api/emergencies', { hospitalId: f, type: 'fire', location: 'Here', severity: 'low', departments: ['Emergency'] })).status).toBe(404);
		}
		for (const f of [h.id, patient.patientId!, alert.id]) expect((await admin.api.get(`/api/ventilators/${f}`)).status).toBe(404);
		for (const f of [h.id, dev!.id]) expect((await medicA.api.get(`/api/ambulance-alerts/${f}`)).status).toBe(404);
		for (const f of [h.id, alert.id]) expect((await admin.api.get(`/api/emergencies/${f}`)).status).toBe(404);
		// the guard row of "one patient, one ventilator" cannot be addressed as a device
		expect((await admin.api.get(`/api/ventilators/${encodeURIComponent(`ventilator-patient#${patient.patientId}`)}`)).status).toBe(400);
		expect((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.status).toBe('open');
	});

	it('huge, negative and fractional counts, coordinates out of range, a radius of 0 or 100,000 km: 400 naming the field, nothing written', async () => {
		const h = await hospital();
		const base = { condition: 'Stroke symptoms', severity: 'high', needs: { icu_beds: 1 }, ...near(h) };
		const bad: [Record<string, unknown>, string][] = [
			[{ needs: { icu_beds: 1e9 } }, 'needs.icu_beds'],
			[{ needs: { icu_beds: -1, general_beds: 1 } }, 'needs.icu_beds'],
			[{ needs: { icu_beds: 0.5 } }, 'needs.icu_beds'],
			[{ needs: { icu_beds: 0 } }, 'needs'],
			[{ latitude: 91 }, 'latitude'],
			[{ latitude: Number.NaN }, 'latitude'],
			[{ longitude: -180.5 }, 'longitude'],
			[{ radiusKm: 0 }, 'radiusKm'],
			[{ radiusKm: 100_000 }, 'radiusKm'],
			[{ radiusKm: '10' }, 'radiusKm'],
			[{ severity: 'apocalyptic' }, 'severity'],
			[{ hospitalIds: [h.id] }, ''],
			[{ status: 'en_route' }, '']
		];
		const before = (await scanAll(app, 'ambulance_alerts')).length;
		for (const [extra, field] of bad) {
			const r = await medicA.api.post('/api/ambulance-alerts', { ...base, ...extra });
			expect(r.status, JSON.stringify(extra)).toBe(400);
			expect(r.body.error.code).toBe('VALIDATION_FAILED');
			if (field) expect(r.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(extra)).toContain(field);
		}
		expect((await scanAll(app, 'ambulance_alerts')).length).toBe(before);

		const hospitalBase = { name: 'Forged Site', latitude: 0, longitude: 0, departments: [], resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 1 } } };
		for (const [patch, field] of [
			[{ resources: { general_beds: { total: 1e9 }, icu_beds: { total: 1 }, ventilators: { total: 1 } } }, 'resources.general_beds.total'],
			[{ resources: { general_beds: { total: 1 }, icu_beds: { total: -3 }, ventilators: { total: 1 } } }, 'resources.icu_beds.total'],
			[{ resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 2.5 } } }, 'resources.ventilators.total'],
			[{ resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 91 } } }, 'resources.ventilators.total'],
			[{ latitude: -90.0001 }, 'latitude'],
			[{ longitude: 1e308 }, 'longitude'],
			[{ pandemic: { enabled: true } }, '']
		] as [Record<string, unknown>, string][]) {
			const r = await admin.api.post('/api/hospitals', { ...hospitalBase, ...patch });
			expect(r.status, JSON.stringify(patch)).toBe(400);
			if (field) expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
		}
		for (const [b, field] of [
			[{ version: h.version, resource: 'icu_beds', action: 'occupy', count: 1e9 }, 'count'],
			[{ version: h.version, resource: 'icu_beds', action: 'occupy', count: -1 }, 'count'],
			[{ version: h.version, resource: 'icu_beds', action: 'occupy', count: 1.5 }, 'count'],
			[{ version: h.version, resource: 'icu_beds', action: 'explode', count: 1 }, 'action'],
			[{ version: h.version, resource: 'icu_beds', action: 'occupy', count: 1, available: 99 }, '']
		] as [Record<string, unknown>, string][]) {
			const r = await admin.api.post(`/api/hospitals/${h.id}/beds`, b);
			expect(r.status, JSON.stringify(b)).toBe(400);
			if (field) expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
		}
		for (const share of [-0.1, 0.95, 1e9]) {
			expect((await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: h.version, enabled: true, heldBackShare: share })).status).toBe(400);
		}
		const doctor = await staffOf('doctor', h);
		for (const reserve of [{ icu_beds: 1e9 }, { icu_beds: -1 }, { ventilators: 0.5 }, { oxygen: 1 }]) {
			const r = await doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'fire', location: 'Roof', severity: 'critical', departments: ['Emergency'], reserve });
			expect(r.status, JSON.stringify(reserve)).toBe(400);
		}
		expect((await stored(h.id)).version).toBe(h.version);
		await expectCountsHold(h.id);
	});

	it('control characters and 100 KB strings in condition, location, reason and names: 400 (or 413) in the error shape, nothing stored', async () => {
		const h = await hospital();
		const nurse = await staffOf('nurse', h);
		const doctor = await staffOf('doctor', h);
		const huge = 'x'.repeat(100_000);
		const alertsBefore = (await scanAll(app, 'ambulance_alerts')).length;
		for (const condition of ['Chest\u0000pain', 'Chest\u001bpain', 'line\nbreak', 'evil \u202Ereversed', huge]) {
			const r = await medicA.api.post('/api/ambulance-alerts', { condition, severity: 'high', needs: { icu_beds: 1 }, ...near(h) });
			expect(r.status).toBe(400);
			expect(r.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
			expect(r.body.error.details[0].field).toBe('condition');
		}
		expect((await scanAll(app, 'ambulance_alerts')).length).toBe(alertsBefore);
		for (const location of ['Ward\u00073', huge]) {
			const r = await doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'fire', location, severity: 'high', departments: ['Emergency'] });
			expect(r.status).toBe(400);
			expect(r.body.error.details[0].field).toBe('location');
		}
		for (const departments of [['Emer\u0000gency'], [huge], Array.from({ length: 21 }, (_, i) => `Dept ${i}`)]) {
			expect((await doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'fire', location: 'Roof', severity: 'high', departments })).status).toBe(400);
		}
		const [dev] = await devicesOf(nurse, h.id);
		for (const reason of ['Clean\u0008ed', huge, '']) {
			const r = await nurse.api.post(`/api/ventilators/${dev!.id}/moves`, { version: dev!.version, location: 'Ward 2', reason });
			expect(r.status).toBe(400);
			expect(r.body.error.details[0].field).toBe('reason');
		}
		const alert = await sendAlert(medicA, h);
		const decline = await nurse.api.post(`/api/ambulance-alerts/${alert.id}/responses`, { hospitalId: h.id, response: 'decline', reason: huge });
		expect(decline.status).toBe(400);
		// beyond the body limit: 413 in the same shape
		const big = await medicA.api.post('/api/ambulance-alerts', { condition: 'y'.repeat(300_000), severity: 'high', needs: { icu_beds: 1 }, ...near(h) });
		expect(big.status).toBe(413);
		expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
		for (const name of ['Site\u0000One', 'Site\u0085One', 'Site \uFFFE', huge]) {
			const r = await admin.api.post('/api/hospitals', { name, latitude: 1, longitude: 1, departments: [], resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 0 } } });
			expect(r.status).toBe(400);
			expect(r.body.error.details[0].field).toBe('name');
		}
		expect(((await getItem(app, 'ventilators', { id: dev!.id }))!.version)).toBe(dev!.version);
		expect(((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.responses as object)).toEqual({});
	});
});

describe('EDXL-HAVE export', () => {
	it('a name with XML specials is escaped and parses back to the same name; another kind of id is 404', async () => {
		const name = `St <Mary> & "Joseph's" ]]> <!-- x -->`;
		const h = await hospital(undefined, undefined, name);
		const r = await fetch(`${app.url}/api/hospitals/${h.id}/have.xml`, { headers: { cookie: medicA.api.cookie! } });
		expect(r.status).toBe(200);
		const xml = await r.text();
		expect(xml).not.toContain('<Mary>');
		const doc = new XMLParser({ ignoreAttributes: false, processEntities: true }).parse(xml);
		const org = doc.HospitalStatus.Hospital.Organization.OrganizationInformation['xnl:OrganisationName'];
		expect(org['xnl:NameElement']).toBe(name);
		expect(org['@_xnl:ID']).toBe(h.id);
		for (const id of [patient.patientId!, medicA.id, 'amb_00000000']) expect((await admin.api.get(`/api/hospitals/${id}/have.xml`)).status).toBe(404);
		expect((await patient.api.get(`/api/hospitals/${h.id}/have.xml`)).status).toBe(403);
	});
});

describe('after a restart', () => {
	it("an open and an en-route alert survive a server restart: the paramedic's and the staff's screens read them back and hear what happens next", async () => {
		const h = await hospital();
		const nurse = await staffOf('nurse', h);
		const [openAlert, enRoute] = [await sendAlert(medicA, h), await sendAlert(medicA, h)];
		expect((await medicA.api.post(`/api/ambulance-alerts/${enRoute.id}/selection`, { hospitalId: h.id })).status).toBe(200);
		// screens as the browser keeps them: reconnecting, joining their rooms again on every connect
		const mk = (u: TestUser, rooms: string[]) => {
			const s = socketOf(u, { reconnect: true });
			const joins: boolean[] = [];
			s.on('connect', () => void Promise.all(rooms.map((r) => subscribe(s, r))).then((acks) => joins.push(acks.every((a) => a.ok))));
			return { s, joins };
		};
		const medicScreen = mk(medicA, [`hospital:${h.id}`]);
		const staffScreen = mk(nurse, [`hospital-alerts:${h.id}`, `hospital:${h.id}`]);
		await expect.poll(() => [medicScreen.joins, staffScreen.joins]).toEqual([[true], [true]]);

		await app.stopServer();
		await sleep(200);
		await app.startServer();
		await expect.poll(() => [medicScreen.joins, staffScreen.joins], { timeout: 10_000 }).toEqual([[true, true], [true, true]]);

		// what each screen fetches on reconnect
		const mine = (await medicA.api.get('/api/ambulance-alerts')).body.alerts as AlertView[];
		expect(mine.find((a) => a.id === openAlert.id)?.status).toBe('open');
		expect(mine.find((a) => a.id === enRoute.id)?.status).toBe('en_route');
		const theirs = (await nurse.api.get(`/api/ambulance-alerts?hospitalId=${h.id}`)).body.alerts as AlertView[];
		expect(theirs.map((a) => a.id).sort()).toEqual([openAlert.id, enRoute.id].sort());
		expect((await medicA.api.get(`/api/ambulance-alerts/${openAlert.id}`)).body.candidates.map((c: { hospitalId: string }) => c.hospitalId)).toContain(h.id);

		const heardByStaff = new Promise<AlertView>((resolve) => staffScreen.s.on('ambulance:updated', (a) => a.id === openAlert.id && a.status === 'en_route' && resolve(a)));
		const heardByMedic = new Promise<AlertView>((resolve) => medicScreen.s.on('ambulance:updated', (a) => a.id === openAlert.id && a.status === 'en_route' && resolve(a)));
		const counts = new Promise<HospitalView>((resolve) => medicScreen.s.on('hospital:updated', (x) => x.id === h.id && resolve(x)));
		expect((await medicA.api.post(`/api/ambulance-alerts/${openAlert.id}/selection`, { hospitalId: h.id })).status).toBe(200);
		const [, , view] = await Promise.all([heardByStaff, heardByMedic, counts]);
		expect(view.resources.icu_beds.reserved).toBe(2);
		expect((await medicA.api.post(`/api/ambulance-alerts/${enRoute.id}/status`, { status: 'arrived' })).status).toBe(200);
		const after = await expectCountsHold(h.id);
		expect([after.icu_beds.reserved, after.icu_beds.occupied]).toEqual([1, 1]);
	});
});

describe('DynamoDB frozen mid-request', () => {
	let db: LocalDb;
	let own: TestApp;
	beforeAll(async () => {
		db = await startDynamoLocal({});
		own = await startTestApp({ DYNAMODB_ENDPOINT: db.endpoint, DB_DEADLINE_MS: '1500' });
	});
	afterAll(async () => {
		db?.thaw();
		await own?.close();
		await db?.stop();
	});

	it('selections, bed changes, moves and emergencies answer 503 DATABASE_UNAVAILABLE in the error shape; once it is back nothing is half-written', async () => {
		const adminO = await own.userOf('admin');
		const medic = await own.userOf('paramedic');
		const created = await adminO.api.post('/api/hospitals', { name: 'Outage Site', latitude: 5, longitude: 5, departments: ['Emergency'], resources: { general_beds: { total: 5 }, icu_beds: { total: 3 }, ventilators: { total: 2 } } });
		expect(created.status).toBe(201);
		const h = created.body.hospital as HospitalView;
		const doctor = await own.userOf('doctor', { hospitalId: h.id, department: 'Emergency' });
		const alerts = await Promise.all(
			[1, 2].map(async () => (await medic.api.post('/api/ambulance-alerts', { condition: 'Sepsis', severity: 'critical', needs: { icu_beds: 1, ventilators: 1 }, latitude: 5.01, longitude: 5 })).body.alert as AlertView)
		);
		const [dev] = (await adminO.api.get(`/api/hospitals/${h.id}/ventilators`)).body.ventilators as VentilatorView[];

		db.freeze();
		const t0 = performance.now();
		const rs = await Promise.all([
			medic.api.post(`/api/ambulance-alerts/${alerts[0]!.id}/selection`, { hospitalId: h.id }),
			adminO.api.post(`/api/hospitals/${h.id}/beds`, { version: h.version, resource: 'general_beds', action: 'occupy', count: 1 }),
			adminO.api.post(`/api/ventilators/${dev!.id}/moves`, { version: dev!.version, status: 'cleaning', reason: 'After use' }),
			doctor.api.post('/api/emergencies', { hospitalId: h.id, type: 'code_blue', location: 'Ward 1', severity: 'critical', departments: ['Emergency'], reserve: { icu_beds: 1 } }),
			medic.api.post(`/api/ambulance-alerts/${alerts[1]!.id}/status`, { status: 'cancelled' })
		]);
		const ms = Math.round(performance.now() - t0);
		db.thaw();
		for (const r of rs) {
			expect(r.status, JSON.stringify(r.body)).toBe(503);
			expect(r.body.error.code).toBe('DATABASE_UNAVAILABLE');
			expect(typeof r.body.error.message).toBe('string');
		}
		expect(ms).toBeLessThan(6_000);
		console.log(`frozen DynamoDB: 5 writes refused with 503 in ${ms} ms`);

		await expect.poll(async () => (await own.client().get('/api/health')).status, { timeout: 10_000, interval: 200 }).toBe(200);
		// nothing half-written: each write either happened whole or not at all (transactions), and the counters add up
		const row = (await getItem(own, 'hospitals', { id: h.id }))! as { resources: Record<string, Record<string, number>> };
		const a0 = (await getItem(own, 'ambulance_alerts', { id: alerts[0]!.id }))!;
		const emergencies = await scanAll(own, 'emergencies');
		const reservedIcu = (a0.status === 'en_route' ? 1 : 0) + emergencies.filter((e) => e.status === 'active').length;
		expect(row.resources.icu_beds!.reserved).toBe(reservedIcu);
		expect(row.resources.ventilators!.reserved).toBe(a0.status === 'en_route' ? 1 : 0);
		for (const c of Object.values(row.resources)) expect(c.available! + c.reserved! + c.occupied! + c.out_of_service!).toBe(c.total);
		const devNow = (await getItem(own, 'ventilators', { id: dev!.id }))!;
		expect(row.resources.ventilators!.out_of_service).toBe(devNow.status === 'cleaning' ? 1 : 0);
		const moves = (await scanAll(own, 'ventilator_moves')).filter((m) => m.ventilator_id === dev!.id);
		// (a hospital's first devices are created with it, without a log entry)
		expect(moves.length).toBe(devNow.status === 'cleaning' ? 1 : 0);
		// and it works again
		const again = await medic.api.post(`/api/ambulance-alerts/${alerts[1]!.id}/status`, { status: 'cancelled' });
		expect([200, 409]).toContain(again.status);
		expect((await getItem(own, 'ambulance_alerts', { id: alerts[1]!.id }))!.status).toBe('cancelled');
	});
});
