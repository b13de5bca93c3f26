import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { launchChromium, signIn } from '../fixtures/browser';

/**
 * The integrity rules as the staff meet them, several browsers at once: a nurse triages at
 * check-in and the doctor's queue shows it; a nurse outside care breaks the glass and the super
 * admin sees it live; the doctor is stopped before prescribing against an allergy; a completed
 * record is amended and its original stays readable.
 */
let app: TestApp;
let browser: Browser;
let today: string;
let doctor: TestUser;
let nurse: TestUser;
let outsideNurse: TestUser;
let superAdmin: TestUser;
let desk: TestUser;
let patient: TestUser;
let stranger: TestUser;
const pages: Page[] = [];

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	[nurse, outsideNurse, superAdmin, desk, patient, stranger] = await Promise.all([
		app.userOf('nurse', { name: 'Nora Field' }),
		app.userOf('nurse', { name: 'Otto Night' }),
		app.userOf('super_admin', { name: 'Sam Auditor' }),
		app.userOf('front_desk'),
		app.userOf('patient', { name: 'Penny Lane' }),
		app.userOf('patient', { name: 'Stella Unknown' })
	]);
	browser = await launchChromium();
});

afterAll(async () => {
	for (const p of pages) await p.context().close();
	await browser?.close();
	await app?.close();
});

async function open(user: TestUser, home: string, viewport?: { width: number; height: number }) {
	const page = await signIn(browser, app, user, home, viewport);
	pages.push(page);
	return page;
}

