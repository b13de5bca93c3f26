import { socketPool, connected, subscribe } from '../fixtures/sockets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tieToHospital, type TestApp, type TestUser, createHospital } from '../fixtures/app';
import { auditEntries, sleep } from './helpers';
import type { AlertView, HospitalView } from '../../src/lib/shared/hospitals';
import type { VentilatorMoveView, VentilatorView } from '../../src/lib/shared/ventilators';

/**
 * Ventilators one by one against DynamoDB Local: registration, moves with their log, the
 * hospital's counters equal to the devices under concurrent moves, nurses of their own hospital
 * only, and ambulance reservations that a device move can never push below zero.
 */

let app: TestApp;
let admin: TestUser;
let nurseA: TestUser;
let nurseB: TestUser;
let untied: TestUser;
let doctor: TestUser;
let frontDesk: TestUser;
let medic: TestUser;
let patient: TestUser;
let patient2: TestUser;
let home: HospitalView;
let other: HospitalView;
const { socketOf, closeAll } = socketPool(() => app);

async function hospital(name: string, latitude: number, ventilators: number): Promise<HospitalView> {
	return createHospital(admin, { name, latitude, longitude: 100, departments: ['ICU'], totals: { general_beds: 10, icu_beds: 4, ventilators } });
}

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC' });
	admin = await app.userOf('admin', { name: 'Ada Admin' });
	[home, other] = await Promise.all([hospital('Vent Home', 10, 3), hospital('Vent Other', 20, 2)]);
	[nurseA, nurseB, untied, doctor, frontDesk, medic, patient, patient2] = await Promise.all([
		app.userOf('nurse', { name: 'Nia Nurse', hospitalId: home.id }),
		app.userOf('nurse', { name: 'Olu Otherward', hospitalId: other.id }),
		app.userOf('nurse', { name: 'Una Untied' }),
		app.userOf('doctor'),
		app.userOf('front_desk'),
		app.userOf('paramedic', { name: 'Pat Medic' }),
		app.userOf('patient', { name: 'Petra Patient' }),
		app.userOf('patient', { name: 'Quentin Patient' })
	]);
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());

const read = async (id: string): Promise<HospitalView> => (await admin.api.get(`/api/hospitals/${id}`)).body.hospital;
const devices = async (hospitalId: string, as: TestUser = admin): Promise<VentilatorView[]> => {
	const r = await as.api.get(`/api/hospitals/${hospitalId}/ventilators`);
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body.ventilators;
};
/** Patients of their own: one patient is on one ventilator at a time, so each test brings its own. */
const patientsOf = (n: number, tag: string) => Promise.all(Array.from({ length: n }, (_, i) => app.userOf('patient', { name: `${tag} Patient ${i}` })));
const move = (as: TestUser, v: { id: string; version: number }, change: Record<string, unknown>) =>
	as.api.post(`/api/ventilators/${v.id}/moves`, { version: v.version, reason: 'Ward round', ...change });

/** The hospital's ventilator counters are exactly its devices, none below zero. */
async function expectCountsEqualDevices(hospitalId: string): Promise<void> {
	const [h, list] = await Promise.all([read(hospitalId), devices(hospitalId)]);
	const c = h.resources.ventilators;
	const n = (...s: string[]) => list.filter((v) => s.includes(v.status)).length;
	for (const value of Object.values(c)) expect(value).toBeGreaterThanOrEqual(0);
	expect(c.total).toBe(list.length);
	expect(c.occupied).toBe(n('in_use'));
	expect(c.outOfService).toBe(n('cleaning', 'maintenance', 'out_of_service'));
	expect(c.available + c.reserved).toBe(n('available'));
	expect(c.total).toBe(c.available + c.reserved + c.occupied + c.outOfService);
}


