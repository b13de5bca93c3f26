import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { launchChromium, signIn } from '../fixtures/browser';
import { addDays } from '../../src/lib/shared/time';

/**
 * The dispensary in several browsers at once: a prescription the doctor saves in a visit
 * appears in the pharmacist's open queue without a reload, with the patient's allergies; a
 * dispense that asks for more than is in stock says what is missing; the real dispense
 * shows as dispensed on the doctor's visit screen and in the patient's visit history, live.
 */
const SHOTS = 'test-results/pharmacy';

let app: TestApp;
let browser: Browser;
let today: string;
let doctor: TestUser;
let pharmacist: TestUser;
let patient: TestUser;
let appointmentId: string;
const pages: Page[] = [];

async function open(user: TestUser, home: string, viewport?: { width: number; height: number }) {
	const page = await signIn(browser, app, user, home, viewport);
	pages.push(page);
	return page;
}
const live = (page: Page) => page.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app, { name: 'Dr Olga Brandt' });
	const [nurse, desk] = await Promise.all([app.userOf('nurse', { name: 'Nora Field' }), app.userOf('front_desk')]);
	[pharmacist, patient] = await Promise.all([app.userOf('pharmacist', { name: 'Pia Pharm' }), app.userOf('patient', { name: 'Greta Lindqvist' })]);
	const slots = await freeSlots(desk, doctor.doctorId!, today);
	let a = (await desk.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[2]!.start, symptoms: 'cough and fever', patientId: patient.patientId })).body.appointment;
	a = (await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN' })).body.appointment;
	const chart = (await nurse.api.get(`/api/patients/${patient.patientId}`)).body.patient;
	await nurse.api.request('PUT', `/api/patients/${patient.patientId}/allergies`, { version: chart.version, allergies: [{ substance: 'Latex', reaction: 'hives', severity: 'moderate' }] });
	a = (await doctor.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CONSULTING' })).body.appointment;
	appointmentId = a.id;
	const m = (await pharmacist.api.post('/api/medicines', { name: 'Azithromycin', form: 'tablet', strength: '250 mg', threshold: 20 })).body.medicine;
	await pharmacist.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'AZ-2401', quantity: 18, expiresOn: addDays(today, 12) });
	await pharmacist.api.post(`/api/medicines/${m.id}/batches`, { batchNumber: 'AZ-2409', quantity: 40, expiresOn: addDays(today, 240) });
	const other = (await pharmacist.api.post('/api/medicines', { name: 'Salbutamol', form: 'inhaler', strength: '100 µg', threshold: 10 })).body.medicine;
	await pharmacist.api.post(`/api/medicines/${other.id}/batches`, { batchNumber: 'SAL-77', quantity: 4, expiresOn: addDays(today, 400) });
	browser = await launchChromium();
});

afterAll(async () => {
	for (const p of pages) await p.context().close();
	await browser?.close();
	await app?.close();
});

