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
	// 45 patients sharing a surname: more than two pages of 20.
	const many = Array.from({ length: 45 }, (_, i) => `Ines Pagewell${String(i + 1).padStart(2, '0')}`);
	for (let i = 0; i < many.length; i += 5) {
		await Promise.all(
			many.slice(i, i + 5).map((name, j) =>
				createUser(app.ctx, systemCaller(), { name, email: `${crypto.randomBytes(4).toString('hex')}@p.test`, role: 'patient', password: TEST_PASSWORD, phone: `+1202555${1100 + i + j}`, dateOfBirth: '1990-01-01', bloodGroup: 'O+' }, { allowSuperAdmin: true })
			)
		);
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

	it('more than 20 matches: “Show more” by keyboard appends the next page, no duplicates, the active option kept in place', async () => {
		const page = await open(desk, '/front-desk', { width: 1024, height: 768 });
		await page.goto('/patients');
		const box = page.getByRole('combobox', { name: 'Patient name or phone' });
		const names = async () => (await options(page).allInnerTexts()).filter((t) => t.includes('Pagewell')).map((t) => t.match(/Ines Pagewell\d+/)![0]);
		const more = page.getByTestId('search-more');
		const status = page.locator('[aria-live="polite"]', { hasText: 'result' }).first();
		await box.fill('pagewell');
		await expect.poll(names, { timeout: 5000 }).toHaveLength(20);
		expect(await more.innerText()).toContain('Show more patients');
		expect(await more.getAttribute('role')).toBe('option');
		await expect.poll(() => status.innerText()).toMatch(/^20 results, more to show/);
		const first = await names();
		// ↑ from the box wraps to the last option: "Show more".
		await box.press('ArrowUp');
		expect(await box.getAttribute('aria-activedescendant')).toBe(await more.getAttribute('id'));
		await box.press('Enter');
		await expect.poll(names).toHaveLength(40);
		const second = await names();
		expect(second.slice(0, 20)).toEqual(first);
		expect(new Set(second).size).toBe(40);
		await expect.poll(() => status.innerText()).toMatch(/^40 results, more to show/);
		// The active option is the first new patient, where "Show more" was.
		const activeId = await box.getAttribute('aria-activedescendant');
		expect(await page.locator(`[id="${activeId}"]`).innerText()).toContain(second[20]!);
		expect(await page.locator(`[id="${activeId}"]`).getAttribute('aria-selected')).toBe('true');
		await page.screenshot({ path: `${SHOTS}/show-more-1024x768.png` });
		await box.press('End');
		await box.press('Enter');
		await expect.poll(names).toHaveLength(45);
		expect(new Set(await names()).size).toBe(45);
		expect(await more.count()).toBe(0);
		await expect.poll(() => status.innerText()).toMatch(/^45 results;/);
		// Enter on a patient from the last page opens their chart.
		await box.press('End');
		const last = (await page.locator(`[id="${await box.getAttribute('aria-activedescendant')}"]`).innerText()).match(/Ines Pagewell\d+/)![0];
		expect(first.concat(second)).not.toContain(last);
		await box.press('Enter');
		await page.waitForURL('**/patients/*');
		await page.getByRole('heading', { name: last }).first().waitFor();
	});

	it('a page still on its way is dropped when the text changes', async () => {
		const page = await open(desk, '/front-desk', { width: 768, height: 1024 });
		await page.goto('/patients');
		await page.route('**/api/patients/search?*', async (route) => {
			if (new URL(route.request().url()).searchParams.has('cursor')) await new Promise((r) => setTimeout(r, 1500));
			try {
				await route.continue();
			} catch {
				/* aborted by the page */
			}
		});
		const box = page.getByRole('combobox', { name: 'Patient name or phone' });
		await box.fill('pagewell');
		await expect.poll(() => options(page).count(), { timeout: 5000 }).toBe(21);
		await page.screenshot({ path: `${SHOTS}/show-more-768x1024.png` });
		await box.press('ArrowUp');
		await box.press('Enter');
		await expect.poll(() => page.getByTestId('search-more').innerText()).toContain('Loading more');
		await box.fill('gomez');
		await expect.poll(() => options(page).allInnerTexts()).toEqual([expect.stringContaining('María Gómez')]);
		await page.waitForTimeout(2000);
		expect(await options(page).allInnerTexts()).toEqual([expect.stringContaining('María Gómez')]);
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
