import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type BrowserContext, type Dialog, type Page } from 'playwright-core';
import { launchChromium, logIn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';

/**
 * The small things a new user hit: the doctor's greeting, a forbidden address, version
 * numbers on a patient's screens, the navigation on a tablet and a phone, confirming a
 * same-day booking, and unsent text (a chat message, a diagnosis) across a reload.
 */
const TABLET = { width: 768, height: 1024 };
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let app: TestApp;
let browser: Browser;
let today: string;
let doctor: TestUser;
let patient: TestUser;
let frontDesk: TestUser;
let nurse: TestUser;
let sameDay: { id: string; version: number };
const contexts: BrowserContext[] = [];

const path = (p: Page) => new URL(p.url()).pathname;

async function openAs(user: TestUser, viewport: { width: number; height: number }, home: string): Promise<Page> {
	const context = await browser.newContext({ baseURL: app.url, viewport });
	contexts.push(context);
	const page = await context.newPage();
	page.setDefaultTimeout(10_000);
	page.on('pageerror', (e) => console.log('[pageerror]', e.message));
	await logIn(page, user, home);
	return page;
}


/** Every dialog a page shows, answered as the test says at that moment. */
function dialogs(page: Page) {
	const seen: { type: string; message: string }[] = [];
	let answer: 'accept' | 'dismiss' = 'accept';
	page.on('dialog', (d: Dialog) => {
		seen.push({ type: d.type(), message: d.message() });
		void (answer === 'accept' ? d.accept() : d.dismiss());
	});
	return {
		seen,
		answer(a: 'accept' | 'dismiss') {
			answer = a;
		}
	};
}

const draftKeys = (page: Page) =>
	page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('medtrack:draft:')));

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app, { name: 'Dr. Amara Okafor' });
	[patient, frontDesk, nurse] = await Promise.all([
		app.userOf('patient', { name: 'Lucia Ferreira' }),
		app.userOf('front_desk', { name: 'Dana Whitfield' }),
		app.userOf('nurse', { name: 'Nora Field' })
	]);
	const slots = await freeSlots(patient, doctor.doctorId!, today);
	const booked = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[3]!.start, symptoms: 'Back pain since the weekend' });
	expect(booked.status, JSON.stringify(booked.body)).toBe(201);
	sameDay = booked.body.appointment;
	browser = await launchChromium();
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('first use', () => {
	it('the doctor’s home greets them by title and family name', async () => {
		const page = await openAs(doctor, DESKTOP, '/doctor');
		const heading = page.getByRole('heading', { level: 1 });
		await expect.poll(() => heading.textContent()).toMatch(/^Good (morning|afternoon|evening), Dr\. Okafor$/);
	});

	it('a typed address the role may not open answers 403 with a page naming the role and a link home', async () => {
		const page = await openAs(patient, DESKTOP, '/patient');
		const response = await page.goto('/admin/users');
		expect(response?.status()).toBe(403);
		await page.getByRole('heading', { level: 1, name: 'Not allowed for your role' }).waitFor();
		const text = await page.getByRole('alert').textContent();
		expect(text).toContain('Patient role');
		expect(text).toContain('/admin/users');
		expect(path(page)).toBe('/admin/users');

		await page.getByRole('link', { name: 'Go to my home page' }).click();
		await page.waitForURL('**/patient');

		// The same answer for a link followed inside the app (no page load).
		await page.evaluate(() => {
			const a = document.createElement('a');
			a.href = '/front-desk/board';
			a.textContent = 'board';
			document.body.append(a);
			a.click();
		});
		await page.getByRole('heading', { level: 1, name: 'Not allowed for your role' }).waitFor();
		expect(await page.getByRole('alert').textContent()).toContain('/front-desk/board');
	});

	it('a patient’s profile and home say who last changed their details, never a version number', async () => {
		const page = await openAs(patient, DESKTOP, '/patient');
		await page.getByTestId('patient-details').getByText(/Last changed by/).waitFor();
		await page.goto('/profile');
		await page.getByTestId('patient-form').getByText(/Last changed by/).waitFor();
		await page.getByTestId('account-form').getByText(/Last changed by/).waitFor();
		expect(await page.locator('body').innerText()).not.toMatch(/version/i);

		// Staff still see the version they hold (what a conflict is about).
		const desk = await openAs(frontDesk, DESKTOP, '/front-desk');
		await desk.goto(`/patients/${patient.patientId}`);
		await desk.getByTestId('patient-form').getByText(/^Version \d+ · last changed by/).waitFor();
	});

	it('at 768 px every page of the patient’s navigation is on screen, My profile included, and opens from the keyboard', async () => {
		const page = await openAs(patient, TABLET, '/patient');
		const nav = page.getByRole('navigation', { name: 'Main' });
		const links = nav.getByRole('link');
		expect(await links.count()).toBeGreaterThanOrEqual(7);
		for (const link of await links.all()) {
			const box = (await link.boundingBox())!;
			expect(box.x, await link.textContent() ?? '').toBeGreaterThanOrEqual(0);
			expect(box.x + box.width, await link.textContent() ?? '').toBeLessThanOrEqual(TABLET.width);
			expect(box.height).toBeGreaterThanOrEqual(44);
		}
		const profile = nav.getByRole('link', { name: 'My profile' });
		expect(await profile.isVisible()).toBe(true);
		await profile.focus();
		await page.keyboard.press('Enter');
		await page.waitForURL('**/profile');
		expect(await profile.getAttribute('aria-current')).toBe('page');
	});

	it('on a phone the Menu button opens the whole navigation from the keyboard and closes after choosing', async () => {
		const page = await openAs(patient, PHONE, '/patient');
		const nav = page.getByRole('navigation', { name: 'Main' });
		const menu = nav.getByRole('button', { name: 'Menu' });
		const profile = nav.getByRole('link', { name: 'My profile' });
		expect(await menu.getAttribute('aria-expanded')).toBe('false');
		expect(await profile.isVisible()).toBe(false);

		await menu.focus();
		await page.keyboard.press('Enter');
		expect(await menu.getAttribute('aria-expanded')).toBe('true');
		await profile.waitFor({ state: 'visible' });
		const box = (await profile.boundingBox())!;
		expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);

		await page.keyboard.press('Escape');
		expect(await menu.getAttribute('aria-expanded')).toBe('false');
		expect(await menu.evaluate((el) => el === document.activeElement)).toBe(true);

		await page.keyboard.press('Enter');
		await profile.focus();
		await page.keyboard.press('Enter');
		await page.waitForURL('**/profile');
		expect(await menu.getAttribute('aria-expanded')).toBe('false');
	});

	it('front desk confirms a pending booking for today from the day board', async () => {
		const page = await openAs(frontDesk, DESKTOP, '/front-desk');
		await page.goto('/front-desk/board');
		const row = page.locator(`[data-appointment="${sameDay.id}"]`);
		await row.getByText('Pending').waitFor();
		await row.getByRole('button', { name: 'Check in Lucia Ferreira' }).waitFor();
		await row.getByRole('button', { name: 'Confirm Lucia Ferreira' }).click();
		await page.getByTestId('board-notice').getByText('Lucia Ferreira: confirmed.').waitFor();
		await row.getByText('Confirmed').waitFor();

		const stored = await frontDesk.api.get(`/api/appointments/${sameDay.id}`);
		expect(stored.body.appointment.status).toBe('CONFIRMED');
		expect(await row.getByRole('button', { name: 'Confirm Lucia Ferreira' }).count()).toBe(0);
	});

	it('an unsent chat message survives a reload, leaving asks first, and logout drops it', async () => {
		const opened = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
		expect([200, 201]).toContain(opened.status);
		const id = opened.body.conversation.id as string;
		const page = await openAs(patient, DESKTOP, '/patient');
		const asked = dialogs(page);
		await page.goto(`/chat/${id}`);
		const input = page.getByTestId('chat-input');
		await expect.poll(() => input.isEnabled()).toBe(true);
		const typed = 'Can I take ibuprofen with my tablets?';
		await input.click();
		await input.pressSequentially(typed);

		await page.reload();
		expect(asked.seen.map((d) => d.type)).toEqual(['beforeunload']);
		await expect.poll(() => input.inputValue()).toBe(typed);

		asked.answer('dismiss');
		await page.getByRole('link', { name: 'All conversations' }).click();
		await expect.poll(() => asked.seen.length).toBe(2);
		expect(asked.seen[1]!.type).toBe('confirm');
		expect(asked.seen[1]!.message).toContain('not sent');
		expect(path(page)).toBe(`/chat/${id}`);
		expect(await input.inputValue()).toBe(typed);

		asked.answer('accept');
		await page.getByRole('link', { name: 'All conversations' }).click();
		await page.waitForURL('**/chat');
		await page.goBack();
		await expect.poll(() => input.inputValue()).toBe(typed);

		await page.getByRole('button', { name: 'Log out' }).click();
		await page.waitForURL('**/login?loggedout=1');
		expect(asked.seen.length).toBe(3);
		expect(await draftKeys(page)).toEqual([]);
		await logIn(page, patient, '/patient');
		await page.goto(`/chat/${id}`);
		await expect.poll(() => input.isEnabled()).toBe(true);
		expect(await input.inputValue()).toBe('');
	});

	it('a typed diagnosis survives a reload of the visit screen, with a warning first', async () => {
		const other = await app.userOf('patient', { name: 'Tomas Reyes' });
		const slots = await freeSlots(other, doctor.doctorId!, today);
		const booked = await other.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[1]!.start, symptoms: 'Wheezing at night' });
		expect(booked.status, JSON.stringify(booked.body)).toBe(201);
		let a = booked.body.appointment;
		a = (await nurse.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CHECKED_IN' })).body.appointment;
		const consulting = await doctor.api.patch(`/api/appointments/${a.id}`, { version: a.version, status: 'CONSULTING' });
		expect(consulting.status, JSON.stringify(consulting.body)).toBe(200);

		const page = await openAs(doctor, TABLET, '/doctor');
		const asked = dialogs(page);
		await page.goto(`/doctor/visit/${a.id}`);
		const diagnosis = page.getByLabel('Diagnosis');
		await diagnosis.click();
		await diagnosis.pressSequentially('Mild asthma');

		await page.reload();
		expect(asked.seen.map((d) => d.type)).toEqual(['beforeunload']);
		await expect.poll(() => diagnosis.inputValue()).toBe('Mild asthma');
		await page.getByTestId('draft-restored').waitFor();

		await page.getByRole('button', { name: 'Save', exact: true }).click();
		await page.getByTestId('form-notice').getByText('Saved').waitFor();
		const record = await doctor.api.get(`/api/medical-records/${consulting.body.appointment.medicalRecordId}`);
		expect(record.body.record.diagnosis).toBe('Mild asthma');
		expect(await draftKeys(page)).toEqual([]);

		await page.reload();
		await expect.poll(() => diagnosis.inputValue()).toBe('Mild asthma');
		expect(asked.seen.length).toBe(1);
		expect(await page.getByTestId('draft-restored').count()).toBe(0);
	});
});
