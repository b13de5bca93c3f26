import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { rebuildAnalytics } from '../../src/lib/server/services/analytics';
import { addDays } from '../../src/lib/shared/time';

/**
 * The admin's open analytics dashboard redraws within a second when a doctor completes a visit
 * in another browser context; the doctor's own dashboard shows the visit as completed. With
 * SHOTS_DIR set, it also saves both dashboards at 1024x768 and 768x1024.
 */
let app: TestApp;
let browser: Browser;
let today: string;
let doctor: TestUser;
let nurse: TestUser;
let admin: TestUser;
let visit: { id: string; version: number };
const shots = process.env.SHOTS_DIR;

async function shoot(page: Page, name: string) {
	if (!shots) return;
	fs.mkdirSync(shots, { recursive: true });
	for (const [w, h] of [
		[1024, 768],
		[768, 1024]
	] as const) {
		await page.setViewportSize({ width: w, height: h });
		await page.waitForTimeout(300);
		await page.screenshot({ path: path.join(shots, `${name}-${w}x${h}.png`), fullPage: true });
	}
	await page.setViewportSize({ width: 1280, height: 900 });
}

const SYMPTOMS = ['High fever', 'fever and cough', 'dry cough', 'chest pain', 'headache', 'itchy rash', 'back pain', 'annual check-up'];

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app, { name: 'Dana Analytic' });
	[nurse, admin] = await Promise.all([app.userOf('nurse'), app.userOf('admin')]);
	const patients = await Promise.all(Array.from({ length: 8 }, (_, i) => app.userOf('patient', { name: `Patient Number ${i + 1}` })));
	// Two weeks of earlier visits written straight to the table, then counted by the rebuild job.
	for (let day = 13; day >= 1; day--) {
		const date = addDays(today, -day);
		for (let i = 0; i < 2 + ((day * 7) % 5); i++) {
			const status = i % 4 === 3 ? 'CANCELLED' : 'COMPLETED';
			const start = `${date}T0${(i % 9) + 1}:00:00.000Z`;
			await app.ctx.db.doc.send(
				new PutCommand({
					TableName: app.ctx.db.tables.appointments,
					Item: {
						id: crypto.randomUUID(), patient_id: patients[i % 8]!.patientId, patient_name: `Patient Number ${(i % 8) + 1}`, doctor_id: doctor.doctorId, doctor_name: doctor.name,
						doctor_user_id: doctor.id, specialization: 'Cardiology', date, start, end: start, status, priority: 'normal',
						symptoms: SYMPTOMS[(i + (day < 7 ? 0 : 3)) % SYMPTOMS.length], version: 1,
						...(status === 'COMPLETED' ? { consultation_started_at: start, completed_at: new Date(Date.parse(start) + 14 * 60_000).toISOString() } : {})
					}
				})
			);
			if (status === 'COMPLETED') {
				await app.ctx.db.doc.send(new PutCommand({ TableName: app.ctx.db.tables.invoices, Item: { id: `inv_${crypto.randomUUID()}`, date, total_cents: 5000, patient_id: patients[i % 8]!.patientId } }));
			}
		}
	}
	await rebuildAnalytics({ ...app.ctx, db: app.setup });
	await admin.api.post('/api/hospitals', {
		name: 'Riverside General', latitude: 51.5, longitude: -0.12, departments: ['Emergency'],
		resources: { general_beds: { total: 40 }, icu_beds: { total: 6 }, ventilators: { total: 4 } }
	});
	// Today: a few bookings through the API, and one visit in consultation.
	const slots = await freeSlots(admin, doctor.doctorId!, today);
	const desk = await app.userOf('front_desk');
	for (let i = 0; i < 4; i++) {
		const r = await desk.api.post('/api/appointments', { doctorId: doctor.doctorId, patientId: patients[i]!.patientId, start: slots[i + 1]!.start, symptoms: SYMPTOMS[i]! });
		if (r.status !== 201) throw new Error(JSON.stringify(r.body));
		if (i === 0) visit = r.body.appointment;
	}
	let r = await nurse.api.patch(`/api/appointments/${visit.id}`, { version: visit.version, status: 'CHECKED_IN', priority: 'normal' });
	r = await doctor.api.patch(`/api/appointments/${visit.id}`, { version: r.body.appointment.version, status: 'CONSULTING' });
	if (r.status !== 200) throw new Error(JSON.stringify(r.body));
	browser = await launchChromium();
}, 180_000);

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('live analytics dashboards', () => {
	it('the admin’s open dashboard redraws within 1 s when the doctor completes a visit in another context', async () => {
		const [adminPage, doctorPage] = await Promise.all([signIn(browser, app, admin, '/admin'), signIn(browser, app, doctor, '/doctor')]);
		await adminPage.goto('/admin/analytics');
		const completed = adminPage.getByTestId('completed-total');
		await completed.waitFor();
		await adminPage.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
		const before = Number(await completed.textContent());
		const todayTotal = adminPage.getByTestId(`day-total-${today}`);
		expect(Number(await todayTotal.textContent())).toBe(4);
		await shoot(adminPage, 'admin-analytics');
		// Symptom trends: a rising category says so in its own row (an arrow and the word), the box above is one line.
		const rows = adminPage.getByTestId('card-symptoms').locator('ul.trends > li');
		const risingRows = [];
		for (const row of await rows.all()) {
			const flagged = (await row.getAttribute('data-rising')) !== null;
			expect(/\brising\b/.test(await row.innerText())).toBe(flagged);
			if (flagged) risingRows.push(row);
		}
		const summary = adminPage.getByTestId('rising-summary');
		if (risingRows.length) {
			expect(await summary.innerText()).toMatch(/rising[;:] /);
			expect(await adminPage.getByTestId('card-symptoms').locator('[role="alert"] li, .alert li').count()).toBe(0);
		} else expect(await summary.count()).toBe(0);

		await doctorPage.getByTestId('today-completed').waitFor();
		expect(await doctorPage.getByTestId('today-completed').textContent()).toBe('0');
		await shoot(doctorPage, 'doctor-dashboard');
		await doctorPage.goto(`/doctor/visit/${visit.id}`);
		await doctorPage.getByRole('button', { name: 'Complete visit' }).click();
		const confirm = doctorPage.getByTestId('complete-dialog').getByRole('button', { name: 'Complete visit' });
		await confirm.waitFor();

		const t0 = Date.now();
		await confirm.click();
		await adminPage.waitForFunction(
			(n) => Number(document.querySelector('[data-testid="completed-total"]')?.textContent) === n,
			before + 1,
			{ timeout: 1_000, polling: 20 }
		);
		const ms = Date.now() - t0;
		console.log(`admin dashboard redrew ${ms} ms after the doctor confirmed "Complete visit" in another context`);
		expect(ms).toBeLessThan(1_000);

		await doctorPage.getByTestId('visit-completed').waitFor();
		await doctorPage.goto('/doctor');
		await expect.poll(async () => doctorPage.getByTestId('today-completed').textContent(), { timeout: 3_000 }).toBe('1');
		expect(await doctorPage.getByTestId('served-week').textContent()).not.toBe('0');
		await shoot(adminPage, 'admin-analytics-after');

		// The drill-down behind a figure: yesterday's completed visits, from the table's link.
		const yesterday = addDays(today, -1);
		await adminPage.getByText('Show the appointments as a table').click();
		const link = adminPage.locator(`tr[data-day="${yesterday}"] td[data-status="COMPLETED"] a`);
		const count = Number(await link.textContent());
		await link.click();
		await adminPage.waitForURL(`**/admin/analytics/appointments?status=COMPLETED&date=${yesterday}`);
		await expect.poll(() => adminPage.getByTestId('drill-down').locator('tbody tr').count()).toBe(count);
		await shoot(adminPage, 'drill-down');
	}, 60_000);
});
