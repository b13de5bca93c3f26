import { socketPool, connected, subscribe, until, north } from '../fixtures/sockets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tieToHospital, type TestApp, type TestUser, createHospital } from '../fixtures/app';
import { auditEntries, getItem, sleep } from './helpers';
import type { AlertCandidatesEvent, AlertView, HospitalView } from '../../src/lib/shared/hospitals';

/**
 * Hospital staff answer ambulance alerts (accept / decline, once per hospital, staff of that
 * hospital only: doctors, nurses and front desk of the hospital their account is tied to,
 * administrators of any; live to the paramedic) and late capacity: a hospital whose counts change while an alert is open
 * joins it, or is marked unable, on the paramedic's socket, against DynamoDB Local.
 */

let app: TestApp;
let admin: TestUser;
let nurse: TestUser;
let doctor: TestUser;
let desk: TestUser;
let medic: TestUser;
let patient: TestUser;
let pharmacist: TestUser;
const { socketOf, closeAll } = socketPool(() => app);

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC' });
	[admin, nurse, doctor, desk, medic, patient, pharmacist] = await Promise.all([
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('nurse', { name: 'Nia Nurse', department: 'Emergency' }),
		app.userOf('doctor', { name: 'Dov Doctor' }),
		app.userOf('front_desk', { name: 'Fay Desk' }),
		app.userOf('paramedic', { name: 'Pat Medic' }),
		app.userOf('patient'),
		app.userOf('pharmacist')
	]);
});
afterEach(() => {
	closeAll();
});
afterAll(async () => app?.close());


async function hospital(name: string, latitude: number, longitude: number, totals = { general_beds: 10, icu_beds: 2, ventilators: 2 }): Promise<HospitalView> {
	return createHospital(admin, { name, latitude, longitude, departments: ['Emergency'], totals });
}
const sendAlert = async (at: { latitude: number; longitude: number }, extra: Record<string, unknown> = {}) => {
	const r = await medic.api.post('/api/ambulance-alerts', { condition: 'Fall from height, open fracture', severity: 'high', needs: { icu_beds: 1 }, ...at, ...extra });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body as { alert: AlertView; candidates: { hospitalId: string; canTake: boolean }[] };
};
const respond = (u: TestUser, alertId: string, hospitalId: string, response: 'accept' | 'decline', reason?: string) =>
	u.api.post(`/api/ambulance-alerts/${alertId}/responses`, { hospitalId, response, ...(reason ? { reason } : {}) });

