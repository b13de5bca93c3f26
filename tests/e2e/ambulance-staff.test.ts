import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, tieToHospital, type TestApp, type TestUser } from '../fixtures/app';

/**
 * Two browsers: a paramedic sends an alert; a nurse whose home screen is open sees it appear
 * without a reload and accepts; the paramedic's list shows "Accepted by …" without a reload.
 * Then the paramedic chooses the hospital and the nurse's card says "En route to …", and a
 * doctor raises a critical emergency that reserves ICU beds from the form (and sees the 409).
 */
const SHOTS = 'test-results/ambulance-staff';

let app: TestApp;
let browser: Browser;
let admin: TestUser;
let medic: TestUser;
let nurse: TestUser;
let doctor: TestUser;
let hospitalId: string;
let otherId: string;

beforeAll(async () => {
	app = await startTestApp({}, { pages: true });
	[admin, medic, nurse, doctor] = await Promise.all([
		app.userOf('admin', { name: 'Ada Capacity' }),
		app.userOf('paramedic', { name: 'Pat Medic' }),
		app.userOf('nurse', { name: 'Erin Emergency', department: 'Emergency' }),
		app.userOf('doctor', { name: 'Rae Raiser', department: 'Cardiology' })
	]);
	const h = await admin.api.post('/api/hospitals', {
		name: 'Riverside General',
		latitude: 51.5,
		longitude: -0.12,
		departments: ['Emergency', 'Cardiology'],
		resources: { general_beds: { total: 40 }, icu_beds: { total: 2 }, ventilators: { total: 4 } }
	});
	hospitalId = h.body.hospital.id;
	const o = await admin.api.post('/api/hospitals', {
		name: 'Northgate Hospital',
		latitude: 51.56,
		longitude: -0.1,
		departments: ['Emergency'],
		resources: { general_beds: { total: 25 }, icu_beds: { total: 2 }, ventilators: { total: 2 } }
	});
	otherId = o.body.hospital.id;
	// the nurse works at Riverside, the doctor at Northgate
	await Promise.all([tieToHospital(admin, nurse, hospitalId), tieToHospital(admin, doctor, otherId)]);
	browser = await launchChromium();
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

async function sendAlert(p: Page) {
	await p.getByLabel('Condition').fill('Chest pain, suspected STEMI');
	await p.getByLabel('Severity').selectOption('high');
	await p.getByLabel('Latitude').fill('51.51');
	await p.getByLabel('Longitude').fill('-0.12');
	await p.getByRole('button', { name: 'Send alert' }).click();
	await p.getByTestId(`candidate-${hospitalId}`).waitFor();
}

describe('staff answer ambulance alerts live', () => {
	it('a nurse’s open screen shows a new alert live; her accept shows on the paramedic’s screen without reload', async () => {
		const [paramedic, ward] = await Promise.all([
			signIn(browser, app, medic, '/paramedic', { width: 768, height: 1024 }),
			signIn(browser, app, nurse, '/nurse', { width: 1024, height: 768 })
		]);
		const panel = ward.getByTestId('ambulance-panel');
		// her own hospital, without asking
		await panel.getByText('Alerts for Riverside General, live.').waitFor();
		await panel.getByTestId('no-ambulances').waitFor();
		expect(await panel.locator('select').count()).toBe(0);
		await ward.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		await ward.screenshot({ path: `${SHOTS}/nurse-panel-empty-1024x768.png` });

		const t0 = Date.now();
		await sendAlert(paramedic);
		const card = panel.locator('[data-testid^="ambulance-"]').filter({ hasText: 'Chest pain, suspected STEMI' });
		await card.waitFor({ timeout: 3_000 });
		console.log(`alert sent → nurse's screen: ${Date.now() - t0} ms`);
		expect(await card.textContent()).toContain('Needs 1 ICU bed');
		expect(await panel.getByTestId('incoming-count').textContent()).toBe('1 incoming');
		await ward.screenshot({ path: `${SHOTS}/nurse-panel-alert-1024x768.png` });
		await ward.setViewportSize({ width: 768, height: 1024 });
		await ward.screenshot({ path: `${SHOTS}/nurse-panel-alert-768x1024.png` });

		// after a reload it is still her hospital's alerts (the account decides, not the device)
		await ward.reload();
		await panel.locator('[data-testid^="ambulance-"]').first().waitFor();
		await panel.getByText('Alerts for Riverside General, live.').waitFor();

		const t1 = Date.now();
		await panel.getByRole('button', { name: 'Accept the alert at Riverside General' }).click();
		await paramedic.getByTestId(`candidate-${hospitalId}`).getByText('Accepted by Erin Emergency').waitFor({ timeout: 3_000 });
		const ms = Date.now() - t1;
		console.log(`nurse accepts → paramedic's screen shows "Accepted by": ${ms} ms`);
		expect(ms).toBeLessThan(3_000);
		await panel.getByTestId('our-answer').getByText('Accepted by Erin Emergency', { exact: false }).waitFor();
		await paramedic.screenshot({ path: `${SHOTS}/paramedic-accepted-768x1024.png`, fullPage: true });
		await paramedic.setViewportSize({ width: 1024, height: 768 });
		await paramedic.screenshot({ path: `${SHOTS}/paramedic-accepted-1024x768.png`, fullPage: true });

		// the paramedic chooses: the nurse's card says where it is going, live
		await paramedic.getByRole('button', { name: 'Choose Riverside General' }).click();
		await panel.getByTestId('alert-state').getByText('En route to Riverside General').waitFor({ timeout: 3_000 });
		await ward.screenshot({ path: `${SHOTS}/nurse-panel-en-route-768x1024.png` });
		await paramedic.getByRole('button', { name: 'We have arrived' }).click();
		await panel.getByTestId('alert-state').getByText('Arrived at Riverside General', { exact: false }).waitFor({ timeout: 3_000 });
		await paramedic.context().close();
		await ward.context().close();
	});

	it('a decline asks a reason; the paramedic sees it next to that hospital', async () => {
		const [paramedic, home] = await Promise.all([
			signIn(browser, app, medic, '/paramedic', { width: 1024, height: 768 }),
			signIn(browser, app, doctor, '/doctor', { width: 1024, height: 768 })
		]);
		const panel = home.getByTestId('ambulance-panel');
		await panel.getByText('Alerts for Northgate Hospital, live.').waitFor();
		await panel.getByTestId('no-ambulances').waitFor();
		await sendAlert(paramedic);
		await paramedic.getByTestId(`candidate-${otherId}`).waitFor();
		const card = panel.locator('[data-testid^="ambulance-"]').first();
		await card.waitFor({ timeout: 3_000 });
		await card.getByRole('button', { name: 'Decline the alert at Northgate Hospital' }).click();
		await card.getByRole('button', { name: 'Send decline' }).click();
		await card.getByText('Say in a few words why', { exact: false }).waitFor();
		await card.getByLabel('Why can Northgate Hospital not take this patient?').fill('No cath lab tonight');
		await home.screenshot({ path: `${SHOTS}/doctor-decline-1024x768.png` });
		await card.getByRole('button', { name: 'Send decline' }).click();
		await paramedic.getByTestId(`candidate-${otherId}`).getByText('Declined by Rae Raiser').waitFor({ timeout: 3_000 });
		expect(await paramedic.getByTestId(`candidate-${otherId}`).textContent()).toContain('No cath lab tonight');
		await paramedic.screenshot({ path: `${SHOTS}/paramedic-declined-1024x768.png`, fullPage: true });
		await paramedic.context().close();
		await home.context().close();
	});

	it('a critical emergency reserves ICU beds from the form; too many is a plain 409; the list shows what is held and released', async () => {
		const desk = await signIn(browser, app, doctor, '/doctor', { width: 1024, height: 768 });
		const pageErrors: string[] = [];
		desk.on('pageerror', (e) => pageErrors.push(e.message));
		await desk.goto('/emergencies');
		await desk.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		// the doctor works at Northgate: the form raises there, with no choice
		await desk.getByTestId('raise-hospital').getByText('Northgate Hospital').waitFor();
		await desk.getByLabel('Type').selectOption('mass_casualty');
		await desk.getByLabel('Location').fill('Main entrance');
		await desk.getByLabel('Severity').selectOption('critical');
		await desk.getByLabel('Emergency', { exact: true }).check();
		const reserve = desk.getByTestId('reserve');
		await reserve.getByText('2 free now').first().waitFor();
		await reserve.getByLabel('ICU beds').fill('2');
		await desk.screenshot({ path: `${SHOTS}/emergency-reserve-1024x768.png`, fullPage: true });

		// someone takes one ICU bed meanwhile: the live count drops and warns, and the hospital's row refuses
		const h = (await admin.api.get(`/api/hospitals/${otherId}`)).body.hospital;
		await admin.api.post(`/api/hospitals/${otherId}/beds`, { version: h.version, resource: 'icu_beds', action: 'occupy', count: 1 });
		await reserve.getByText('Only 1 free now: the hospital will refuse 2.').waitFor({ timeout: 3_000 });
		await desk.getByRole('button', { name: 'Raise emergency' }).click();
		const outcome = desk.getByTestId('emergency-outcome');
		await outcome.getByText('Nothing was raised or reserved').waitFor();
		expect(await outcome.textContent()).toContain('The hospital does not have 2 ICU beds free to reserve now.');
		expect(await desk.getByTestId('emergency-list').locator('li[data-testid^="emergency-"]').count()).toBe(0);
		await desk.screenshot({ path: `${SHOTS}/emergency-409-1024x768.png`, fullPage: true });

		// free both again; reserve 2 and resolve: the list shows held, then released
		const now = (await admin.api.get(`/api/hospitals/${otherId}`)).body.hospital;
		await admin.api.post(`/api/hospitals/${otherId}/beds`, { version: now.version, resource: 'icu_beds', action: 'free', count: 1 });
		await reserve.getByText('2 free now').first().waitFor({ timeout: 3_000 });
		await reserve.getByLabel('ICU beds').fill('2');
		await desk.getByRole('button', { name: 'Raise emergency' }).click();
		await outcome.getByText('Reserved 2 ICU beds until it is resolved', { exact: false }).waitFor();
		const item = desk.getByTestId('emergency-list').locator('li[data-testid^="emergency-"]').first();
		expect(await item.getByTestId('reserved').textContent()).toContain('Holding 2 ICU beds');
		await item.getByRole('button', { name: 'Resolve' }).click();
		await item.getByTestId('reserved').getByText('released on resolution', { exact: false }).waitFor();
		await item.locator('summary').click();
		expect(await item.getByTestId('timeline').textContent()).toContain('Resolved; released 2 ICU beds');
		await desk.setViewportSize({ width: 768, height: 1024 });
		await desk.screenshot({ path: `${SHOTS}/emergency-resolved-768x1024.png`, fullPage: true });
		expect(pageErrors).toEqual([]);
		await desk.context().close();
	});

	it('staff tied to no hospital are told who sets it, with no picker; an administrator picks any hospital', async () => {
		const untied = await app.userOf('front_desk', { name: 'Una Untied' });
		const [front, overseer] = await Promise.all([
			signIn(browser, app, untied, '/front-desk', { width: 768, height: 1024 }),
			signIn(browser, app, admin, '/admin', { width: 1024, height: 768 })
		]);
		const panel = front.getByTestId('ambulance-panel');
		await panel.getByTestId('no-hospital').getByText('An administrator sets your hospital under Users', { exact: false }).waitFor();
		expect(await panel.locator('select').count()).toBe(0);
		await front.screenshot({ path: `${SHOTS}/front-desk-untied-768x1024.png` });

		await overseer.goto('/emergencies');
		const adminPanel = overseer.getByTestId('ambulance-panel');
		await adminPanel.getByLabel('Ambulances for').selectOption(otherId);
		await adminPanel.getByText('Alerts for Northgate Hospital, live.').waitFor();
		await adminPanel.locator('[data-testid="no-ambulances"], [data-testid^="ambulance-"]').first().waitFor();
		// the raise form offers every hospital to an administrator
		const options = await overseer.getByLabel('Hospital', { exact: true }).locator('option').allTextContents();
		expect(options).toEqual(expect.arrayContaining(['Riverside General', 'Northgate Hospital']));
		await overseer.screenshot({ path: `${SHOTS}/admin-emergencies-picker-1024x768.png`, fullPage: true });
		await front.context().close();
		await overseer.context().close();
	});
});