describe('registering ventilators', () => {
	it('a new hospital starts with its ventilators as devices; an admin registers more, counted in the same write; a serial is unique per hospital', async () => {
		const start = await devices(home.id);
		expect(start.map((v) => v.serial)).toEqual(['V-001', 'V-002', 'V-003']);
		expect(start.every((v) => v.status === 'available' && v.location === 'Equipment store' && v.version === 1)).toBe(true);

		const r = await admin.api.post(`/api/hospitals/${home.id}/ventilators`, { serial: 'HAM-C6-0001', location: 'ICU bay 1' });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.ventilator).toMatchObject({ serial: 'HAM-C6-0001', location: 'ICU bay 1', status: 'available', hospitalId: home.id, version: 1 });
		expect((await read(home.id)).resources.ventilators).toMatchObject({ total: 4, available: 4 });
		const dup = await admin.api.post(`/api/hospitals/${home.id}/ventilators`, { serial: 'ham-c6-0001', location: 'ICU bay 2' });
		expect(dup.status).toBe(409);
		expect(dup.body.error.code).toBe('ALREADY_EXISTS');
		// The same serial at another hospital is another device.
		expect((await admin.api.post(`/api/hospitals/${other.id}/ventilators`, { serial: 'HAM-C6-0001', location: 'Store' })).status).toBe(201);
		// Nurses move devices; registering one is an administrator's.
		expect((await nurseA.api.post(`/api/hospitals/${home.id}/ventilators`, { serial: 'X-1', location: 'ICU' })).status).toBe(403);
		expect((await admin.api.post(`/api/hospitals/h_nope/ventilators`, { serial: 'X-1', location: 'ICU' })).status).toBe(404);
		const log = await admin.api.get(`/api/ventilators/${r.body.ventilator.id}`);
		expect(log.body.moves).toEqual([expect.objectContaining({ fromStatus: null, toStatus: 'available', toLocation: 'ICU bay 1', byName: 'Ada Admin', reason: 'Registered' })]);
		await expectCountsEqualDevices(home.id);
		await expectCountsEqualDevices(other.id);
	});

	it('refuses a hospital created with more ventilators than one transaction can hold as devices', async () => {
		const r = await admin.api.post('/api/hospitals', { name: 'Too Many', latitude: 1, longitude: 1, resources: { general_beds: { total: 1 }, icu_beds: { total: 1 }, ventilators: { total: 91 } } });
		expect(r.status).toBe(400);
		expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain('resources.ventilators.total');
	});
});