describe('hospital staff answer ambulance alerts', () => {
	it('doctors, nurses, front desk and admins answer; paramedics, patients and pharmacists are 403 and nothing is written', async () => {
		const base = { latitude: 12, longitude: 70 };
		const hs = await Promise.all([0, 1, 2, 3].map((i) => hospital(`Answer ${i}`, north(base.latitude, 2 + i), base.longitude)));
		const { alert } = await sendAlert(base);
		expect(alert.hospitalIds.sort()).toEqual(hs.map((h) => h.id).sort());
		for (const u of [medic, patient, pharmacist]) {
			const r = await respond(u, alert.id, hs[0]!.id, 'accept');
			expect(r.status, `${u.role}: ${JSON.stringify(r.body)}`).toBe(403);
			expect(r.body.error.code).toBe('FORBIDDEN');
		}
		// the same 403 for an alert that does not exist: nothing to probe
		expect((await respond(patient, 'amb_nope', hs[0]!.id, 'accept')).status).toBe(403);
		expect(((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.responses as object)).toEqual({});

		await Promise.all([tieToHospital(admin, nurse, hs[0]!.id), tieToHospital(admin, doctor, hs[1]!.id), tieToHospital(admin, desk, hs[2]!.id)]);
		const answers = await Promise.all([
			respond(nurse, alert.id, hs[0]!.id, 'accept'),
			respond(doctor, alert.id, hs[1]!.id, 'decline', 'No cath lab tonight'),
			respond(desk, alert.id, hs[2]!.id, 'accept'),
			respond(admin, alert.id, hs[3]!.id, 'accept')
		]);
		expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(stored.responses[hs[0]!.id]).toMatchObject({ response: 'accept', by: 'Nia Nurse' });
		expect(stored.responses[hs[1]!.id]).toMatchObject({ response: 'decline', by: 'Dov Doctor', reason: 'No cath lab tonight' });
		expect(stored.responses[hs[2]!.id]).toMatchObject({ response: 'accept', by: 'Fay Desk' });
		const audits = await auditEntries(app, (e) => e.resource_id === alert.id && e.action.startsWith('alert_'));
		expect(audits.map((e) => e.action).sort()).toEqual(['alert_accept', 'alert_accept', 'alert_accept', 'alert_decline']);
		const denied = await auditEntries(app, (e) => e.resource_id === alert.id && e.outcome === 'denied');
		expect(denied.length).toBeGreaterThanOrEqual(3);
	});

	it('a decline needs a short reason and an accept carries none (400 naming the field); a hospital the alert did not go to is 404', async () => {
		const h = await hospital('Reason Hospital', -12, 70);
		const far = await hospital('Reason Far', -12, 75); // ~540 km away
		const { alert } = await sendAlert({ latitude: -12.01, longitude: 70 });
		await tieToHospital(admin, nurse, h.id);
		const noReason = await respond(nurse, alert.id, h.id, 'decline');
		expect(noReason.status).toBe(400);
		expect(noReason.body.error.details.map((d: { field: string }) => d.field)).toEqual(['reason']);
		const ctl = await respond(nurse, alert.id, h.id, 'decline', 'full\u0007');
		expect(ctl.status).toBe(400);
		const acceptWithReason = await nurse.api.post(`/api/ambulance-alerts/${alert.id}/responses`, { hospitalId: h.id, response: 'accept', reason: 'because' });
		expect(acceptWithReason.status).toBe(400);
		// an administrator is staff of every hospital, so only the alert decides: it did not go there
		expect((await respond(admin, alert.id, far.id, 'accept')).status).toBe(404);
	});

	it('twice by the same hospital: the first answer stands, the second is 409 ALREADY_ANSWERED naming it, one write', async () => {
		const h = await hospital('Twice Hospital', 22, -70);
		const { alert } = await sendAlert({ latitude: 22.01, longitude: -70 });
		await Promise.all([tieToHospital(admin, nurse, h.id), tieToHospital(admin, doctor, h.id)]);
		const [a, b] = await Promise.all([respond(nurse, alert.id, h.id, 'accept'), respond(doctor, alert.id, h.id, 'decline', 'Short of staff')]);
		const statuses = [a.status, b.status].sort();
		expect(statuses).toEqual([200, 409]);
		const lost = a.status === 409 ? a : b;
		expect(lost.body.error.code).toBe('ALREADY_ANSWERED');
		const won = a.status === 200 ? 'accept' : 'decline';
		expect(lost.body.error.details).toMatchObject({ hospitalId: h.id, response: won });
		const again = await respond(nurse, alert.id, h.id, won, won === 'decline' ? 'Short of staff' : undefined);
		expect(again.status).toBe(409);
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(stored.version).toBe(2);
		expect(stored.responses[h.id].response).toBe(won);
		expect((await auditEntries(app, (e) => e.resource_id === alert.id && e.action.startsWith('alert_'))).length).toBe(1);
	});

	it('20 hospitals answer one alert at once: all 20 recorded, version 21, 20 audit entries, the paramedic hears every one', async () => {
		const base = { latitude: 45, longitude: 120 };
		const hs: HospitalView[] = [];
		for (let i = 0; i < 20; i++) hs.push(await hospital(`Twenty ${i}`, north(base.latitude, 1 + i), base.longitude));
		// one staff member of each hospital, nurses and doctors in turn
		const staff = await Promise.all(hs.map((h, i) => app.userOf(i % 2 ? 'nurse' : 'doctor', { name: `Twenty Staff ${i}`, hospitalId: h.id })));
		const ps = socketOf(medic);
		const heard: AlertView[] = [];
		ps.on('ambulance:updated', (e) => heard.push(e));
		await connected(ps);
		const { alert } = await sendAlert(base);
		expect(alert.hospitalIds.length).toBe(20);
		const t0 = Date.now();
		const rs = await Promise.all(hs.map((h, i) => respond(staff[i]!, alert.id, h.id, i % 3 ? 'accept' : 'decline', i % 3 ? undefined : `Reason ${i}`)));
		const ms = Date.now() - t0;
		console.log(`20 concurrent answers to one alert: ${rs.filter((r) => r.status === 200).length} × 200 in ${ms} ms`);
		expect(rs.map((r) => r.status)).toEqual(Array(20).fill(200));
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(Object.keys(stored.responses).sort()).toEqual(hs.map((h) => h.id).sort());
		expect(stored.version).toBe(21);
		expect((await auditEntries(app, (e) => e.resource_id === alert.id && e.action.startsWith('alert_'))).length).toBe(20);
		expect(await until(() => heard.some((e) => e.id === alert.id && Object.keys(e.responses).length === 20))).toBe(true);
	});

	it('hospital-alerts:<id> is for its staff only; the alert goes there, not to the capacity room paramedics can join', async () => {
		const h = await hospital('Room Alerts', 33, -100);
		await Promise.all([nurse, doctor, desk].map((u) => tieToHospital(admin, u, h.id)));
		for (const u of [nurse, doctor, desk, admin]) {
			const s = socketOf(u);
			await connected(s);
			expect(await subscribe(s, `hospital-alerts:${h.id}`), u.role).toEqual({ ok: true });
		}
		for (const u of [medic, patient, pharmacist]) {
			const s = socketOf(u);
			await connected(s);
			expect((await subscribe(s, `hospital-alerts:${h.id}`)).ok, u.role).toBe(false);
		}
		const s = socketOf(nurse);
		await connected(s);
		expect((await subscribe(s, 'hospital-alerts:h_does-not-exist')).ok).toBe(false);
		// a second paramedic in the capacity room hears the counts, never another paramedic's patient
		const other = await app.userOf('paramedic', { name: 'Other Medic' });
		const os = socketOf(other);
		const overheard: AlertView[] = [];
		os.on('ambulance:updated', (e) => overheard.push(e));
		await connected(os);
		expect(await subscribe(os, `hospital:${h.id}`)).toEqual({ ok: true });
		await sendAlert({ latitude: 33.01, longitude: -100 });
		await sleep(300);
		expect(overheard).toEqual([]);
		const listed = await desk.api.get(`/api/ambulance-alerts?hospitalId=${h.id}`);
		expect(listed.status).toBe(200);
		expect(listed.body.alerts.length).toBe(1);
	});
});

describe('staff of a hospital: the account’s hospital decides', () => {
	it('a doctor, nurse and front desk of hospital A answering for B: 403 saying so, nothing written, each denial audited; for A they answer', async () => {
		const base = { latitude: -40, longitude: 150 };
		const [a, b] = await Promise.all([hospital('Tied A', north(base.latitude, 2), base.longitude), hospital('Tied B', north(base.latitude, 3), base.longitude)]);
		const ofA = await Promise.all((['doctor', 'nurse', 'front_desk'] as const).map((r) => app.userOf(r, { name: `A ${r}`, hospitalId: a.id })));
		const { alert } = await sendAlert(base);
		expect(alert.hospitalIds.sort()).toEqual([a.id, b.id].sort());
		for (const u of ofA) {
			const r = await respond(u, alert.id, b.id, 'accept');
			expect(r.status, `${u.role}: ${JSON.stringify(r.body)}`).toBe(403);
			expect(r.body.error.code).toBe('FORBIDDEN');
			expect(r.body.error.message).toMatch(/another hospital/);
			// listing B's alerts is refused the same way
			expect((await u.api.get(`/api/ambulance-alerts?hospitalId=${b.id}`)).status).toBe(403);
		}
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(stored.responses).toEqual({});
		expect(stored.version).toBe(1);
		expect(await auditEntries(app, (e) => e.resource_id === alert.id && e.action.startsWith('alert_'))).toEqual([]);
		const denied = await auditEntries(app, (e) => e.resource_id === alert.id && e.outcome === 'denied');
		expect(new Set(denied.map((e) => e.user_id))).toEqual(new Set(ofA.map((u) => u.id)));
		// their own hospital they answer, and its list shows the alert
		const mine = await respond(ofA[0]!, alert.id, a.id, 'decline', 'Theatre closed');
		expect(mine.status, JSON.stringify(mine.body)).toBe(200);
		expect((await ofA[2]!.api.get(`/api/ambulance-alerts?hospitalId=${a.id}`)).body.alerts.map((x: AlertView) => x.id)).toContain(alert.id);
		// without naming a hospital, staff of A list what went to A
		expect((await ofA[1]!.api.get('/api/ambulance-alerts')).body.alerts.map((x: AlertView) => x.id)).toContain(alert.id);
	});

	it('joining hospital-alerts:<B> is refused to staff of A, allowed for A; an administrator joins both and answers for any hospital', async () => {
		const base = { latitude: -41, longitude: 151 };
		const [a, b] = await Promise.all([hospital('Rooms A', north(base.latitude, 2), base.longitude), hospital('Rooms B', north(base.latitude, 3), base.longitude)]);
		const ofA = await Promise.all((['doctor', 'nurse', 'front_desk'] as const).map((r) => app.userOf(r, { hospitalId: a.id })));
		const heardB: AlertView[] = [];
		for (const u of ofA) {
			const s = socketOf(u);
			s.on('ambulance:updated', (e) => heardB.push(e));
			await connected(s);
			const refused = await subscribe(s, `hospital-alerts:${b.id}`);
			expect(refused.ok, u.role).toBe(false);
			expect(await subscribe(s, `hospital-alerts:${a.id}`), u.role).toEqual({ ok: true });
		}
		const as = socketOf(admin);
		await connected(as);
		expect(await subscribe(as, `hospital-alerts:${a.id}`)).toEqual({ ok: true });
		expect(await subscribe(as, `hospital-alerts:${b.id}`)).toEqual({ ok: true });
		const joinDenials = await auditEntries(app, (e) => e.resource_id === b.id && e.outcome === 'denied' && ofA.some((u) => u.id === e.user_id));
		expect(joinDenials.length).toBe(3);

		const { alert } = await sendAlert(base);
		const byAdmin = await Promise.all([respond(admin, alert.id, a.id, 'accept'), respond(admin, alert.id, b.id, 'decline', 'No ICU bed after all')]);
		expect(byAdmin.map((r) => r.status)).toEqual([200, 200]);
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(Object.keys(stored.responses).sort()).toEqual([a.id, b.id].sort());
	});

	it('a staff member tied to no hospital is staff of none: answering, listing and joining are refused, telling them an administrator sets it', async () => {
		const base = { latitude: -42, longitude: 152 };
		const h = await hospital('Untied Target', north(base.latitude, 2), base.longitude);
		const untied = await Promise.all((['doctor', 'nurse', 'front_desk'] as const).map((r) => app.userOf(r, { name: `Untied ${r}` })));
		const { alert } = await sendAlert(base);
		for (const u of untied) {
			const r = await respond(u, alert.id, h.id, 'accept');
			expect(r.status, u.role).toBe(403);
			expect(r.body.error.message).toMatch(/not tied to a hospital.*administrator.*Users/);
			expect((await u.api.get(`/api/ambulance-alerts?hospitalId=${h.id}`)).status).toBe(403);
			const all = await u.api.get('/api/ambulance-alerts');
			expect(all.status).toBe(200);
			expect(all.body.alerts).toEqual([]);
			expect((await u.api.get(`/api/ambulance-alerts/${alert.id}`)).status).toBe(403);
			const s = socketOf(u);
			await connected(s);
			expect((await subscribe(s, `hospital-alerts:${h.id}`)).ok).toBe(false);
		}
		expect((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.responses).toEqual({});
		const denied = await auditEntries(app, (e) => e.resource_id === alert.id && e.outcome === 'denied');
		expect(new Set(denied.map((e) => e.user_id))).toEqual(new Set(untied.map((u) => u.id)));
		// once an administrator ties one, it works at once (no new login)
		await tieToHospital(admin, untied[1]!, h.id);
		expect((await respond(untied[1]!, alert.id, h.id, 'accept')).status).toBe(200);
	});
});

describe('late capacity', () => {
	it('a bed freed at a hospital that had none: the paramedic gets the refreshed candidates within 1 s and its staff see the alert; a hospital outside the radius never appears', async () => {
		const at = { latitude: -33, longitude: 18 };
		const near = await hospital('Late Near', north(at.latitude, 8), at.longitude, { general_beds: 5, icu_beds: 1, ventilators: 1 });
		const outside = await hospital('Late Outside', north(at.latitude, 60), at.longitude, { general_beds: 5, icu_beds: 1, ventilators: 1 });
		// a nurse of each hospital changes its beds; the doctor watching works at the near one
		const [nurseNear, nurseOutside] = await Promise.all([app.userOf('nurse', { name: 'Near Nurse', hospitalId: near.id }), app.userOf('nurse', { name: 'Outside Nurse', hospitalId: outside.id })]);
		await tieToHospital(admin, doctor, near.id);
		const nurseOf = (h: HospitalView) => (h.id === near.id ? nurseNear : nurseOutside);
		const fill = async (h: HospitalView) => (await nurseOf(h).api.post(`/api/hospitals/${h.id}/beds`, { version: h.version, resource: 'icu_beds', action: 'occupy', count: 1 })).body.hospital as HospitalView;
		const nearFull = await fill(near);
		const outsideFull = await fill(outside);

		const ps = socketOf(medic);
		const refreshed: AlertCandidatesEvent[] = [];
		ps.on('ambulance:candidates', (e) => refreshed.push(e));
		await connected(ps);
		const staff = socketOf(doctor);
		const staffSaw: AlertView[] = [];
		staff.on('ambulance:updated', (e) => staffSaw.push(e));
		await connected(staff);
		expect(await subscribe(staff, `hospital-alerts:${near.id}`)).toEqual({ ok: true });

		const { alert, candidates } = await sendAlert(at, { radiusKm: 30 });
		expect(candidates).toEqual([]);
		expect(alert.hospitalIds).toEqual([]);

		const t0 = Date.now();
		const freed = await nurseNear.api.post(`/api/hospitals/${near.id}/beds`, { version: nearFull.version, resource: 'icu_beds', action: 'free', count: 1 });
		expect(freed.status).toBe(200);
		expect(await until(() => refreshed.some((e) => e.alertId === alert.id), 1000)).toBe(true);
		const ms = Date.now() - t0;
		console.log(`bed freed → paramedic's refreshed candidates: ${ms} ms`);
		expect(ms).toBeLessThan(1000);
		const first = refreshed.find((e) => e.alertId === alert.id)!;
		expect(first.candidates.map((c) => [c.hospitalId, c.canTake])).toEqual([[near.id, true]]);
		expect(await until(() => staffSaw.some((e) => e.id === alert.id && e.hospitalIds.includes(near.id)), 1000)).toBe(true);
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(stored.hospital_ids).toEqual([near.id]);
		expect(stored.version).toBe(2);
		expect((await auditEntries(app, (e) => e.resource_id === alert.id && e.action === 'alert_candidate_added')).length).toBe(1);

		// outside the radius: freeing a bed there never reaches this alert
		const before = refreshed.length;
		await nurseOutside.api.post(`/api/hospitals/${outside.id}/beds`, { version: outsideFull.version, resource: 'icu_beds', action: 'free', count: 1 });
		await sleep(400);
		expect(refreshed.slice(before).filter((e) => e.alertId === alert.id)).toEqual([]);
		expect((await getItem(app, 'ambulance_alerts', { id: alert.id }))!.hospital_ids).toEqual([near.id]);

		// the candidate loses its bed again: marked unable, live, and still listed
		const now = (await admin.api.get(`/api/hospitals/${near.id}`)).body.hospital as HospitalView;
		const n0 = refreshed.length;
		expect((await nurseNear.api.post(`/api/hospitals/${near.id}/beds`, { version: now.version, resource: 'icu_beds', action: 'occupy', count: 1 })).status).toBe(200);
		expect(await until(() => refreshed.length > n0, 1000)).toBe(true);
		expect(refreshed.at(-1)!.candidates.map((c) => [c.hospitalId, c.canTake])).toEqual([[near.id, false]]);
		const read = await medic.api.get(`/api/ambulance-alerts/${alert.id}`);
		expect(read.body.candidates.map((c: { hospitalId: string; canTake: boolean }) => [c.hospitalId, c.canTake])).toEqual([[near.id, false]]);
		// choosing it now is RESOURCES_GONE with no other hospital to offer
		const pick = await medic.api.post(`/api/ambulance-alerts/${alert.id}/selection`, { hospitalId: near.id });
		expect(pick.status).toBe(409);
		expect(pick.body.error.code).toBe('RESOURCES_GONE');
		expect(pick.body.error.details.candidates).toEqual([]);
	});

	it('pandemic mode off frees held-back ICU beds for a high-severity case: the hospital joins the open alert', async () => {
		const at = { latitude: 64, longitude: -20 };
		const h = await hospital('Late Pandemic', north(at.latitude, 5), at.longitude, { general_beds: 5, icu_beds: 2, ventilators: 2 });
		const on = await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: h.version, enabled: true, heldBackShare: 0.9 });
		expect(on.body.hospital.resources.icu_beds.heldBack).toBe(2);
		const ps = socketOf(medic);
		const refreshed: AlertCandidatesEvent[] = [];
		ps.on('ambulance:candidates', (e) => refreshed.push(e));
		await connected(ps);
		const { alert, candidates } = await sendAlert(at, { radiusKm: 20 });
		expect(candidates).toEqual([]);
		await admin.api.patch(`/api/hospitals/${h.id}/pandemic`, { version: on.body.hospital.version, enabled: false, heldBackShare: 0 });
		expect(await until(() => refreshed.some((e) => e.alertId === alert.id && e.candidates.some((c) => c.hospitalId === h.id && c.canTake)), 1000)).toBe(true);
	});

	it('a closed alert is left alone: no candidate is added after cancellation', async () => {
		const at = { latitude: -50, longitude: -70 };
		const h = await hospital('Late Closed', north(at.latitude, 3), at.longitude, { general_beds: 5, icu_beds: 1, ventilators: 1 });
		await tieToHospital(admin, nurse, h.id);
		const full = (await nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: h.version, resource: 'icu_beds', action: 'occupy', count: 1 })).body.hospital as HospitalView;
		const { alert } = await sendAlert(at, { radiusKm: 10 });
		expect((await medic.api.post(`/api/ambulance-alerts/${alert.id}/status`, { status: 'cancelled' })).status).toBe(200);
		expect((await nurse.api.post(`/api/hospitals/${h.id}/beds`, { version: full.version, resource: 'icu_beds', action: 'free', count: 1 })).status).toBe(200);
		const stored = (await getItem(app, 'ambulance_alerts', { id: alert.id }))!;
		expect(stored.hospital_ids).toEqual([]);
		expect(stored.status).toBe('cancelled');
	});
});
