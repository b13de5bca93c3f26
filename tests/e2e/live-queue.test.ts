import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';

/**
 * The live clinic in several browsers at once: a nurse's tap on the tablet reaches the
 * doctor's queue and the patient's page within a second; two sessions of the treating doctor
 * on one visit record, where the stale one is warned before saving and keeps its text after
 * a refused save; and a queue page that lost its connection shows what changed meanwhile.
 */

const SAVED_FROM_DESKTOP = 'Acute bronchitis';
const TYPED_ON_TABLET = 'Viral pharyngitis, typed on the tablet';

let app: TestApp;
let browser: Browser;
let today: string;
let doctor: TestUser;
let nurse: TestUser;
let amelia: TestUser;
let bruno: TestUser;
let ameliaVisit: { id: string; version: number };
let brunoVisit: { id: string; version: number };

const contexts: BrowserContext[] = [];
let nursePage: Page;
let doctorPage: Page;
let doctorTablet: Page;
let patientPage: Page;

async function openAs(user: TestUser, viewport: { width: number; height: number }, home: string): Promise<Page> {
	const page = await signIn(browser, app, user, home, viewport);
	contexts.push(page.context());
	return page;
}

async function book(patient: TestUser, start: string, symptoms: string, reportedUrgency = 'normal') {
	const r = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start, symptoms, reportedUrgency });
	if (r.status !== 201) throw new Error(`booking: ${JSON.stringify(r.body)}`);
	return r.body.appointment as { id: string; version: number };
}

