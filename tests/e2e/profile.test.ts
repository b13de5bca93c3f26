import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from '../fixtures/browser';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';

/**
 * Two people edit the same patient in two browsers. The one holding the older copy is
 * warned live, before saving; a stale save is refused with the name of who changed it;
 * reloading keeps every character they typed; the second save goes through.
 */

const PATIENT = {
	name: 'Marisol Quinteros',
	email: `marisol.${Date.now()}@example.org`,
	phone: '+12025554321',
	dateOfBirth: '1988-06-21',
	bloodGroup: 'B+',
	password: 'Harb0ur!Lights'
};
const TYPED_BY_A = '12 Harbour Road, Flat 3';
const SAVED_BY_B = '99 Clinic Street';

let app: TestApp;
let browser: Browser;
let contextA: BrowserContext;
let contextB: BrowserContext;
let a: Page;
let b: Page;
let frontDesk: TestUser;
let patientId: string;

const path = (p: Page) => new URL(p.url()).pathname;

beforeAll(async () => {
	app = await startTestApp({}, { pages: true });
	browser = await launchChromium();
	contextA = await browser.newContext({ baseURL: app.url, viewport: { width: 768, height: 1024 } });
	contextB = await browser.newContext({ baseURL: app.url, viewport: { width: 1280, height: 900 } });
	a = await contextA.newPage();
	b = await contextB.newPage();
	for (const p of [a, b]) p.setDefaultTimeout(10_000);
	frontDesk = await app.userOf('front_desk', { name: 'Dana Whitfield' });
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('stale-copy warning on the patient form', () => {
	it('a patient who registers through the form lands on the patient home', async () => {
		await a.goto('/register');
		await a.getByLabel('Full name').fill(PATIENT.name);
		await a.getByLabel('E-mail').fill(PATIENT.email);
		await a.getByLabel('Phone').fill(PATIENT.phone);
		await a.getByLabel('Date of birth').fill(PATIENT.dateOfBirth);
		await a.getByLabel('Blood group').selectOption(PATIENT.bloodGroup);
		await a.getByLabel(/^Password/).fill(PATIENT.password);
		await a.getByLabel('Repeat the password').fill(PATIENT.password);
		await a.getByRole('button', { name: 'Create account' }).click();

		await a.waitForURL('**/patient');
		expect(await a.getByRole('heading', { level: 1 }).textContent()).toContain('Marisol');
		await a.getByTestId('patient-details').getByText(PATIENT.phone).waitFor();
		await a.getByTestId('live-status').getByText('Live').waitFor();
	});

	it('the patient opens their profile and types an address without saving', async () => {
		await a.getByRole('link', { name: 'My profile' }).click();
		await a.waitForURL('**/profile');
		const address = a.getByLabel('Address');
		await address.waitFor();
		await address.fill(TYPED_BY_A);
		expect(await a.getByTestId('stale-warning').count()).toBe(0);
	});

	it('front desk logs in through the form, lands on its home and saves the same patient', async () => {
		await b.goto('/login');
		await b.getByLabel('E-mail').fill(frontDesk.email);
		await b.getByLabel('Password').fill(TEST_PASSWORD);
		await b.getByRole('button', { name: 'Log in' }).click();
		await b.waitForURL('**/front-desk');

		await b.getByRole('combobox', { name: 'Patient name or phone' }).fill('mari');
		await b.getByRole('option', { name: PATIENT.name }).click();
		await b.waitForURL('**/patients/*');
		patientId = path(b).split('/')[2]!;

		const address = b.getByLabel('Address');
		await address.waitFor();
		await address.fill(SAVED_BY_B);
		await b.getByRole('button', { name: 'Save changes' }).click();
		await b.getByTestId('form-notice').getByText('Saved').waitFor();
	});

	it('the patient sees who changed it, live, before pressing Save, and keeps the typed text', async () => {
		const warning = a.getByTestId('stale-warning');
		await warning.waitFor({ timeout: 5_000 });
		const text = await warning.textContent();
		expect(text).toContain('Changed by Dana Whitfield');
		expect(text).toContain('Address');
		expect(path(a)).toBe('/profile');
		expect(await a.getByLabel('Address').inputValue()).toBe(TYPED_BY_A);
	});

	it('saving the stale copy anyway shows the conflict naming who changed it, and keeps the typed text', async () => {
		await a.getByRole('button', { name: 'Save changes' }).click();
		const conflict = a.getByTestId('stale-conflict');
		await conflict.waitFor();
		expect(await conflict.textContent()).toMatch(/changed by Dana Whitfield/);
		expect(await a.getByLabel('Address').inputValue()).toBe(TYPED_BY_A);

		const stored = await frontDesk.api.get(`/api/patients/${patientId}`);
		expect(stored.body.patient.address).toBe(SAVED_BY_B);
	});

	it('reloading shows the new value and keeps the typed text beside it', async () => {
		await a.getByTestId('stale-conflict').getByRole('button', { name: 'Reload' }).click();
		await expect.poll(() => a.getByLabel('Address').inputValue()).toBe(SAVED_BY_B);
		const mine = a.getByTestId('unsaved-address');
		await mine.waitFor();
		expect(await mine.textContent()).toContain(TYPED_BY_A);
		expect(await a.getByTestId('stale-conflict').count()).toBe(0);
		expect(await a.getByTestId('stale-warning').count()).toBe(0);
	});

	it('the patient puts their text back and saves successfully', async () => {
		await a.getByRole('button', { name: 'Use my text' }).click();
		expect(await a.getByLabel('Address').inputValue()).toBe(TYPED_BY_A);
		await a.getByRole('button', { name: 'Save changes' }).click();
		await a.getByTestId('form-notice').getByText('Saved').waitFor();

		const stored = await frontDesk.api.get(`/api/patients/${patientId}`);
		expect(stored.body.patient.address).toBe(TYPED_BY_A);
		expect(stored.body.patient.version).toBe(3);
		// The broadcast of the patient's own save is not mistaken for someone else's change.
		await a.waitForTimeout(500);
		expect(await a.getByTestId('stale-warning').count()).toBe(0);
	});

	it('logging out returns to the login page, and the profile then asks to log in', async () => {
		await a.getByRole('button', { name: 'Log out' }).click();
		await a.waitForURL('**/login?loggedout=1');
		await a.getByText('You have logged out.').waitFor();

		await a.goto('/profile');
		await a.waitForURL('**/login?next=%2Fprofile');
		await a.getByRole('heading', { name: 'Log in' }).waitFor();
	});
});
