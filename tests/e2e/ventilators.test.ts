import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';

/**
 * Two nurses of the same hospital on tablets: nurse A puts a ventilator on a patient and nurse
 * B's open screen shows it in use (and whose) without a reload; B occupies a bed and A's counts
 * follow. Screenshots of the nurse screen at 1024×768 and 768×1024.
 */
const SHOTS = 'test-results/ventilators';

let app: TestApp;
let browser: Browser;
let nurseA: TestUser;
let nurseB: TestUser;
let a: Page;
let b: Page;

beforeAll(async () => {
	app = await startTestApp({}, { pages: true });
	const admin = await app.userOf('admin', { name: 'Ada Admin' });
	const h = await admin.api.post('/api/hospitals', {
		name: 'St Brigid’s',
		latitude: 53.34,
		longitude: -6.26,
		departments: ['ICU', 'Emergency'],
		resources: { general_beds: { total: 24 }, icu_beds: { total: 6 }, ventilators: { total: 3 } }
	});
	const hospitalId = h.body.hospital.id as string;
	await admin.api.post(`/api/hospitals/${hospitalId}/ventilators`, { serial: 'HAM-C6-0042', location: 'ICU bay 2' });
	[nurseA, nurseB] = await Promise.all([
		app.userOf('nurse', { name: 'Aoife Nurse', hospitalId }),
		app.userOf('nurse', { name: 'Bea Nurse', hospitalId }),
		app.userOf('patient', { name: 'Petra Vent' })
	]);
	browser = await launchChromium();
	[a, b] = await Promise.all([
		signIn(browser, app, nurseA, '/nurse', { width: 1024, height: 768 }),
		signIn(browser, app, nurseB, '/nurse', { width: 768, height: 1024 })
	]);
	// through the nurse's navigation, as she would
	await Promise.all([a, b].map((p) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Beds and ventilators' }).click()));
	await Promise.all([a, b].map((p) => p.waitForURL('**/nurse/beds')));
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('ventilators live', () => {
	it('nurse A assigns a ventilator; nurse B’s open screen shows it in use without a reload', async () => {
		for (const p of [a, b]) {
			await p.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
			await p.getByTestId('ventilator-V-001').waitFor();
		}
		expect(await a.getByTestId('current-site').textContent()).toContain('St Brigid’s');
		await a.screenshot({ path: `${SHOTS}/nurse-1024x768.png`, fullPage: true });
		await b.screenshot({ path: `${SHOTS}/nurse-768x1024.png`, fullPage: true });

		// Keyboard only, as at a bedside tablet with a keyboard: Enter opens the dialog with focus in
		// the patient search, ↓ Enter picks, focus moves on to Reason, Enter in a field saves.
		await a.getByRole('button', { name: 'Assign V-001 to a patient' }).focus();
		await a.keyboard.press('Enter');
		const dialog = a.getByTestId('ventilator-dialog');
		const search = dialog.getByRole('combobox', { name: 'Patient name' });
		await expect.poll(() => search.evaluate((el) => el === document.activeElement)).toBe(true);
		await a.keyboard.type('Petra');
		await dialog.getByRole('option', { name: /Petra Vent/ }).waitFor();
		await a.keyboard.press('ArrowDown');
		await a.keyboard.press('Enter');
		await dialog.getByTestId('chosen-patient').getByText('Petra Vent').waitFor();
		await expect.poll(() => a.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('reason');
		await a.keyboard.type('Intubated for respiratory failure');
		await dialog.getByLabel('Location (ward, room or bed)').fill('ICU bed 6');
		await a.screenshot({ path: `${SHOTS}/assign-dialog-1024x768.png` });
		const t0 = Date.now();
		await a.keyboard.press('Enter');
		const row = b.locator('[data-testid="ventilator-V-001"][data-status="in_use"]');
		await row.waitFor({ timeout: 3_000 });
		const ms = Date.now() - t0;
		console.log(`assign on A → in use on B's screen: ${ms} ms`);
		expect(await row.textContent()).toContain('ICU bed 6');
		await row.getByTestId('patient').getByText('Petra Vent').waitFor({ timeout: 3_000 });
		await b.getByTestId('ventilator-counts').getByText('1 in use', { exact: false }).waitFor({ timeout: 3_000 });
		await b.screenshot({ path: `${SHOTS}/nurse-b-sees-in-use-768x1024.png`, fullPage: true });

		// and back: B occupies an ICU bed, A's count follows
		const before = Number(await a.getByTestId('beds-icu_beds').getByTestId('available').textContent());
		const t1 = Date.now();
		await b.getByRole('button', { name: 'Occupy a bed: ICU beds' }).click();
		await a.getByTestId('beds-icu_beds').getByTestId('available').getByText(String(before - 1), { exact: true }).waitFor({ timeout: 3_000 });
		console.log(`occupy on B → count on A's screen: ${Date.now() - t1} ms`);
		await a.screenshot({ path: `${SHOTS}/nurse-a-after-1024x768.png`, fullPage: true });
	});
});
