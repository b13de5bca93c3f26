import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { addDays } from '../../src/lib/shared/time';

/**
 * Free times are live across browsers: patient A has the booking page open on a doctor and a
 * day; patient B books one of that day's times in another browser. A's time grid drops it and
 * A's doctors list shows one free slot fewer, without a reload; when B cancels, both come back.
 * The front desk's doctors page counts along.
 */

let app: TestApp;
let browser: Browser;
let day: string;
let doctor: TestUser;
let amelia: TestUser;
let bruno: TestUser;
let desk: TestUser;
let total: number;
let wanted: { start: string; end: string };
let wantedTime: string;
const contexts: BrowserContext[] = [];
let pageA: Page;
let pageB: Page;
let deskPage: Page;

async function openAs(user: TestUser, home: string): Promise<Page> {
	const page = await signIn(browser, app, user, home, { width: 1280, height: 900 });
	contexts.push(page.context());
	return page;
}

const live = (page: Page) => page.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
const doctorCard = (page: Page) => page.locator('label.doctor', { hasText: doctor.name });
const grid = (page: Page) => page.getByTestId('slot-picker');
const timeButton = (page: Page, hhmm: string) => grid(page).getByRole('radio', { name: hhmm, exact: true });

/** The booking page on `day` with the doctor chosen and their time grid showing. */
async function openGrid(page: Page) {
	await page.goto('/patient/book');
	await page.getByLabel('Day').fill(day);
	await doctorCard(page).getByText(`${total} free`).waitFor();
	await doctorCard(page).click();
	await grid(page).waitFor();
}