describe('moving ventilators', () => {
	it('a nurse assigns a device to a patient, moves and frees it: counters follow, each move is logged (from, to, who, why), audited and live', async () => {
		const h = await hospital('Vent Flow', 30, 2);
		// the doctor reads the device's patient as staff of its hospital (another site's staff see status and location only)
		await Promise.all([tieToHospital(admin, nurseA, h.id), tieToHospital(admin, doctor, h.id)]);
		const s = socketOf(doctor);
		const heard: VentilatorView[] = [];
		const counts: HospitalView[] = [];
		s.on('ventilator:updated', (e) => heard.push(e));
		s.on('hospital:updated', (e) => counts.push(e));
		await connected(s);
		expect(await subscribe(s, `hospital:${h.id}`)).toEqual({ ok: true });

		const [v] = await devices(h.id);
		const assigned = await move(nurseA, v!, { status: 'in_use', patientId: patient.patientId, location: 'ICU bed 4', reason: 'Intubated after respiratory arrest' });
		expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
		expect(assigned.body.ventilator).toMatchObject({ status: 'in_use', location: 'ICU bed 4', version: 2, patient: { id: patient.patientId, name: 'Petra Patient' }, updatedBy: 'Nia Nurse' });
		expect((await read(h.id)).resources.ventilators).toMatchObject({ total: 2, available: 1, occupied: 1 });

		const stale = await move(nurseA, v!, { location: 'ICU bed 5' });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		expect(stale.body.error.message).toContain('Nia Nurse');
		expect(stale.body.error.details).toMatchObject({ currentVersion: 2, updatedBy: 'Nia Nurse' });

		const moved = await move(nurseA, { id: v!.id, version: 2 }, { location: 'ICU bed 5', reason: 'Patient moved to an isolation bed' });
		expect(moved.body.ventilator).toMatchObject({ status: 'in_use', location: 'ICU bed 5', version: 3 });
		const freed = await move(admin, { id: v!.id, version: 3 }, { status: 'cleaning', location: 'Sterile services', reason: 'Extubated; sent for cleaning' });
		expect(freed.status, JSON.stringify(freed.body)).toBe(200);
		expect(freed.body.ventilator.patient).toBeUndefined();
		expect((await read(h.id)).resources.ventilators).toMatchObject({ available: 1, occupied: 0, outOfService: 1 });
		const back = await move(nurseA, { id: v!.id, version: 4 }, { status: 'available', location: 'Equipment store', reason: 'Cleaned and checked' });
		expect(back.body.ventilator).toMatchObject({ status: 'available', version: 5 });

		const got = await doctor.api.get(`/api/ventilators/${v!.id}`);
		expect(got.status).toBe(200);
		const moves = got.body.moves as VentilatorMoveView[];
		expect(moves.map((m) => m.reason)).toEqual(['Cleaned and checked', 'Extubated; sent for cleaning', 'Patient moved to an isolation bed', 'Intubated after respiratory arrest']);
		expect(moves[3]).toMatchObject({ fromLocation: 'Equipment store', toLocation: 'ICU bed 4', fromStatus: 'available', toStatus: 'in_use', byName: 'Nia Nurse', patientName: 'Petra Patient' });
		expect(moves[1]).toMatchObject({ fromLocation: 'ICU bed 5', toLocation: 'Sterile services', fromStatus: 'in_use', toStatus: 'cleaning', byName: 'Ada Admin' });

		// paged, newest first, with a cursor that only this listing accepts
		const p1 = await doctor.api.get(`/api/ventilators/${v!.id}?limit=3`);
		expect(p1.body.moves).toHaveLength(3);
		const p2 = await doctor.api.get(`/api/ventilators/${v!.id}?limit=3&cursor=${encodeURIComponent(p1.body.nextCursor)}`);
		expect(p2.body.moves.map((m: VentilatorMoveView) => m.reason)).toEqual(['Intubated after respiratory arrest']);
		expect(p2.body.nextCursor).toBeNull();
		const [, w] = await devices(h.id);
		expect((await doctor.api.get(`/api/ventilators/${w!.id}?cursor=${encodeURIComponent(p1.body.nextCursor)}`)).status).toBe(400);
		expect((await doctor.api.get(`/api/ventilators/${v!.id}?cursor=${encodeURIComponent(p1.body.nextCursor)}x`)).status).toBe(400);

		// a paramedic reads the devices but never whose they are
		const onRoad = await medic.api.get(`/api/ventilators/${v!.id}`);
		expect(onRoad.status).toBe(200);
		expect(onRoad.body.moves.every((m: VentilatorMoveView) => m.patientName === undefined)).toBe(true);

		const t0 = Date.now();
		while ((heard.length < 4 || counts.length < 3) && Date.now() - t0 < 2000) await sleep(20);
		expect(heard.map((e) => e.version)).toEqual([2, 3, 4, 5]);
		expect(heard.every((e) => e.patient === undefined)).toBe(true);
		expect(heard[0]).toMatchObject({ id: v!.id, status: 'in_use', location: 'ICU bed 4' });
		expect(counts.map((e) => e.resources.ventilators.occupied)).toEqual([1, 0, 0]);

		const audits = await auditEntries(app, (e) => e.resource_id === v!.id && e.resource_type === 'ventilator');
		expect(audits.map((e) => e.action).sort()).toEqual(['ventilator_assign', 'ventilator_free', 'ventilator_move', 'ventilator_move']);
		await expectCountsEqualDevices(h.id);
	});

	it('30 concurrent moves of 30 devices: every one lands once and the counters equal the devices', async () => {
		const h = await hospital('Vent Thirty', 40, 30);
		await tieToHospital(admin, nurseA, h.id);
		const list = await devices(h.id);
		expect(list).toHaveLength(30);
		const ventilated = await patientsOf(10, 'Thirty');
		const t0 = Date.now();
		const res = await Promise.all(
			list.map((v, i) =>
				i % 3 === 0
					? move(nurseA, v, { status: 'in_use', patientId: ventilated[i / 3]!.patientId, reason: 'Ventilated' })
					: i % 3 === 1
						? move(nurseA, v, { status: 'maintenance', location: 'Biomedical engineering', reason: 'Annual service' })
						: move(nurseA, v, { location: `ICU bay ${i}`, reason: 'Placed at the bedside' })
			)
		);
		console.log(`30 concurrent ventilator moves of different devices: ${Date.now() - t0} ms`);
		expect(res.map((r) => r.status)).toEqual(Array(30).fill(200));
		expect((await read(h.id)).resources.ventilators).toMatchObject({ total: 30, available: 10, occupied: 10, outOfService: 10, reserved: 0 });
		await expectCountsEqualDevices(h.id);
	});

	it('10 concurrent moves of the same device at the same version: exactly one wins, nine get 409 naming the winner', async () => {
		const h = await hospital('Vent Ten', 50, 2);
		await tieToHospital(admin, nurseA, h.id);
		const [v] = await devices(h.id);
		const [someone] = await patientsOf(1, 'Ten');
		const res = await Promise.all(
			Array.from({ length: 10 }, (_, i) => (i % 2 ? move(admin, v!, { status: 'in_use', patientId: someone!.patientId, reason: `Try ${i}` }) : move(nurseA, v!, { status: 'maintenance', reason: `Try ${i}` })))
		);
		const won = res.filter((r) => r.status === 200);
		const lost = res.filter((r) => r.status === 409);
		expect(won).toHaveLength(1);
		expect(lost).toHaveLength(9);
		expect(lost.every((r) => r.body.error.code === 'VERSION_CONFLICT' && r.body.error.details.updatedBy === won[0]!.body.ventilator.updatedBy)).toBe(true);
		const got = await admin.api.get(`/api/ventilators/${v!.id}`);
		expect(got.body.ventilator.version).toBe(2);
		expect(got.body.moves).toHaveLength(1);
		await expectCountsEqualDevices(h.id);
	});

	it('never below zero: while every available ventilator is reserved for an ambulance, no device can be put in use (409 saying why)', async () => {
		const h = await hospital('Vent Reserved', -70, 3);
		await tieToHospital(admin, nurseA, h.id);
		const at = { latitude: -70.05, longitude: 100 };
		const a = await medic.api.post('/api/ambulance-alerts', { condition: 'ARDS, needs ventilation', severity: 'critical', needs: { ventilators: 2 }, ...at, radiusKm: 20 });
		expect(a.status, JSON.stringify(a.body)).toBe(201);
		const alert = a.body.alert as AlertView;
		expect((await medic.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: h.id })).status).toBe(200);
		expect((await read(h.id)).resources.ventilators).toMatchObject({ available: 1, reserved: 2 });

		// three devices, one counted available: three concurrent assignments, exactly one lands
		const list = await devices(h.id);
		const [p0, p1, p2, arriving] = await patientsOf(4, 'Reserved');
		const res = await Promise.all(list.map((v, i) => move(nurseA, v, { status: 'in_use', patientId: [p0, p1, p2][i]!.patientId, reason: 'Ventilated on arrival' })));
		expect(res.map((r) => r.status).sort()).toEqual([200, 409, 409]);
		const refused = res.filter((r) => r.status === 409);
		expect(refused.every((r) => r.body.error.code === 'NO_VENTILATOR_AVAILABLE')).toBe(true);
		expect(refused[0]!.body.error.message).toMatch(/2 reserved/);
		expect((await read(h.id)).resources.ventilators).toMatchObject({ available: 0, reserved: 2, occupied: 1 });
		await expectCountsEqualDevices(h.id);
		// nothing half-written: the refused devices are untouched and have no log entry
		for (const v of list.filter((_, i) => res[i]!.status === 409)) {
			const got = await admin.api.get(`/api/ventilators/${v.id}`);
			expect(got.body.ventilator).toMatchObject({ status: 'available', version: 1 });
			expect(got.body.moves).toHaveLength(0);
		}

		// the ambulance arrives: the reservation is handed back, a nurse puts a named device on the patient
		expect((await medic.api.post(`/api/ambulance-alerts/${alert.id}/status`, { status: 'arrived' })).status).toBe(200);
		expect((await read(h.id)).resources.ventilators).toMatchObject({ available: 2, reserved: 0, occupied: 1 });
		const free = (await devices(h.id)).find((v) => v.status === 'available')!;
		expect((await move(nurseA, free, { status: 'in_use', patientId: arriving!.patientId, reason: 'Arrived by ambulance' })).status).toBe(200);
		await expectCountsEqualDevices(h.id);
	});

	it('bed status changes cannot touch the ventilator counters: ventilators change device by device', async () => {
		const r = await admin.api.post(`/api/hospitals/${home.id}/beds`, { version: (await read(home.id)).version, resource: 'ventilators', action: 'occupy' });
		expect(r.status).toBe(400);
		expect(r.body.error.details[0].field).toBe('resource');
		await expectCountsEqualDevices(home.id);
	});
});

