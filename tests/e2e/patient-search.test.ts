import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { launchChromium, signIn } from '../fixtures/browser';
import { createUser } from '../../src/lib/server/services/users';
import { systemCaller } from '../../src/lib/server/actor';

/**
 * The search box on the staff pages: typing searches (debounced), arrow keys move through the
 * options, Enter opens the chart; Escape closes, then clears; a slow answer to an older query
 * never replaces the newer one. Screenshots at 1024×768 and 768×1024.
 */
const SHOTS = 'test-results/patient-search';

let app: TestApp;
let browser: Browser;
let desk: TestUser;
let admin: TestUser;
let superAdmin: TestUser;
let doctor: TestUser;
let nurse: TestUser;
let pharmacist: TestUser;
const ids: Record<string, string> = {};
const pages: Page[] = [];

async function open(user: TestUser, home: string, viewport?: { width: number; height: number }) {
	const page = await signIn(browser, app, user, home, viewport);
	pages.push(page);
	return page;
}

beforeAll(async () => {
	app = await startTestApp({ DB_DEADLINE_MS: '10000' }, { pages: true });
	[desk, admin, superAdmin, doctor, nurse, pharmacist] = await Promise.all([
		app.userOf('front_desk', { name: 'Fran Desk' }),
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('super_admin', { name: 'Sue Super' }),
		app.userOf('doctor', { name: 'Dr Mara Quinn' }),
		app.userOf('nurse', { name: 'Nell Ward' }),
		app.userOf('pharmacist', { name: 'Pia Pharm' })
	]);
	for (const [name, phone, bloodGroup] of [
		['María Gómez', '+12025550143', 'A+'],
		['Anne Marshall', '+12025550144', 'O-'],
		['Tomás Martínez', '+12025550145', 'AB-'],
		['Omar Haddad', '+12025550146', 'A+'],
		['Mads Olsen', '+12025550147', 'B+']
	] as const) {
		const u = await createUser(app.ctx, systemCaller(), { name, email: `${crypto.randomBytes(4).toString('hex')}@p.test`, role: 'patient', password: TEST_PASSWORD, phone, dateOfBirth: '1984-06-01', bloodGroup }, { allowSuperAdmin: true });
		ids[name] = u.patientId!;
	}
	browser = await launchChromium();
});

afterAll(async () => {
	for (const p of pages) await p.context().close();
	await browser?.close();
	await app?.close();
});

const options = (page: Page) => page.getByRole('listbox').first().getByRole('option');