describe('integrity in the browser', () => {
	let appointmentId: string;

	it('an address that does not decode gets a 400 and the server keeps serving', async () => {
		for (const bad of ['/%E0%A4%A', '/login%ZZ', '/patients/%E0%A4']) {
			const r = await fetch(`${app.url}${bad}`, { redirect: 'manual' });
			expect(r.status, bad).toBe(400);
		}
		expect((await fetch(`${app.url}/api/health`)).status).toBe(200);
		expect((await fetch(`${app.url}/login`)).status).toBe(200);
	});

	it('the nurse triages at check-in on the tablet, and the doctor’s open queue shows the priority she chose', async () => {
		const slot = (await freeSlots(desk, doctor.doctorId!, today))[3]!;
		const booked = await desk.api.post('/api/appointments', { doctorId: doctor.doctorId, patientId: patient.patientId, start: slot.start, symptoms: 'chest tightness', reportedUrgency: 'high' });
		expect(booked.status).toBe(201);
		appointmentId = booked.body.appointment.id;
		const queue = await open(doctor, '/doctor', { width: 1280, height: 900 });
		await queue.goto('/doctor/queue');
		await queue.getByTestId('queue-empty').waitFor();
		const tablet = await open(nurse, '/nurse', { width: 768, height: 1024 });
		const row = tablet.getByTestId('arrival').filter({ hasText: 'Penny Lane' });
		await row.getByText('Patient reported high').waitFor();
		await row.getByRole('radio', { name: 'Critical' }).check();
		await row.getByRole('button', { name: /Check in/ }).click();
		const item = queue.getByTestId('queue-item').filter({ hasText: 'Penny Lane' });
		await item.getByText('Critical priority').waitFor({ timeout: 5_000 });
		await tablet.screenshot({ path: 'test-results/integrity/nurse-triage.png', fullPage: true });
	});

	it('a nurse outside care opens a chart only with emergency access; the super admin is told live and the banner shows', async () => {
		const admin = await open(superAdmin, '/super-admin');
		const chart = await open(outsideNurse, '/nurse');
		await chart.goto(`/patients/${stranger.patientId}`);
		await chart.getByTestId('emergency-access').waitFor();
		await chart.getByLabel('Reason for emergency access').fill('short');
		await chart.getByRole('button', { name: 'Open the chart with emergency access' }).click();
		await chart.getByText('at least 10 characters').waitFor();
		await chart.getByLabel('Reason for emergency access').fill('Collapsed in the waiting room, unresponsive');
		await chart.getByRole('button', { name: 'Open the chart with emergency access' }).click();
		await chart.getByTestId('emergency-banner').waitFor();
		await chart.getByTestId('patient-banner').getByText('Stella Unknown').waitFor();
		await chart.screenshot({ path: 'test-results/integrity/emergency-chart.png', fullPage: true });
		// The super admin's bell counts it without a reload.
		const bell = admin.getByRole('button', { name: 'Notifications, 1 unread' });
		await bell.waitFor({ timeout: 5_000 });
		await bell.click();
		await admin.getByText('Emergency access: Otto Night opened Stella Unknown').first().waitFor();
	});

	it('the doctor sees the patient’s allergies, is stopped before prescribing against one, and confirms knowingly', async () => {
		const allergy = await nurse.api.get(`/api/patients/${patient.patientId}`);
		const put = await nurse.api.request('PUT', `/api/patients/${patient.patientId}/allergies`, {
			version: allergy.body.patient.version,
			allergies: [{ substance: 'Penicillin', reaction: 'anaphylaxis', severity: 'life_threatening' }]
		});
		expect(put.status).toBe(200);
		const visit = pages[0]!;
		await visit.getByTestId('queue-item').filter({ hasText: 'Penny Lane' }).getByRole('button', { name: /Start consultation/ }).click();
		await visit.waitForURL(`**/doctor/visit/${appointmentId}`);
		await visit.getByTestId('patient-banner').getByText('Penicillin · Life-threatening').waitFor();
		await visit.getByLabel('Diagnosis').fill('Streptococcal pharyngitis');
		await visit.getByRole('button', { name: 'Add prescription' }).click();
		await visit.getByLabel('Medicine').first().fill('Amoxicillin');
		await visit.getByLabel('Dosage').first().fill('500 mg');
		await visit.getByLabel('Frequency').first().fill('three times a day');
		await visit.getByLabel('Days').first().fill('10');
		await visit.getByRole('button', { name: 'Save', exact: true }).click();
		const warning = visit.getByTestId('allergy-warning');
		await warning.getByText('Amoxicillin').first().waitFor();
		await visit.screenshot({ path: 'test-results/integrity/allergy-warning.png', fullPage: true });
		await warning.getByRole('button', { name: 'Prescribe anyway' }).click();
		await warning.waitFor({ state: 'detached' });
		await visit.getByText(/^Saved at/).waitFor();
	});

	it('after completion the record is closed; an amendment changes it and the previous diagnosis stays readable', async () => {
		const visit = pages[0]!;
		await visit.getByRole('button', { name: 'Complete visit' }).click();
		// Completing closes the record and issues the invoice, so it is confirmed once more.
		await visit.getByTestId('complete-dialog').getByRole('button', { name: 'Complete visit' }).click();
		await visit.getByTestId('visit-completed').waitFor();
		await visit.getByRole('button', { name: 'Amend the record' }).click();
		const form = visit.getByTestId('amendment-form');
		await form.getByLabel('Diagnosis').fill('Infectious mononucleosis');
		await form.getByLabel('Reason for the amendment').fill('Monospot test positive, strep culture negative');
		await form.getByRole('button', { name: 'Save amendment' }).click();
		const record = visit.getByTestId('visit-record');
		await record.getByText('Infectious mononucleosis').first().waitFor();
		const amendment = record.getByTestId('amendment');
		await amendment.getByText('Streptococcal pharyngitis').waitFor();
		await amendment.getByText('Monospot test positive').waitFor();
		await visit.screenshot({ path: 'test-results/integrity/amended-record.png', fullPage: true });
		// The patient sees the amended record with its history too.
		const mine = await patient.api.get(`/api/medical-records?patientId=${patient.patientId}`);
		expect(mine.body.records[0].amendments[0].previous.diagnosis).toBe('Streptococcal pharyngitis');
	});
});