describe('one patient, one ventilator', () => {
	it('a patient on one device cannot be put on another (409 PATIENT_ON_VENTILATOR naming it, nothing written); freed, they can', async () => {
		const h = await hospital('Vent One', 60, 3);
		await tieToHospital(admin, nurseA, h.id);
		const [p] = await patientsOf(1, 'Single');
		const [a, b] = await devices(h.id);
		expect((await move(nurseA, a!, { status: 'in_use', patientId: p!.patientId, reason: 'Intubated' })).status).toBe(200);
		const second = await move(nurseA, b!, { status: 'in_use', patientId: p!.patientId, reason: 'Second device' });
		expect(second.status).toBe(409);
		expect(second.body.error.code).toBe('PATIENT_ON_VENTILATOR');
		expect(second.body.error.message).toContain(a!.serial);
		expect(second.body.error.details).toMatchObject({ field: 'patientId', ventilatorId: a!.id, serial: a!.serial, hospitalId: h.id });
		// nothing half-written: the second device is untouched, no log entry, counters unchanged
		const untouched = await admin.api.get(`/api/ventilators/${b!.id}`);
		expect(untouched.body.ventilator).toMatchObject({ status: 'available', version: 1 });
		expect(untouched.body.moves).toHaveLength(0);
		expect((await read(h.id)).resources.ventilators).toMatchObject({ occupied: 1, available: 2 });
		// an administrator at another hospital is refused the same way: the guard is the patient's, not the site's
		const [elsewhere] = await devices(other.id);
		expect((await move(admin, elsewhere!, { status: 'in_use', patientId: p!.patientId, reason: 'Transferred?' })).body.error?.code).toBe('PATIENT_ON_VENTILATOR');
		// moving the device with its patient keeps the guard; freeing it gives the patient back
		const moved = await move(nurseA, { id: a!.id, version: 2 }, { location: 'ICU bed 9', reason: 'Bed move' });
		expect(moved.status).toBe(200);
		expect((await move(nurseA, b!, { status: 'in_use', patientId: p!.patientId, reason: 'Still on the first' })).status).toBe(409);
		expect((await move(nurseA, { id: a!.id, version: 3 }, { status: 'cleaning', reason: 'Extubated' })).status).toBe(200);
		const now = await move(nurseA, b!, { status: 'in_use', patientId: p!.patientId, reason: 'Re-intubated' });
		expect(now.status, JSON.stringify(now.body)).toBe(200);
		await expectCountsEqualDevices(h.id);
	});

	it('two devices assigned the same patient at the same moment: one 200, one 409 PATIENT_ON_VENTILATOR; 10 pairs at once, each once', async () => {
		const h = await hospital('Vent Race', 61, 20);
		await tieToHospital(admin, nurseA, h.id);
		const list = await devices(h.id);
		const ps = await patientsOf(10, 'Race');
		const t0 = Date.now();
		const res = await Promise.all(list.map((v, i) => move(i % 2 ? admin : nurseA, v, { status: 'in_use', patientId: ps[Math.floor(i / 2)]!.patientId, reason: 'Ventilated' })));
		console.log(`20 concurrent assignments, 2 per patient: ${res.filter((r) => r.status === 200).length} × 200, ${res.filter((r) => r.status === 409).length} × 409 in ${Date.now() - t0} ms`);
		for (let k = 0; k < 10; k++) {
			const pair = [res[2 * k]!, res[2 * k + 1]!];
			expect(pair.map((r) => r.status).sort(), JSON.stringify(pair.map((r) => r.body))).toEqual([200, 409]);
			const lost = pair.find((r) => r.status === 409)!;
			const won = pair.find((r) => r.status === 200)!;
			expect(lost.body.error.code).toBe('PATIENT_ON_VENTILATOR');
			expect(lost.body.error.details.ventilatorId).toBe(won.body.ventilator.id);
		}
		const after = await devices(h.id);
		const onPatients = after.filter((v) => v.status === 'in_use').map((v) => v.patient!.id);
		expect(onPatients.sort()).toEqual(ps.map((p) => p.patientId!).sort());
		expect((await read(h.id)).resources.ventilators).toMatchObject({ occupied: 10, available: 10 });
		await expectCountsEqualDevices(h.id);
	});
});

