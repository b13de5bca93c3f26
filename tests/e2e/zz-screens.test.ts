// TEMPORARY: screenshots of the appointment pages for a visual review (deleted afterwards).
import { afterAll, beforeAll, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let app: TestApp;
let browser: Browser;
let today: string;
let doctor: TestUser, doctor2: TestUser, nurse: TestUser, desk: TestUser, admin: TestUser;
const patients: TestUser[] = [];
let visitId = '';

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	doctor2 = await alwaysOpenDoctor(app);
	[nurse, desk, admin] = await Promise.all([app.userOf('nurse', { name: 'Nora Field' }), app.userOf('front_desk', { name: 'Dana Whitfield' }), app.userOf('admin')]);
	for (const name of ['Amelia Hart', 'Bruno Lang', 'Chen Wei', 'Dolores Ruiz', 'Emeka Obi', 'Farah Nasser']) patients.push(await app.userOf('patient', { name }));
	const slots = await freeSlots(patients[0]!, doctor.doctorId!, today);
	const prio = ['normal', 'critical', 'high', 'normal', 'normal', 'normal'];
	const appts: { id: string; version: number; medicalRecordId?: string }[] = [];
	for (const [i, p] of patients.entries()) {
		const r = await p.api.post('/api/appointments', { doctorId: i === 5 ? doctor2.doctorId : doctor.doctorId, start: slots[3 + i * 2]!.start, symptoms: ['Sore throat and fever since Monday', 'Chest pain when climbing stairs', 'Persistent dry cough for two weeks', 'Follow-up on blood pressure', 'Rash on the left forearm', 'Headaches in the morning'][i], priority: prio[i] });
		appts.push(r.body.appointment);
	}
	const set = async (u: TestUser, i: number, body: Record<string, unknown>) => {
		const r = await u.api.patch(`/api/appointments/${appts[i]!.id}`, { version: appts[i]!.version, ...body });
		if (r.status !== 200) throw new Error(JSON.stringify(r.body));
		appts[i] = r.body.appointment;
	};
	// 0: completed visit with a record; 1,2: checked in with vitals; 3: confirmed; 4: pending with reschedule request
	await set(nurse, 0, { status: 'CHECKED_IN' });
	let v = await nurse.api.post(`/api/appointments/${appts[0]!.id}/vitals`, { version: appts[0]!.version, temperatureC: 38.2, pulseBpm: 92, systolic: 124, diastolic: 81, spo2: 97, weightKg: 70.5 });
	appts[0] = v.body.appointment;
	await set(doctor, 0, { status: 'CONSULTING' });
	const rec = await doctor.api.get(`/api/medical-records/${appts[0]!.medicalRecordId}`);
	await doctor.api.patch(`/api/medical-records/${appts[0]!.medicalRecordId}`, { version: rec.body.record.version, diagnosis: 'Streptococcal pharyngitis', treatment: 'Antibiotics, rest and fluids', prescriptions: [{ medicine: 'Amoxicillin', dosage: '500 mg', frequency: 'three times a day', days: 10 }, { medicine: 'Paracetamol', dosage: '1 g', frequency: 'every 6 hours if needed', days: 5 }] });
	await set(doctor, 0, { status: 'COMPLETED' });
	// A second visit for Amelia, in consultation now (the visit screen with history).
	const s2 = (await freeSlots(patients[0]!, doctor.doctorId!, today))[20]!.start;
	const again = await patients[0]!.api.post('/api/appointments', { doctorId: doctor.doctorId, start: s2, symptoms: 'Throat still sore after antibiotics', priority: 'normal' });
	let a = again.body.appointment;
	a = (await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN' })).body.appointment;
	a = (await nurse.api.post(`/api/appointments/${a.id}/vitals`, { version: a.version, temperatureC: 37.4, pulseBpm: 80, systolic: 118, diastolic: 76, spo2: 98 })).body.appointment;
	a = (await doctor.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CONSULTING' })).body.appointment;
	visitId = a.id;
	await set(nurse, 1, { status: 'CHECKED_IN' });
	v = await nurse.api.post(`/api/appointments/${appts[1]!.id}/vitals`, { version: appts[1]!.version, pulseBpm: 110, systolic: 150, diastolic: 95, spo2: 94 });
	appts[1] = v.body.appointment;
	await set(nurse, 2, { status: 'CHECKED_IN' });
	await set(desk, 3, { status: 'CONFIRMED' });
	await set(patients[4]!, 4, { rescheduleRequest: { note: 'Any afternoon next week, please' } });
	browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
}, 180_000);

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

async function login(user: TestUser, width: number): Promise<Page> {
	const ctx = await browser.newContext({ baseURL: app.url, viewport: { width, height: width > 1000 ? 900 : 1024 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(10_000);
	await page.goto('/login');
	await page.getByLabel('E-mail').fill(user.email);
	await page.getByLabel('Password').fill(TEST_PASSWORD);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL((u) => !u.pathname.startsWith('/login'));
	return page;
}

async function shot(page: Page, path: string, name: string, width: number, prep?: (p: Page) => Promise<void>) {
	await page.goto(path);
	await page.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
	await page.waitForTimeout(700);
	if (prep) await prep(page);
	await page.evaluate(() => window.scrollTo(0, 0));
	await page.screenshot({ path: `screenshots/i3-${name}-${width}.png`, fullPage: true });
}

it('takes screenshots', async () => {
	for (const width of [1280, 768]) {
		const pt = await login(patients[0]!, width);
		await shot(pt, '/patient', 'patient-home', width);
		await shot(pt, '/patient/book', 'patient-book', width, async (p) => {
			await p.getByText(doctor.name).first().click();
			await p.getByTestId('slot-picker').locator('button').nth(3).click();
			await p.getByLabel('Symptoms').fill('Ear ache on the right side');
		});
		await shot(pt, '/patient/book', 'patient-book-taken', width, async (p) => {
			await p.getByText(doctor2.name).first().click();
			const btn = p.getByTestId('slot-picker').locator('button').nth(5);
			await btn.click();
			const chosen = (await btn.textContent())!.trim();
			const slot = (await freeSlots(patients[2]!, doctor2.doctorId!, today)).find((x) => x.start.slice(11, 16) === chosen)!;
			await patients[2]!.api.post('/api/appointments', { doctorId: doctor2.doctorId, start: slot.start, symptoms: 'racing for it', priority: 'normal' });
			await p.getByLabel('Symptoms').fill('Ear ache on the right side');
			await p.getByRole('button', { name: /^Book / }).click();
			await p.getByTestId('alternatives').waitFor();
		});
		await shot(pt, '/patient/appointments', 'patient-appointments', width);
		const pd = await login(patients[3]!, width);
		await shot(pd, '/patient/appointments', 'patient-reschedule-dialog', width, async (p) => {
			await p.getByRole('button', { name: 'Ask to reschedule' }).first().click();
			await p.waitForTimeout(500);
		});
		await shot(pt, '/patient/records', 'patient-records', width);
		const pb = await login(patients[1]!, width);
		await shot(pb, '/patient/appointments', 'patient-checked-in', width);
		const fd = await login(desk, width);
		await shot(fd, '/front-desk/board', 'front-desk-board', width);
		await shot(fd, '/front-desk/board', 'front-desk-book', width, async (p) => {
			await p.getByRole('button', { name: 'Book for a patient' }).click();
			await p.getByLabel('Patient name').fill('fa');
			await p.getByRole('button', { name: 'Search' }).click();
			await p.getByRole('button', { name: 'Choose Farah Nasser' }).click();
			await p.waitForTimeout(800);
		});
		await shot(fd, '/front-desk/board', 'front-desk-move', width, async (p) => {
			await p.getByRole('button', { name: 'Move Emeka Obi' }).click();
			await p.waitForTimeout(800);
		});
		await shot(fd, '/doctors', 'doctors', width);
		await shot(fd, `/doctors/${doctor2.doctorId}`, 'doctor-manage', width);
		const n = await login(nurse, width);
		await shot(n, '/nurse', 'nurse', width, async (p) => {
			await p.getByRole('button', { name: 'Record vitals for Chen Wei' }).click();
		});
		const d = await login(doctor, width);
		await shot(d, '/doctor/queue', 'doctor-queue', width);
		await shot(d, `/doctor/visit/${visitId}`, 'doctor-visit', width, async (p) => {
			await p.getByRole('button', { name: 'Add prescription' }).click();
			await p.getByLabel('Medicine').fill('Ibuprofen');
		});
		await shot(d, '/doctor/availability', 'doctor-availability', width);
		await shot(d, `/doctor/visit/${visitId}`, 'doctor-visit-stale', width, async (p) => {
			await p.getByLabel('Diagnosis').fill('Tonsillitis, my draft');
			const rid = (await doctor.api.get(`/api/appointments/${visitId}`)).body.appointment.medicalRecordId;
			const r = await doctor.api.get(`/api/medical-records/${rid}`);
			await doctor.api.patch(`/api/medical-records/${rid}`, { version: r.body.record.version, diagnosis: `Viral pharyngitis ${width}` });
			await p.getByTestId('stale-warning').waitFor();
			await p.getByRole('button', { name: 'Save', exact: true }).click();
			await p.getByTestId('stale-conflict').waitFor();
		});
		const ad = await login(admin, width);
		await shot(ad, '/admin', 'admin-home', width);
		for (const c of browser.contexts()) await c.close();
	}
}, 240_000);