const live = (page: Page) => page.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	[nurse, amelia, bruno] = await Promise.all([
		app.userOf('nurse', { name: 'Nora Field' }),
		app.userOf('patient', { name: 'Amelia Hart' }),
		app.userOf('patient', { name: 'Bruno Lang' })
	]);
	const slots = await freeSlots(amelia, doctor.doctorId!, today);
	if (slots.length < 6) throw new Error('not enough free slots today');
	ameliaVisit = await book(amelia, slots[2]!.start, 'sore throat and fever since Monday');
	brunoVisit = await book(bruno, slots[4]!.start, 'persistent cough', 'high');

	browser = await launchChromium();
	[nursePage, doctorPage, patientPage] = await Promise.all([
		openAs(nurse, { width: 768, height: 1024 }, '/nurse'),
		openAs(doctor, { width: 1280, height: 900 }, '/doctor'),
		openAs(amelia, { width: 1280, height: 900 }, '/patient')
	]);
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('live queue across browsers', () => {
	it('a nurse’s check-in on the tablet appears on the doctor’s queue and the patient’s page within 1 s', async () => {
		await doctorPage.goto('/doctor/queue');
		await doctorPage.getByTestId('queue-empty').waitFor();
		await patientPage.goto('/patient/appointments');
		const ameliaCard = patientPage.locator(`[data-appointment="${ameliaVisit.id}"]`);
		await ameliaCard.getByText('Pending').waitFor();
		await nursePage.getByRole('heading', { name: 'Arrivals' }).waitFor();
		await Promise.all([live(doctorPage), live(patientPage), live(nursePage)]);

		const checkIn = nursePage.getByRole('button', { name: 'Check in Amelia Hart' });
		await checkIn.waitFor();
		const box = await checkIn.boundingBox();
		expect(box!.height).toBeGreaterThanOrEqual(44);

		await checkIn.click();
		const clickedAt = Date.now();
		await Promise.all([
			doctorPage.getByTestId('queue-item').filter({ hasText: 'Amelia Hart' }).waitFor({ timeout: 1000 }),
			ameliaCard.getByText('Checked in').waitFor({ timeout: 1000 })
		]);
		console.log(`check-in visible on the doctor's queue and the patient's page ${Date.now() - clickedAt} ms after the tap`);

		expect(await ameliaCard.getByTestId('queue-position').textContent()).toContain('number 1');
		expect(await doctorPage.getByTestId('queue-item').filter({ hasText: 'Amelia Hart' }).getByTestId('waiting-time').textContent()).toMatch(/Waiting \d+ s/);
		// The nurse records vitals on the same tablet.
		const form = nursePage.getByTestId('vitals-form');
		await form.getByLabel('Temperature').fill('38.4');
		await form.getByLabel('Pulse').fill('96');
		await form.getByLabel('SpO₂').fill('97');
		await form.getByRole('button', { name: 'Save vitals' }).click();
		await nursePage.getByTestId('nurse-notice').getByText('Vitals saved for Amelia Hart').waitFor();
		await doctorPage.getByTestId('queue-item').filter({ hasText: 'Amelia Hart' }).getByText('38.4 °C').waitFor({ timeout: 2000 });
	});

	it('two sessions of the treating doctor on one visit: the stale one is warned before saving, and a forced save shows the conflict and keeps the typed text', async () => {
		await doctorPage.getByRole('button', { name: 'Start consultation with Amelia Hart' }).click();
		await doctorPage.waitForURL(`**/doctor/visit/${ameliaVisit.id}`);
		const desktopDiagnosis = doctorPage.getByLabel('Diagnosis');
		await desktopDiagnosis.waitFor();

		doctorTablet = await openAs(doctor, { width: 768, height: 1024 }, '/doctor');
		await doctorTablet.goto(`/doctor/visit/${ameliaVisit.id}`);
		const tabletDiagnosis = doctorTablet.getByLabel('Diagnosis');
		await tabletDiagnosis.waitFor();
		await live(doctorTablet);
		await tabletDiagnosis.fill(TYPED_ON_TABLET);

		await desktopDiagnosis.fill(SAVED_FROM_DESKTOP);
		await doctorPage.getByRole('button', { name: 'Save', exact: true }).click();
		await doctorPage.getByTestId('form-notice').getByText('Saved').waitFor();

		const warning = doctorTablet.getByTestId('stale-warning');
		await warning.waitFor({ timeout: 2000 });
		const text = await warning.textContent();
		expect(text).toContain(`Changed by ${doctor.name}`);
		expect(text).toContain('Diagnosis');
		expect(await tabletDiagnosis.inputValue()).toBe(TYPED_ON_TABLET);

		await doctorTablet.getByRole('button', { name: 'Save', exact: true }).click();
		const conflict = doctorTablet.getByTestId('stale-conflict');
		await conflict.waitFor();
		expect(await conflict.textContent()).toContain(`changed by ${doctor.name}`);
		expect(await tabletDiagnosis.inputValue()).toBe(TYPED_ON_TABLET);

		const stored = await doctor.api.post('/api/medical-records', { appointmentId: ameliaVisit.id });
		expect(stored.body.record.diagnosis).toBe(SAVED_FROM_DESKTOP);
	});

	it('reloading keeps the tablet’s text beside the new version; the doctor saves it and completes the visit, and the patient sees it', async () => {
		await doctorTablet.getByTestId('stale-conflict').getByRole('button', { name: 'Reload' }).click();
		await expect.poll(() => doctorTablet.getByLabel('Diagnosis').inputValue()).toBe(SAVED_FROM_DESKTOP);
		expect(await doctorTablet.getByTestId('unsaved-diagnosis').textContent()).toContain(TYPED_ON_TABLET);
		await doctorTablet.getByRole('button', { name: 'Use my text' }).click();
		await doctorTablet.getByRole('button', { name: 'Add prescription' }).click();
		await doctorTablet.getByLabel('Medicine').fill('Paracetamol');
		await doctorTablet.getByLabel('Dosage').fill('500 mg');
		await doctorTablet.getByLabel('Frequency').fill('every 6 hours');
		await doctorTablet.getByLabel('Days').fill('5');
		await doctorTablet.getByRole('button', { name: 'Save and complete visit' }).click();
		await doctorTablet.getByTestId('complete-dialog').getByRole('button', { name: 'Save and complete' }).click();
		await doctorTablet.getByTestId('visit-completed').waitFor();

		const record = await doctor.api.post('/api/medical-records', { appointmentId: ameliaVisit.id });
		expect(record.body.record.diagnosis).toBe(TYPED_ON_TABLET);
		expect(record.body.record.prescriptions).toEqual([{ medicine: 'Paracetamol', dosage: '500 mg', frequency: 'every 6 hours', days: 5 }]);

		await patientPage.locator(`[data-appointment="${ameliaVisit.id}"]`).getByText('Completed').waitFor({ timeout: 2000 });
		await patientPage.getByTestId('invoices').getByText('Unpaid').waitFor({ timeout: 2000 });
	});

	it('after the queue page’s connection is cut and restored, it shows the check-in made meanwhile', async () => {
		await doctorPage.goto('/doctor/queue');
		await doctorPage.getByTestId('queue-empty').waitFor();
		await live(doctorPage);

		const context = doctorPage.context();
		await context.setOffline(true);
		await doctorPage.getByTestId('live-status').getByText('Reconnecting…').waitFor({ timeout: 5000 });

		// The nurse triages at check-in: the queue shows the priority she sets.
		const r = await nurse.api.patch(`/api/appointments/${brunoVisit.id}`, { version: brunoVisit.version, status: 'CHECKED_IN', priority: 'high' });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		await doctorPage.waitForTimeout(500);
		expect(await doctorPage.getByTestId('queue-item').count()).toBe(0);

		const back = Date.now();
		await context.setOffline(false);
		await doctorPage.getByTestId('queue-item').filter({ hasText: 'Bruno Lang' }).waitFor({ timeout: 15_000 });
		await live(doctorPage);
		console.log(`queue caught up ${Date.now() - back} ms after the network returned`);
		expect(await doctorPage.getByTestId('queue-item').filter({ hasText: 'Bruno Lang' }).getByText('High priority').count()).toBe(1);
	});
});
