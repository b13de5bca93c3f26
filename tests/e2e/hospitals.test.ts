import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, tieToHospital, type TestApp, type TestUser } from '../fixtures/app';

/**
 * Two browsers: an administrator watches the capacity page while a paramedic on a tablet sends an
 * alert and chooses a hospital; the reservation shows on the admin's screen without a reload. Then
 * an Emergency nurse's screen shows a new department emergency live until she acknowledges it,
 * while an Emergency nurse of another hospital (Northgate), her screen open too, never sees it.
 */
const SHOTS = 'test-results/hospitals';

let app: TestApp;
let browser: Browser;
let admin: TestUser;
let medic: TestUser;
let nurse: TestUser;
let raiser: TestUser;
let farNurse: TestUser;
let hospitalId: string;
let capacity: Page;
let paramedic: Page;

beforeAll(async () => {
	app = await startTestApp({}, { pages: true });
	[admin, medic, nurse, raiser] = await Promise.all([
		app.userOf('admin', { name: 'Ada Capacity' }),
		app.userOf('paramedic', { name: 'Pat Medic' }),
		app.userOf('nurse', { name: 'Erin Emergency', department: 'Emergency' }),
		app.userOf('doctor', { name: 'Rae Raiser', department: 'Cardiology' })
	]);
	const h = await admin.api.post('/api/hospitals', {
		name: 'Riverside General',
		latitude: 51.5,
		longitude: -0.12,
		departments: ['Emergency', 'Radiology'],
		resources: { general_beds: { total: 40 }, icu_beds: { total: 6 }, ventilators: { total: 4 } }
	});
	hospitalId = h.body.hospital.id;
	// the nurse and the raiser work at Riverside: its staff raise and acknowledge its emergencies
	await Promise.all([tieToHospital(admin, nurse, hospitalId), tieToHospital(admin, raiser, hospitalId)]);
	const north = await admin.api.post('/api/hospitals', {
		name: 'Northgate Hospital',
		latitude: 51.62,
		longitude: -0.1,
		departments: ['Emergency'],
		resources: { general_beds: { total: 25 }, icu_beds: { total: 2 }, ventilators: { total: 2 } }
	});
	farNurse = await app.userOf('nurse', { name: 'Nell Northgate', department: 'Emergency', hospitalId: north.body.hospital.id });
	browser = await launchChromium();
	[capacity, paramedic] = await Promise.all([
		signIn(browser, app, admin, '/admin', { width: 1280, height: 900 }),
		signIn(browser, app, medic, '/paramedic', { width: 768, height: 1024 })
	]);
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('hospitals live', () => {
	it('a paramedic’s selection changes the capacity on the admin’s open screen without reload', async () => {
		await capacity.goto('/admin/capacity');
		const card = capacity.getByTestId(`capacity-${hospitalId}`);
		await card.waitFor();
		await capacity.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		expect(await card.getByTestId('row-icu_beds').getByTestId('reserved').textContent()).toBe('0');
		await capacity.screenshot({ path: `${SHOTS}/admin-capacity-before.png`, fullPage: true });

		await paramedic.getByLabel('Condition').fill('Chest pain, suspected STEMI');
		await paramedic.getByLabel('Severity').selectOption('high');
		await paramedic.getByLabel('Latitude').fill('51.51');
		await paramedic.getByLabel('Longitude').fill('-0.12');
		await paramedic.getByRole('button', { name: 'Send alert' }).click();
		await paramedic.getByTestId(`candidate-${hospitalId}`).waitFor();
		await paramedic.screenshot({ path: `${SHOTS}/paramedic-candidates.png`, fullPage: true });
		// "No answer yet" stays on one line beside (or, when narrow, whole under) the name and distance, at both tablet sizes.
		for (const [width, height] of [[1024, 768], [768, 1024]] as const) {
			await paramedic.setViewportSize({ width, height });
			const waiting = paramedic.getByTestId(`candidate-${hospitalId}`).getByText('No answer yet');
			await paramedic.screenshot({ path: `${SHOTS}/paramedic-candidates-${width}x${height}.png`, fullPage: true });
			// One line: its box holds a single line of its text (no break inside the words).
			const lines = await waiting.evaluate((el) => `${el.getClientRects().length}:${el.getBoundingClientRect().height}:${getComputedStyle(el).lineHeight}`);
			const [rects, h, lh] = lines.split(':');
			expect(Number(rects)).toBe(1);
			expect(Number(h)).toBeLessThanOrEqual(parseFloat(lh!) + 1);
		}
		await paramedic.setViewportSize({ width: 1280, height: 900 });
		const names = await paramedic.locator('[data-testid^="candidate-"] strong').allTextContents();
		expect(names).toEqual(['Riverside General', 'Northgate Hospital']);

		// the admin sees the alert live and accepts it; the paramedic's list shows the answer
		await card.getByRole('button', { name: 'Accept the alert at Riverside General' }).click();
		await paramedic.getByTestId(`candidate-${hospitalId}`).getByText('Accepted by Ada Capacity').waitFor({ timeout: 5_000 });

		const t0 = Date.now();
		await paramedic.getByRole('button', { name: 'Choose Riverside General' }).click();
		await card.getByTestId('row-icu_beds').getByTestId('reserved').getByText('1', { exact: true }).waitFor({ timeout: 5_000 });
		const ms = Date.now() - t0;
		console.log(`selection → admin capacity screen: ${ms} ms`);
		expect(await card.getByTestId('row-icu_beds').getByTestId('available').textContent()).toBe('5');
		await paramedic.getByTestId('alert-status').getByText('En route').waitFor();
		await capacity.screenshot({ path: `${SHOTS}/admin-capacity-after.png`, fullPage: true });
		await paramedic.screenshot({ path: `${SHOTS}/paramedic-en-route.png`, fullPage: true });
	});

	it('a department screen shows a new emergency live until acknowledged; the acknowledgement appears on the raiser’s screen', async () => {
		const [ward, desk, farWard] = await Promise.all([
			signIn(browser, app, nurse, '/nurse', { width: 1024, height: 768 }),
			signIn(browser, app, raiser, '/doctor', { width: 1280, height: 900 }),
			signIn(browser, app, farNurse, '/nurse', { width: 768, height: 1024 })
		]);
		await ward.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		await farWard.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		await desk.goto('/emergencies');
		await desk.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		// the raiser's own hospital, no choice
		await desk.getByTestId('raise-hospital').getByText('Riverside General').waitFor();
		expect(await desk.getByLabel('Hospital', { exact: true }).count()).toBe(0);
		await desk.getByLabel('Type').selectOption('code_blue');
		await desk.getByLabel('Location').fill('Ward 3, bed 12');
		await desk.getByLabel('Emergency', { exact: true }).check();
		const t0 = Date.now();
		await desk.getByRole('button', { name: 'Raise emergency' }).click();
		const banner = ward.getByTestId('dept-emergency');
		await banner.waitFor({ timeout: 3_000 });
		console.log(`raised → department banner: ${Date.now() - t0} ms`);
		expect(await banner.textContent()).toContain('Ward 3, bed 12');
		await ward.screenshot({ path: `${SHOTS}/department-emergency.png`, fullPage: true });
		// Northgate's Emergency nurse: same department, another site, nothing (not live, not after a reload)
		await farWard.waitForTimeout(500);
		expect(await farWard.getByTestId('dept-emergency').count()).toBe(0);
		await farWard.reload();
		await farWard.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		await farWard.waitForTimeout(300);
		expect(await farWard.getByTestId('dept-emergency').count()).toBe(0);
		await farWard.screenshot({ path: `${SHOTS}/other-site-no-emergency.png`, fullPage: true });
		const t1 = Date.now();
		await banner.getByRole('button', { name: 'Acknowledge for Emergency' }).click();
		await banner.waitFor({ state: 'detached' });
		await desk.getByTestId('emergency-list').getByText('acknowledged by Erin Emergency', { exact: false }).waitFor({ timeout: 3_000 });
		console.log(`acknowledged → raiser's screen: ${Date.now() - t1} ms`);
		await desk.screenshot({ path: `${SHOTS}/raiser-acknowledged.png`, fullPage: true });
	});
});