describe('the patient search box', () => {
	it('type “mar”, arrow down twice, Enter: the second patient’s chart opens', async () => {
		const page = await open(desk, '/front-desk', { width: 1024, height: 768 });
		const box = page.getByRole('combobox', { name: 'Patient name or phone' });
		await box.fill('mar');
		await expect.poll(async () => options(page).allInnerTexts(), { timeout: 5000 }).toEqual([
			expect.stringContaining('Anne Marshall'),
			expect.stringContaining('María Gómez'),
			expect.stringContaining('Tomás Martínez')
		]);
		expect(await box.getAttribute('aria-expanded')).toBe('true');
		await page.screenshot({ path: `${SHOTS}/front-desk-1024x768.png` });
		await box.press('ArrowDown');
		await box.press('ArrowDown');
		const activeId = await box.getAttribute('aria-activedescendant');
		expect(await page.locator(`[id="${activeId}"]`).getAttribute('aria-selected')).toBe('true');
		expect(await page.locator(`[id="${activeId}"]`).innerText()).toContain('María Gómez');
		await box.press('Enter');
		await page.waitForURL(`**/patients/${ids['María Gómez']}`);
		await page.getByRole('heading', { name: 'María Gómez' }).first().waitFor();
	});

	it('Escape closes the list, a second Escape clears the box; a phone number in any format finds the patient', async () => {
		const page = await open(desk, '/front-desk', { width: 768, height: 1024 });
		await page.goto('/patients');
		const box = page.getByRole('combobox', { name: 'Patient name or phone' });
		await box.fill('GOMEZ');
		await expect.poll(() => options(page).allInnerTexts()).toEqual([expect.stringContaining('María Gómez')]);
		await box.press('Escape');
		expect(await box.getAttribute('aria-expanded')).toBe('false');
		expect(await box.inputValue()).toBe('GOMEZ');
		await box.press('Escape');
		expect(await box.inputValue()).toBe('');
		await box.fill('(202) 555-0146');
		await expect.poll(() => options(page).allInnerTexts()).toEqual([expect.stringContaining('Omar Haddad')]);
		await page.screenshot({ path: `${SHOTS}/patients-768x1024.png` });
	});

	it('a slow answer to an older query never replaces the newer one', async () => {
		const page = await open(desk, '/front-desk', { width: 1024, height: 768 });
		await page.goto('/patients');
		let slowSeen = false;
		await page.route('**/api/patients/search?*', async (route) => {
			const q = new URL(route.request().url()).searchParams.get('q');
			if (q === 'ma') {
				slowSeen = true;
				await new Promise((r) => setTimeout(r, 1500));
			}
			try {
				await route.continue();
			} catch {
				/* the page aborted this request: the point of the test */
			}
		});
		const box = page.getByRole('combobox', { name: 'Patient name or phone' });
		await box.pressSequentially('ma');
		await expect.poll(() => slowSeen).toBe(true);
		await box.pressSequentially('r');
		await expect.poll(() => options(page).count()).toBe(3);
		await page.waitForTimeout(2000);
		const shown = await options(page).allInnerTexts();
		expect(shown).toHaveLength(3);
		expect(shown.join(' ')).not.toContain('Mads Olsen');
	});

	it('a doctor’s home finds a patient by name with the date of birth only', async () => {
		const page = await open(doctor, '/doctor', { width: 768, height: 1024 });
		const box = page.getByRole('combobox', { name: 'Patient name' });
		await box.fill('tomas');
		await expect.poll(() => options(page).allInnerTexts()).toEqual([expect.stringMatching(/Tomás Martínez[\s\S]*born/)]);
		expect((await options(page).first().innerText())).not.toContain('+1202');
		await page.screenshot({ path: `${SHOTS}/doctor-768x1024.png` });
	});

	it('the nurse’s arrivals page and the pharmacy find patients too (pharmacy: names only)', async () => {
		const n = await open(nurse, '/nurse', { width: 1024, height: 768 });
		await n.getByRole('combobox', { name: 'Patient name' }).fill('anne');
		await expect.poll(() => options(n).allInnerTexts()).toEqual([expect.stringMatching(/Anne Marshall[\s\S]*born/)]);
		await n.screenshot({ path: `${SHOTS}/nurse-1024x768.png` });
		const p = await open(pharmacist, '/pharmacy', { width: 768, height: 1024 });
		await p.getByRole('combobox', { name: 'Patient name' }).fill('gomez');
		await expect.poll(() => options(p).allInnerTexts()).toEqual([expect.stringContaining('María Gómez')]);
		const text = await options(p).first().innerText();
		expect(text).not.toMatch(/born|\+1202|A\+/);
		await p.screenshot({ path: `${SHOTS}/pharmacy-768x1024.png` });
	});
});

describe('accounts by name or e-mail', () => {
	it('the users page finds an account as you type and Enter opens its panel', async () => {
		const page = await open(admin, '/admin', { width: 1024, height: 768 });
		await page.screenshot({ path: `${SHOTS}/admin-home-1024x768.png` });
		await page.goto('/admin/users');
		const box = page.getByRole('combobox', { name: 'Find an account' });
		await box.fill('marsh');
		await expect.poll(() => options(page).allInnerTexts()).toEqual([expect.stringContaining('Anne Marshall')]);
		await page.screenshot({ path: `${SHOTS}/users-1024x768.png` });
		await box.press('ArrowDown');
		await box.press('Enter');
		await page.locator('#manage-panel').getByText('Anne Marshall').first().waitFor();
	});

	it('the audit log filters by a person chosen by name', async () => {
		const page = await open(superAdmin, '/super-admin', { width: 768, height: 1024 });
		await page.goto('/audit');
		const box = page.getByRole('combobox', { name: 'User' });
		await box.fill('fran');
		await expect.poll(() => options(page).allInnerTexts()).toEqual([expect.stringContaining('Fran Desk')]);
		await box.press('Enter');
		await page.getByTestId('audit-user-chosen').getByText('Fran Desk').waitFor();
		await expect.poll(async () => (await page.getByTestId('audit-count').innerText()).trim()).toMatch(/^Showing \d+ entr/);
		await page.screenshot({ path: `${SHOTS}/audit-768x1024.png`, fullPage: true });
	});
});
