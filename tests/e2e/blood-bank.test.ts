import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { seedBloodBank } from '../../scripts/demo-blood-bank';

/**
 * The live critical-stock alert in two browsers: one administrator watches the admin home
 * while another issues blood on the blood bank page (a tablet); the crossing shows on the
 * watcher's board within a second, without a reload, and clears when a unit comes in.
 */
const SHOTS = 'test-results/blood-bank';

let app: TestApp;
let browser: Browser;
let watcher: TestUser;
let issuer: TestUser;
let patient: TestUser;
let dashboard: Page;
let bank: Page;

/** Milliseconds until `selector` reaches `state` on `page`, timed in the test process. */
async function timeUntil(page: Page, selector: string, state: 'visible' | 'detached', from: number): Promise<number> {
	await page.locator(selector).first().waitFor({ state, timeout: 5_000 });
	return Date.now() - from;
}

beforeAll(async () => {
	app = await startTestApp({}, { pages: true });
	[watcher, issuer, patient] = await Promise.all([
		app.userOf('admin', { name: 'Wanda Watch' }),
		app.userOf('admin', { name: 'Ivan Issue' }),
		app.userOf('patient', { name: 'Petra Donor' })
	]);
	// The demo stock: every group stocked, O- red cells already critical; A+ red cells 15 against a threshold of 8.
	await seedBloodBank(app.ctx, { actor: { id: issuer.id, email: issuer.email, name: issuer.name, role: 'admin' }, requestId: 'e2e-seed', ip: '127.0.0.1' });
	browser = await launchChromium();
	[dashboard, bank] = await Promise.all([
		signIn(browser, app, watcher, '/admin', { width: 1280, height: 900 }),
		signIn(browser, app, issuer, '/admin', { width: 768, height: 1024 })
	]);
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('live critical-stock alert', () => {
	it('the admin home shows the board with the one critical group, as a chart and a table', async () => {
		await dashboard.getByTestId('blood-stock-board').waitFor();
		await dashboard.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		await dashboard.locator('[data-critical-stock="O-:red_cells"]').waitFor();
		expect(await dashboard.locator('[data-critical-stock]').count()).toBe(1);
		await dashboard.getByText('Critical blood stock: 1 below threshold').waitFor();
		// Admins open the pharmacy too: it is in their navigation, under its own name.
		await dashboard.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pharmacy' }).waitFor();
		expect(await dashboard.locator('svg[role="img"]').count()).toBe(4);
		await dashboard.getByText('Show the stock as a table').click();
		await expect(dashboard.getByRole('table', { name: /Available units and threshold/ }).isVisible()).resolves.toBe(true);
		await dashboard.getByText('Show the stock as a table').click();
		await dashboard.screenshot({ path: `${SHOTS}/admin-home.png`, fullPage: true });
		const phone = await signIn(browser, app, watcher, '/admin', { width: 390, height: 844 });
		await phone.locator('[data-critical-stock="O-:red_cells"]').waitFor();
		await phone.screenshot({ path: `${SHOTS}/admin-home-phone.png`, fullPage: true });
		await phone.context().close();
	});

	it('an issue in another browser shows the critical alert on the dashboard within 1 s, without reload, and it clears on recovery', async () => {
		await bank.goto('/admin/blood-bank');
		await bank.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		const form = bank.getByTestId('issue-form');
		await form.getByLabel('Blood group').selectOption('A+');
		await form.getByLabel('Component').selectOption('red_cells');
		await form.getByLabel('Units').fill('8');
		await form.getByLabel('Reason').fill('Theatre 3, major trauma');
		const navigations: string[] = [];
		dashboard.on('framenavigated', (f) => navigations.push(f.url()));

		const t0 = Date.now();
		await form.getByRole('button', { name: 'Issue' }).click();
		const alertMs = await timeUntil(dashboard, '[data-critical-stock="A+:red_cells"]', 'visible', t0);
		console.log(`[blood-bank e2e] critical alert on the other admin's dashboard ${alertMs} ms after the click`);
		expect(alertMs).toBeLessThan(1_000);
		await bank.getByText(/Issued 8 units of A\+ red cells/).waitFor();
		expect(await dashboard.locator('[data-stock="A+:red_cells"]').getAttribute('data-critical')).toBe('true');
		expect(await dashboard.locator('[data-stock="A+:red_cells"]').getAttribute('data-available')).toBe('7');
		await dashboard.evaluate(() => window.scrollTo(0, 0));
		await dashboard.screenshot({ path: `${SHOTS}/admin-home-critical.png` });
		await bank.screenshot({ path: `${SHOTS}/blood-bank-tablet.png`, fullPage: true });

		// A short issue explains itself and offers compatible groups.
		await form.getByLabel('Units').fill('20');
		await form.getByLabel('Reason').fill('Massive transfusion protocol');
		await form.getByRole('button', { name: 'Issue' }).click();
		await bank.getByText(/Only 7 units of A\+ red cells available/).waitFor();
		await bank.getByRole('button', { name: /Use O\+/ }).waitFor();

		// One bag in: 8, back at the threshold.
		const unit = bank.getByTestId('unit-form');
		await unit.getByLabel('Blood group').selectOption('A+');
		await unit.getByLabel('Component').selectOption('red_cells');
		await unit.getByLabel('Bag number').fill('E2E-AP-RC-0001');
		const t1 = Date.now();
		await unit.getByRole('button', { name: 'Add unit' }).click();
		const clearMs = await timeUntil(dashboard, '[data-critical-stock="A+:red_cells"]', 'detached', t1);
		console.log(`[blood-bank e2e] alert cleared on the dashboard ${clearMs} ms after the bag was added`);
		expect(clearMs).toBeLessThan(1_000);
		expect(await dashboard.locator('[data-stock="A+:red_cells"]').getAttribute('data-critical')).toBe('false');
		expect(navigations).toEqual([]);
		// Quarantining one of the 8 bags listed takes it out of stock: a new crossing, alerted again.
		const bagsCard = bank.locator('section', { has: bank.getByRole('heading', { name: 'Bags in stock' }) });
		await bagsCard.getByLabel('Blood group').selectOption('A+');
		await bagsCard.getByLabel('Component').selectOption('red_cells');
		await bagsCard.getByRole('table', { name: /Available bags/ }).locator('tbody tr').nth(7).waitFor();
		expect(await bagsCard.locator('tbody tr').count()).toBe(8);
		await bagsCard.getByRole('button', { name: /^Quarantine bag / }).first().click();
		await dashboard.locator('[data-critical-stock="A+:red_cells"]').waitFor({ timeout: 2_000 });
		await bagsCard.getByText(/is now quarantined/).waitFor();
		expect(await bagsCard.locator('tbody tr').count()).toBe(7);

		// The watcher's notification bell got the alert too.
		const bell = await watcher.api.get('/api/notifications');
		expect(bell.body.items.some((n: { kind: string; title: string }) => n.kind === 'blood_stock_critical' && n.title.includes('A+'))).toBe(true);
	});

	it('a patient signs up as a donor on their home page', async () => {
		const page = await signIn(browser, app, patient, '/patient', { width: 768, height: 1024 });
		const form = page.getByTestId('donor-form');
		await form.getByLabel('Blood group').selectOption('B-');
		// Signing up without the consent box would register a donor nobody may ask: refused, next to the box.
		await form.getByRole('button', { name: 'Sign up as a donor' }).click();
		await form.getByText('Tick this box to sign up').waitFor();
		expect((await patient.api.get('/api/blood-bank/donors/me')).body.donor).toBeNull();
		await form.getByLabel('The blood bank may contact me when my group is needed').check();
		await form.getByRole('button', { name: 'Sign up as a donor' }).click();
		await page.getByText(/Thank you. The blood bank may ask you to give B- blood from today/).waitFor();
		await page.screenshot({ path: `${SHOTS}/patient-home-donor.png`, fullPage: true });
		const me = await patient.api.get('/api/blood-bank/donors/me');
		expect(me.body.donor).toMatchObject({ bloodGroup: 'B-', consent: true });
	});
});