describe('who may move ventilators', () => {
	beforeAll(() => tieToHospital(admin, nurseA, home.id));
	it('a nurse of another hospital, a nurse tied to none, a doctor, the front desk and patients are refused (403, audited); readers read', async () => {
		const [v] = await devices(home.id);
		const other1 = await move(nurseB, v!, { location: 'Elsewhere' });
		expect(other1.status).toBe(403);
		expect(other1.body.error.message).toMatch(/own hospital/);
		expect((await nurseB.api.post(`/api/hospitals/${home.id}/beds`, { version: (await read(home.id)).version, resource: 'general_beds', action: 'occupy' })).status).toBe(403);
		const none = await move(untied, v!, { location: 'Elsewhere' });
		expect(none.status).toBe(403);
		expect(none.body.error.message).toMatch(/not tied to a hospital/);
		for (const u of [doctor, frontDesk, patient, medic]) expect((await move(u, v!, { location: 'Elsewhere' })).status).toBe(403);
		expect((await patient.api.get(`/api/hospitals/${home.id}/ventilators`)).status).toBe(403);
		expect((await patient.api.get(`/api/ventilators/${v!.id}`)).status).toBe(403);
		for (const u of [doctor, frontDesk, medic, nurseB]) expect((await u.api.get(`/api/hospitals/${home.id}/ventilators`)).status).toBe(200);
		const denied = await auditEntries(app, (e) => e.action === 'write_denied' && e.resource_type === 'hospital_resources' && e.user_id === nurseB.id);
		expect(denied.length).toBeGreaterThanOrEqual(2);
		const after = await admin.api.get(`/api/ventilators/${v!.id}`);
		expect(after.body.ventilator).toMatchObject({ version: v!.version, location: v!.location });
	});

	it('forged ids are 400 or 404, a made-up patient is 404, control characters and missing reasons are 400', async () => {
		const [v] = await devices(home.id);
		expect((await nurseA.api.post('/api/ventilators/..%2Fx/moves', { version: 1, reason: 'x y' })).status).toBe(400);
		expect((await nurseA.api.post(`/api/ventilators/v_${'a'.repeat(32)}/moves`, { version: 1, location: 'ICU', reason: 'Ward round' })).status).toBe(404);
		expect((await admin.api.get(`/api/ventilators/v_${'b'.repeat(32)}`)).status).toBe(404);
		expect((await admin.api.get('/api/hospitals/h_nope/ventilators')).status).toBe(404);
		const ghost = await move(nurseA, v!, { status: 'in_use', patientId: 'p_does_not_exist' });
		expect(ghost.status).toBe(404);
		expect((await move(nurseA, v!, { patientId: 'bad id!' })).status).toBe(400);
		const ctrl = await move(nurseA, v!, { location: 'ICU', reason: 'Moved\u0007 quietly' });
		expect(ctrl.status).toBe(400);
		expect(ctrl.body.error.details[0].field).toBe('reason');
		expect((await move(nurseA, v!, { location: 'ICU\u001b[31m' })).status).toBe(400);
		expect((await nurseA.api.post(`/api/ventilators/${v!.id}/moves`, { version: v!.version, location: 'ICU' })).status).toBe(400);
		expect((await move(nurseA, v!, { status: 'in_use' })).body.error.details[0].field).toBe('patientId');
		expect((await move(nurseA, v!, { status: 'cleaning', patientId: patient.patientId })).status).toBe(400);
		expect((await move(nurseA, v!, {})).status).toBe(400);
		expect((await admin.api.post(`/api/hospitals/${home.id}/ventilators`, { serial: 'A\u0000B', location: 'ICU' })).status).toBe(400);
		expect((await admin.api.post(`/api/hospitals/${home.id}/ventilators`, { serial: 'OK-1', location: 'ICU\u202e' })).status).toBe(400);
		const after = await admin.api.get(`/api/ventilators/${v!.id}`);
		expect(after.body.ventilator.version).toBe(v!.version);
		await expectCountsEqualDevices(home.id);
	});

	it('an administrator ties staff to a hospital that exists; the account shows it', async () => {
		const u = await app.userOf('nurse');
		const version = (await admin.api.get(`/api/admin/users/${u.id}`)).body.user.version;
		const bad = await admin.api.patch(`/api/admin/users/${u.id}`, { version, hospitalId: 'h_nope' });
		expect(bad.status).toBe(400);
		expect(bad.body.error.details[0].field).toBe('hospitalId');
		const ok = await admin.api.patch(`/api/admin/users/${u.id}`, { version, hospitalId: home.id });
		expect(ok.status, JSON.stringify(ok.body)).toBe(200);
		expect(ok.body.user.hospitalId).toBe(home.id);
		expect((await u.api.get('/api/me')).body.user.hospitalId).toBe(home.id);
		const [v] = await devices(home.id);
		expect((await move(u, v!, { location: 'ICU bay 9' })).status).toBe(200);
		const cleared = await admin.api.patch(`/api/admin/users/${u.id}`, { version: ok.body.user.version, hospitalId: null });
		expect(cleared.body.user.hospitalId).toBeUndefined();
		const [v2] = await devices(home.id);
		expect((await move(u, v2!, { location: 'ICU bay 10' })).status).toBe(403);
	});

	it('a patient account is never tied to a hospital: 400 naming hospitalId on create and on change, nothing written', async () => {
		const p = await app.userOf('patient', { name: 'Tina Tied' });
		const version = (await admin.api.get(`/api/admin/users/${p.id}`)).body.user.version;
		const r = await admin.api.patch(`/api/admin/users/${p.id}`, { version, hospitalId: home.id });
		expect(r.status).toBe(400);
		expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'hospitalId' })]);
		const after = (await admin.api.get(`/api/admin/users/${p.id}`)).body.user;
		expect(after.version).toBe(version);
		expect(after.hospitalId).toBeUndefined();
		const created = await admin.api.post('/api/admin/users', {
			name: 'Newly Tied',
			email: `tied.${Date.now()}@test.medtrack`,
			role: 'patient',
			password: 'Corr3ct-Horse!',
			phone: '+12025551111',
			dateOfBirth: '1980-04-12',
			bloodGroup: 'O+',
			hospitalId: home.id
		});
		expect(created.status).toBe(400);
		expect(created.body.error.details[0].field).toBe('hospitalId');
		// staff of any other role may be tied
		const desk = await app.userOf('front_desk');
		const ok = await admin.api.patch(`/api/admin/users/${desk.id}`, { version: (await admin.api.get(`/api/admin/users/${desk.id}`)).body.user.version, hospitalId: home.id });
		expect(ok.status).toBe(200);
	});
});

