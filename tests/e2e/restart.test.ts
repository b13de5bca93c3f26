import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { tokenId } from '../../src/lib/server/auth/tokens';
import { deleteSession } from '../../src/lib/server/repositories/sessions';

/**
 * The server restarted under open pages (closed as SIGTERM closes it, a new one on the same
 * port): the doctor's queue says it is not live while the server is away, reconnects by
 * itself, and shows a check-in the nurse makes on her tablet after the restart without a
 * reload. A page whose session ended meanwhile cannot reconnect and says it is offline.
 * The three looks of the connection pill are photographed into test-results/live-states/.
 */
const SHOTS = 'test-results/live-states';

let app: TestApp;
let browser: Browser;
let doctor: TestUser;
let nurse: TestUser;
let patient: TestUser;
let visit: { id: string; version: number };
const contexts: BrowserContext[] = [];
let doctorPage: Page;
let nursePage: Page;
let patientPage: Page;

async function openAs(user: TestUser, viewport: { width: number; height: number }, home: string): Promise<Page> {
	const page = await signIn(browser, app, user, home, viewport);
	contexts.push(page.context());
	return page;
}

const pill = (page: Page) => page.getByTestId('live-status');
const banner = (page: Page) => page.getByTestId('live-banner');

/** How the pill looks right now: its text, colours and whether its dot moves. */
async function pillLook(page: Page) {
	return pill(page).evaluate((el) => {
		const s = getComputedStyle(el);
		const dot = getComputedStyle(el.querySelector('.dot')!);
		return {
			text: el.textContent?.trim(),
			color: s.color,
			background: s.backgroundColor,
			border: s.borderTopColor,
			dotFill: dot.backgroundColor,
			dotAnimated: dot.animationName !== 'none'
		};
	});
}

async function shoot(page: Page, name: string) {
	fs.mkdirSync(SHOTS, { recursive: true });
	await page.screenshot({ path: `${SHOTS}/${name}.png`, clip: { x: 0, y: 0, width: page.viewportSize()!.width, height: 180 } });
}

beforeAll(async () => {
	const tz = morningZone();
	const today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	[nurse, patient] = await Promise.all([app.userOf('nurse', { name: 'Nadia Brook' }), app.userOf('patient', { name: 'Otto Reyes' })]);
	const slot = (await freeSlots(patient, doctor.doctorId!, today))[2];
	if (!slot) throw new Error('no free slot today');
	const r = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slot.start, symptoms: 'chest tightness when climbing stairs' });
	if (r.status !== 201) throw new Error(`booking: ${JSON.stringify(r.body)}`);
	visit = r.body.appointment;

	browser = await launchChromium();
	[doctorPage, nursePage, patientPage] = await Promise.all([
		openAs(doctor, { width: 1280, height: 900 }, '/doctor'),
		openAs(nurse, { width: 768, height: 1024 }, '/nurse'),
		openAs(patient, { width: 1280, height: 900 }, '/patient')
	]);
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('a server restart under open pages', () => {
	it('the doctor’s open queue says it is not live during the restart, reconnects by itself, and shows the nurse’s check-in made after it without a reload', async () => {
		await doctorPage.goto('/doctor/queue');
		await doctorPage.getByTestId('queue-empty').waitFor();
		await patientPage.goto('/patient/appointments');
		await patientPage.locator(`[data-appointment="${visit.id}"]`).waitFor();
		await nursePage.getByRole('button', { name: 'Check in Otto Reyes' }).waitFor();
		for (const page of [doctorPage, nursePage, patientPage]) await pill(page).getByText('Live', { exact: true }).waitFor();
		expect(await banner(doctorPage).count()).toBe(0);
		const live = await pillLook(doctorPage);
		await shoot(doctorPage, 'live');
		// Marks this document: a reload would lose it.
		await doctorPage.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

		// SIGTERM: the server closes; a deploy takes a moment before the new one listens.
		await app.stopServer();
		await pill(doctorPage).getByText('Reconnecting…').waitFor({ timeout: 5_000 });
		const text = await banner(doctorPage).textContent();
		expect(text).toContain('Live updates paused — reconnecting.');
		expect(text).toContain('What you see may be out of date');
		expect(await doctorPage.getByTestId('live-banner-slot').getAttribute('role')).toBe('status');
		const reconnecting = await pillLook(doctorPage);
		await shoot(doctorPage, 'reconnecting');

		// Meanwhile the patient's session ends (idle timeout while the server was away): that
		// page will be refused when it reconnects and must say it is offline, not pretend.
		const cookie = (await patientPage.context().cookies()).find((c) => c.name === 'medtrack_session');
		await deleteSession(app.ctx, tokenId(cookie!.value));
		await doctorPage.waitForTimeout(1_500);
		expect(await pill(doctorPage).textContent()).toContain('Reconnecting…');

		const startedAt = Date.now();
		await app.startServer();
		await Promise.all([doctorPage, nursePage].map((page) => pill(page).getByText('Live', { exact: true }).waitFor({ timeout: 15_000 })));
		const reconnectMs = Date.now() - startedAt;
		await banner(doctorPage).waitFor({ state: 'detached' });
		expect(await pillLook(doctorPage)).toEqual(live);

		const checkIn = nursePage.getByRole('button', { name: 'Check in Otto Reyes' });
		await checkIn.click();
		const tappedAt = Date.now();
		const item = doctorPage.getByTestId('queue-item').filter({ hasText: 'Otto Reyes' });
		await item.waitFor({ timeout: 2_000 });
		const shownMs = Date.now() - tappedAt;
		expect(await doctorPage.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
		console.log(`pages live again ${reconnectMs} ms after the new server listened; check-in on the doctor's queue ${shownMs} ms after the tap`);

		// The patient's page was refused on reconnecting: offline, with a reload offered.
		await pill(patientPage).getByText('Offline').waitFor({ timeout: 15_000 });
		const off = banner(patientPage);
		expect(await off.textContent()).toContain('Live updates are off.');
		expect(await off.getByRole('button', { name: 'Reload page' }).isVisible()).toBe(true);
		const offline = await pillLook(patientPage);
		await shoot(patientPage, 'offline');

		// Three looks, told apart by more than the word.
		expect(new Set([live.background, reconnecting.background, offline.background]).size).toBe(3);
		expect(new Set([live.color, reconnecting.color, offline.color]).size).toBe(3);
		expect([live.dotAnimated, reconnecting.dotAnimated, offline.dotAnimated]).toEqual([false, true, false]);
		expect(offline.dotFill).toBe('rgba(0, 0, 0, 0)');
	});
});
