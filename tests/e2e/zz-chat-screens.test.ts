// TEMPORARY: screenshots of the chat, notification and outbox pages for a visual review (deleted afterwards).
import { afterAll, beforeAll, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { deliverDue } from '../../src/lib/server/services/delivery';
import { scanAll } from '../integration/helpers';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let app: TestApp;
let browser: Browser;
let doctor: TestUser, patient: TestUser, patient2: TestUser, admin: TestUser;
let conversationId = '';

beforeAll(async () => {
	const tz = morningZone();
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	patient = await app.userOf('patient', { name: 'Ines Okafor' });
	patient2 = await app.userOf('patient', { name: 'Bruno Lang' });
	admin = await app.userOf('admin', { name: 'Ada Admin' });
	const slots = await freeSlots(patient, doctor.doctorId!, todayInZone(tz));
	await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[2]!.start, symptoms: 'Headaches every morning' });
	await patient2.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[4]!.start, symptoms: 'Follow-up on blood pressure' });
	const c = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
	conversationId = c.body.conversation.id;
	const c2 = await patient2.api.post('/api/conversations', { doctorId: doctor.doctorId });
	const say = (u: TestUser, id: string, text: string) => u.api.post(`/api/conversations/${id}/messages`, { clientId: crypto.randomUUID(), text });
	await say(patient2, c2.body.conversation.id, 'Hello doctor, my readings this week were 135/85 on average.');
	const lines: [TestUser, string][] = [
		[patient, 'Good morning, doctor. The headaches are back since yesterday.'],
		[doctor, 'Thank you, Ines.\nPlease keep a diary of when they start and how long they last.'],
		[patient, 'Will do. Should I keep taking the paracetamol?'],
		[doctor, 'Yes, up to 1 g every 6 hours, no more than 4 g a day.'],
		[patient, '<img src=x onerror="window.__xss=1"> is what the form showed me, odd.'],
		[patient, 'Also: the pain is on the left side, behind the eye, and it is worse in bright light. I have noticed it mostly after long shifts at the computer, which is a lot of my week at the moment.']
	];
	for (const [u, t] of lines) await say(u, conversationId, t);
	// Outbox rows: the doctor was offline, so the first message queued an SMS; make it and a few more visible in every state.
	await deliverDue(app.ctx, { publisher: null });
	await say(patient2, c2.body.conversation.id, 'One more thing: can I come in earlier?');
	const rows = await scanAll(app, 'outbox');
	for (const r of rows.slice(0, 1)) {
		await app.ctx.db.doc.send(
			new UpdateCommand({
				TableName: app.ctx.db.tables.outbox,
				Key: { id: r.id },
				UpdateExpression: 'SET #s = :dead, attempts = :n, last_error = :e',
				ExpressionAttributeNames: { '#s': 'status' },
				ExpressionAttributeValues: { ':dead': 'dead', ':n': 5, ':e': 'InternalErrorException (HTTP 500): Internal Error' }
			})
		);
	}
	browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

async function loggedIn(user: TestUser, home: string, width: number): Promise<Page> {
	const ctx = await browser.newContext({ baseURL: app.url, viewport: { width, height: width === 768 ? 1024 : 860 } });
	const page = await ctx.newPage();
	await page.goto('/login');
	await page.getByLabel('E-mail').fill(user.email);
	await page.getByLabel('Password').fill(TEST_PASSWORD);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL(`**${home}`);
	return page;
}

it('screens', async () => {
	for (const width of [1280, 768]) {
		const p = await loggedIn(patient, '/patient', width);
		await p.goto(`/chat/${conversationId}`);
		await p.getByTestId('message-text').first().waitFor();
		await p.getByTestId('chat-input').fill('I will send the diary on Friday.');
		await p.waitForTimeout(600);
		await p.screenshot({ path: `screenshots/chat-${width}.png` });
		await p.goto('/chat');
		await p.getByTestId('conversation').first().waitFor();
		await p.waitForTimeout(300);
		await p.screenshot({ path: `screenshots/chat-list-${width}.png`, fullPage: true });

		const d = await loggedIn(doctor, '/doctor', width);
		await d.getByTestId('notification-count').waitFor();
		await d.getByTestId('notification-bell').click();
		await d.getByTestId('notification-item').first().waitFor();
		await d.waitForTimeout(300);
		await d.screenshot({ path: `screenshots/notifications-panel-${width}.png` });
		await d.keyboard.press('Escape');
		await d.goto('/notifications');
		await d.getByTestId('notification-list').getByText('New message from', { exact: false }).first().waitFor();
		await d.screenshot({ path: `screenshots/notifications-${width}.png`, fullPage: true });
		await d.goto('/chat');
		await d.getByTestId('conversation').first().waitFor();
		await d.waitForTimeout(300);
		await d.screenshot({ path: `screenshots/chat-list-doctor-${width}.png`, fullPage: true });

		const a = await loggedIn(admin, '/admin', width);
		await a.goto('/admin/outbox');
		await a.getByTestId('outbox-row').first().waitFor();
		await a.screenshot({ path: `screenshots/outbox-${width}.png`, fullPage: true });
		if (width === 1280) {
			await a.getByRole('button', { name: /^Retry/ }).first().click();
			await a.getByTestId('retry-result').waitFor();
			await a.screenshot({ path: `screenshots/outbox-retried-${width}.png`, fullPage: true });
		}
		for (const page of [p, d, a]) await page.context().close();
	}
});