beforeAll(async () => {
	const tz = morningZone();
	// Tomorrow in the hospital's zone: every slot of the day is still in the future.
	day = addDays(todayInZone(tz), 1);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	[amelia, bruno, desk] = await Promise.all([
		app.userOf('patient', { name: 'Amelia Hart' }),
		app.userOf('patient', { name: 'Bruno Lang' }),
		app.userOf('front_desk', { name: 'Fran Desk' })
	]);
	const slots = await freeSlots(amelia, doctor.doctorId!, day);
	total = slots.length;
	wanted = slots[40]!;
	wantedTime = wanted.start.slice(11, 16);

	browser = await launchChromium();
	[pageA, pageB, deskPage] = await Promise.all([openAs(amelia, '/patient'), openAs(bruno, '/patient'), openAs(desk, '/front-desk')]);
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('live free slots across browsers', () => {
	it('B books a time A is looking at: A’s grid drops it and A’s doctors list shows one free fewer, without a reload', async () => {
		await openGrid(pageA);
		await deskPage.goto('/doctors');
		await deskPage.getByLabel('Free slots on').fill(day);
		const deskRow = deskPage.locator('tbody tr', { hasText: doctor.name });
		await deskRow.getByTestId('free-slots').getByText(`${total} free`).waitFor();
		await Promise.all([live(pageA), live(deskPage)]);
		// A has picked the very time B is about to book.
		await timeButton(pageA, wantedTime).click();
		expect(await timeButton(pageA, wantedTime).getAttribute('aria-checked')).toBe('true');
		// Marks this document: a reload would lose it.
		await pageA.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

		await openGrid(pageB);
		await timeButton(pageB, wantedTime).click();
		await pageB.getByLabel('Symptoms').fill('stabbing pain in the left knee');
		await pageB.getByRole('button', { name: new RegExp(`^Book ${wantedTime}`) }).click();
		await pageB.getByTestId('booked').waitFor();
		const bookedAt = Date.now();

		await Promise.all([
			timeButton(pageA, wantedTime).waitFor({ state: 'detached', timeout: 3000 }),
			doctorCard(pageA).getByText(`${total - 1} free`).waitFor({ timeout: 3000 }),
			deskRow.getByTestId('free-slots').getByText(`${total - 1} free`).waitFor({ timeout: 3000 })
		]);
		console.log(`B's booking left A's grid and both doctors lists ${Date.now() - bookedAt} ms after B saw it booked`);
		expect(await pageA.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
		expect(await grid(pageA).getByRole('radio').count()).toBe(total - 1);
		// A's choice is gone, and A is told why.
		expect(await pageA.getByTestId('slot-lost').textContent()).toContain(`${wantedTime} was just booked by someone else`);
		expect(await grid(pageA).locator('[aria-checked="true"]').count()).toBe(0);
		// B's own grid no longer offers it either.
		await timeButton(pageB, wantedTime).waitFor({ state: 'detached', timeout: 3000 });

		const shot = path.join(os.tmpdir(), 'medtrack-live-slots-booking.png');
		await pageA.screenshot({ path: shot, fullPage: true });
		console.log(`booking page screenshot: ${shot}`);
	});

	it('when B cancels, the time comes back on A’s grid and the count goes back up', async () => {
		const mine = await bruno.api.get(`/api/appointments?patientId=${bruno.patientId}`);
		const appt = (mine.body.appointments as { id: string; version: number; start: string }[]).find((a) => a.start === wanted.start)!;
		expect(appt).toBeDefined();
		const r = await bruno.api.patch(`/api/appointments/${appt.id}`, { version: appt.version, status: 'CANCELLED' });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		await Promise.all([
			timeButton(pageA, wantedTime).waitFor({ timeout: 3000 }),
			doctorCard(pageA).getByText(`${total} free`).waitFor({ timeout: 3000 })
		]);
		expect(await grid(pageA).getByRole('radio').count()).toBe(total);
		expect(await pageA.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
	});
});

describe('a day the clocks change, in the browser', () => {
	let nyApp: TestApp;
	let night: TestUser;
	let patient: TestUser;
	beforeAll(async () => {
		nyApp = await startTestApp({ HOSPITAL_TIMEZONE: 'America/New_York' }, { pages: true });
		[night, patient] = await Promise.all([nyApp.userOf('doctor', { name: 'Nadia Night' }), nyApp.userOf('patient', { name: 'Petra Late' })]);
		const d = await night.api.get(`/api/doctors/${night.doctorId}`);
		const r = await night.api.request('PUT', `/api/doctors/${night.doctorId}/availability`, {
			version: d.body.doctor.version,
			slotMinutes: 30,
			weekly: [{ day: 7, start: '01:00', end: '04:00' }]
		});
		if (r.status !== 200) throw new Error(`availability: ${JSON.stringify(r.body)}`);
	});
	afterAll(async () => nyApp?.close());

	it('on fall-back day the grid offers both 01:00s and both 01:30s, each with its offset', async () => {
		const context = await browser.newContext({ baseURL: nyApp.url, viewport: { width: 1280, height: 900 } });
		contexts.push(context);
		const page = await context.newPage();
		page.setDefaultTimeout(10_000);
		await page.goto('/login');
		await page.getByLabel('E-mail').fill(patient.email);
		await page.getByLabel('Password').fill(TEST_PASSWORD);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL('**/patient');
		await page.goto('/patient/book');
		await page.getByLabel('Day').fill('2027-11-07');
		const card = page.locator('label.doctor', { hasText: 'Nadia Night' });
		await card.getByText('8 free').waitFor();
		await card.click();
		await grid(page).waitFor();
		expect(await grid(page).getByRole('radio').allTextContents()).toEqual([
			'01:00UTC-04:00',
			'01:30UTC-04:00',
			'01:00UTC-05:00',
			'01:30UTC-05:00',
			'02:00UTC-05:00',
			'02:30UTC-05:00',
			'03:00UTC-05:00',
			'03:30UTC-05:00'
		]);
		expect(await page.getByText('hospital time (UTC-04:00 / UTC-05:00, the clocks change this day)').count()).toBe(1);
		const shot = path.join(os.tmpdir(), 'medtrack-fall-back-grid.png');
		await page.screenshot({ path: shot, fullPage: true });
		console.log(`fall-back day screenshot: ${shot}`);
	});
});