describe('a prescription from the visit to the dispensary and back', () => {
	it('appears in the pharmacist’s open queue without reload, is dispensed, and shows as dispensed to the doctor and the patient', async () => {
		const pharmacy = await open(pharmacist, '/pharmacy', { width: 1180, height: 900 });
		await live(pharmacy);
		await pharmacy.getByText('Nothing waiting').waitFor();
		const visit = await open(doctor, '/doctor', { width: 1280, height: 1000 });
		await visit.goto(`/doctor/visit/${appointmentId}`);
		const records = await open(patient, '/patient', { width: 820, height: 1000 });
		await records.goto('/patient/records');
		await live(visit);

		await visit.getByLabel('Diagnosis').fill('Acute bronchitis');
		await visit.getByRole('button', { name: 'Add prescription' }).click();
		await visit.getByLabel('Medicine').first().fill('Azithromycin 250 mg');
		await visit.getByLabel('Dosage').first().fill('1 tablet');
		await visit.getByLabel('Frequency').first().fill('once daily');
		await visit.getByLabel('Days').first().fill('3');
		await visit.getByRole('button', { name: 'Save', exact: true }).click();
		await visit.getByText(/^Saved at/).waitFor();
		const t0 = Date.now();

		const item = pharmacy.getByTestId('rx-item').filter({ hasText: 'Greta Lindqvist' });
		await item.waitFor({ timeout: 5_000 });
		console.log(`[pharmacy e2e] prescription in the open queue ${Date.now() - t0} ms after the doctor's save`);
		await item.getByText('Allergy: Latex (moderate)').waitFor();
		await item.getByText('Azithromycin 250 mg').waitFor();
		await pharmacy.screenshot({ path: `${SHOTS}/queue.png`, fullPage: true });

		// The stock lookup of the dialog fails once (the network): it says so, and does not claim the medicine is missing.
		await pharmacy.route((url) => url.pathname === '/api/medicines', (route) => route.abort('connectionrefused'), { times: 1 });
		await item.getByRole('button', { name: /Dispense Azithromycin 250 mg for Greta Lindqvist/ }).click();
		const dialog = pharmacy.getByTestId('dispense-dialog');
		await dialog.getByText(/The stock could not be looked up/).waitFor();
		expect(await dialog.getByText(/No medicine in stock matches/).count()).toBe(0);
		await pharmacy.keyboard.press('Escape');
		await dialog.waitFor({ state: 'hidden' });
		// Keyboard only: focus went back to the queue's button; Enter opens the dialog again.
		expect(await pharmacy.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/Dispense Azithromycin 250 mg for Greta Lindqvist/);
		await pharmacy.keyboard.press('Enter');
		await dialog.getByLabel('Medicine from stock').selectOption({ label: 'Azithromycin 250 mg (tablet) · 58 on hand' });
		await dialog.getByLabel('Quantity (units)').fill('100');
		await dialog.getByRole('button', { name: 'Dispense', exact: true }).click();
		await dialog.getByTestId('dispense-error').getByText('100 requested, 58 available, 42 missing').waitFor();
		await pharmacy.screenshot({ path: `${SHOTS}/dispense-short.png` });
		await dialog.getByLabel('Quantity (units)').fill('20');
		await dialog.getByRole('button', { name: 'Dispense', exact: true }).click();
		await pharmacy.getByTestId('pharmacy-done').getByText(/Dispensed 20 × Azithromycin for Greta Lindqvist \(batch AZ-2401, AZ-2409\)\. 38 left\./).waitFor();
		// The button that opened the dialog has left the queue: the keyboard lands on the confirmation, not on <body>.
		await expect.poll(() => pharmacy.evaluate(() => document.activeElement?.textContent ?? '')).toContain('Dispensed 20 × Azithromycin');
		await pharmacy.getByText('Nothing waiting').waitFor();
		// 38 left is above 20; the 12-day batch is gone: the alert panel shows the low Salbutamol only
		await pharmacy.getByTestId('pharmacy-alerts').getByText('Salbutamol: 4 on hand, below the threshold of 10.').waitFor();

		const t1 = Date.now();
		await visit.getByTestId('rx-status').getByText('Dispensed').waitFor({ timeout: 5_000 });
		console.log(`[pharmacy e2e] doctor's visit screen shows it dispensed ${Date.now() - t1} ms after`);
		await visit.getByTestId('rx-status').getByText(/by Pia Pharm/).waitFor();
		await records.getByTestId('rx-status').getByText('Dispensed').waitFor({ timeout: 5_000 });
		await visit.evaluate(() => window.scrollTo(0, 0));
		await visit.screenshot({ path: `${SHOTS}/doctor-dispensed.png`, fullPage: true });
		await records.screenshot({ path: `${SHOTS}/patient-dispensed.png`, fullPage: true });
		await pharmacy.screenshot({ path: `${SHOTS}/after-dispense.png`, fullPage: true });
	});

	it('the inventory report shows the period as a chart and a table, with a CSV link', async () => {
		const pharmacy = pages[0]!;
		await pharmacy.getByRole('link', { name: 'Inventory report' }).click();
		await pharmacy.waitForURL('**/pharmacy/report');
		const table = pharmacy.getByTestId('report-table');
		const row = table.getByRole('row', { name: /Azithromycin/ });
		await expect.poll(() => row.textContent()).toMatch(/58\s*20\s*0\s*38/);
		const chart = pharmacy.getByRole('img', { name: /units received/ });
		await chart.waitFor();
		const csv = pharmacy.getByRole('link', { name: 'Download CSV' });
		expect(await csv.getAttribute('href')).toMatch(/^\/api\/pharmacy\/report\.csv\?from=/);
		// A download, not a client-side navigation to a page that does not exist (which logged "Not found").
		const errors: string[] = [];
		pharmacy.on('pageerror', (e) => errors.push(e.message));
		const [download] = await Promise.all([pharmacy.waitForEvent('download'), csv.click()]);
		expect(download.suggestedFilename()).toMatch(/^inventory-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
		expect(errors).toEqual([]);
		expect(pharmacy.url()).toMatch(/\/pharmacy\/report$/);
		await pharmacy.screenshot({ path: `${SHOTS}/report.png`, fullPage: true });
		const tablet = await open(pharmacist, '/pharmacy', { width: 800, height: 1100 });
		await tablet.getByTestId('rx-queue').waitFor();
		await tablet.screenshot({ path: `${SHOTS}/tablet.png`, fullPage: true });
		// A delivery, received on the tablet: the batch appears and the low-stock flag goes.
		await tablet.getByRole('button', { name: 'Batches of Salbutamol 100 µg' }).click();
		const detail = tablet.getByTestId('medicine-detail');
		await detail.getByText('SAL-77').waitFor();
		// A refusal marks the field, puts the keyboard on it, and says so in plain words above the button.
		await detail.getByLabel('Units').fill('30');
		await detail.getByRole('button', { name: 'Receive batch' }).click();
		await detail.getByText('Please correct the marked fields.').waitFor();
		await expect.poll(() => tablet.evaluate(() => document.activeElement?.getAttribute('aria-invalid'))).toBe('true');
		expect(await detail.getByText(/Invalid body/).count()).toBe(0);
		await detail.getByLabel('Batch number').fill('SAL-78');
		await detail.getByLabel('Units').fill('30');
		await detail.getByRole('button', { name: 'Receive batch' }).click();
		await tablet.getByTestId('pharmacy-done').getByText('Batch SAL-78 received: 30 units of Salbutamol. 34 on hand.').waitFor();
		await detail.getByText('SAL-78').waitFor();
		await expect.poll(() => tablet.getByTestId('medicine-row').filter({ hasText: 'Salbutamol' }).textContent()).not.toContain('Low');
		await detail.scrollIntoViewIfNeeded();
		await tablet.screenshot({ path: `${SHOTS}/batches-tablet.png` });
	});
});
