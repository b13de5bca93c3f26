import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, logIn as signInOn } from '../fixtures/browser';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { loadConfig } from '../../src/lib/server/config';
import { createContext } from '../../src/lib/server/context';
import { sendMessage } from '../../src/lib/server/services/chat';

/**
 * A patient and a doctor chat in two browsers: live messages with delivery and read
 * receipts, a typing indicator, markup shown as text and never run, the doctor's network
 * cut while the patient writes three messages (all arrive once, in order), the patient's
 * own network cut while sending (stored once), and the doctor's bell for a message that
 * came in while they were away from the chat.
 */
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';

let app: TestApp;
let browser: Browser;
let patientContext: BrowserContext;
let doctorContext: BrowserContext;
let p: Page;
let d: Page;
let patient: TestUser;
let doctor: TestUser;
let conversationId = '';
let tz = '';

const path = (page: Page) => new URL(page.url()).pathname;
const texts = (page: Page) => page.getByTestId('chat-messages').getByTestId('message-text').allTextContents();
const countOf = (list: string[], text: string) => list.filter((t) => t === text).length;

async function logIn(page: Page, user: TestUser, home: string) {
	await signInOn(page, user, home);
	await page.getByTestId('live-status').getByText('Live').waitFor();
}

/** Types a message in the composer and sends it with Enter. */
async function write(page: Page, text: string) {
	const input = page.getByTestId('chat-input');
	await input.fill(text);
	await input.press('Enter');
	await expect.poll(() => input.inputValue()).toBe('');
}

/**
 * Waits until the server no longer sees any socket of this user (what decides an in-app
 * notice). Chromium's offline mode closes WebSockets at once as a rule; should a
 * connection linger, the server drops it at the Socket.IO ping timeout (25 s + 20 s).
 */
async function serverSeesOffline(user: TestUser) {
	await expect.poll(() => app.ctx.bus.online(`user:${user.id}`), { timeout: 50_000, interval: 250 }).toBe(false);
}


beforeAll(async () => {
	tz = morningZone();
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz }, { pages: true });
	doctor = await alwaysOpenDoctor(app);
	patient = await app.userOf('patient', { name: 'Ines Okafor' });
	const slots = await freeSlots(patient, doctor.doctorId!, todayInZone(tz));
	const booked = await patient.api.post('/api/appointments', {
		doctorId: doctor.doctorId,
		start: slots[2]!.start,
		symptoms: 'Headaches every morning for a week'
	});
	expect(booked.status, JSON.stringify(booked.body)).toBe(201);

	browser = await launchChromium();
	patientContext = await browser.newContext({ baseURL: app.url, viewport: { width: 1280, height: 900 } });
	doctorContext = await browser.newContext({ baseURL: app.url, viewport: { width: 768, height: 1024 } });
	p = await patientContext.newPage();
	d = await doctorContext.newPage();
	for (const page of [p, d]) page.setDefaultTimeout(15_000);
	for (const page of [p, d]) page.on('pageerror', (e) => console.log('[pageerror]', e.message));
	await Promise.all([logIn(p, patient, '/patient'), logIn(d, doctor, '/doctor')]);
});

afterAll(async () => {
	await browser?.close();
	await app?.close();
});

describe('patient–doctor chat in two browsers', () => {
	it('the patient starts a conversation with the doctor they booked, and the doctor opens it from their list', async () => {
		await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
		await p.waitForURL('**/chat');
		await p.getByTestId('start-conversation').getByRole('button', { name: `Message ${doctor.name}` }).click();
		await p.waitForURL('**/chat/*');
		conversationId = decodeURIComponent(path(p).split('/')[2]!);
		await p.getByRole('heading', { level: 1, name: doctor.name }).waitFor();
		await p.getByText('No messages yet. Say hello.').waitFor();

		await d.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
		await d.waitForURL('**/chat');
		await d.getByTestId('conversation-list').getByRole('link', { name: new RegExp(patient.name) }).click();
		await d.waitForURL(`**/chat/${conversationId}`);
		await d.getByRole('heading', { level: 1, name: patient.name }).waitFor();
	});

	it('messages arrive live; the sender sees "delivered" and then "read"; typing shows on the other side', async () => {
		// Record every receipt state the patient's newest own message goes through.
		await p.evaluate(() => {
			const w = window as unknown as { __statuses: string[] };
			w.__statuses = [];
			new MutationObserver(() => {
				const all = document.querySelectorAll<HTMLElement>('[data-testid="message-status"]');
				const s = all[all.length - 1]?.dataset.status;
				if (s && w.__statuses[w.__statuses.length - 1] !== s) w.__statuses.push(s);
			}).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
		});
		const input = p.getByTestId('chat-input');
		await input.fill('Good morning, doctor.');
		await d.getByTestId('typing').getByText(`${patient.name} is typing…`).waitFor();
		await input.fill('Good morning, doctor. The headaches are back since yesterday.');
		await input.press('Enter');

		const first = 'Good morning, doctor. The headaches are back since yesterday.';
		await d.getByTestId('message-text').getByText(first).waitFor();
		const status = p.getByTestId('message-status').last();
		await expect.poll(() => status.getAttribute('data-status'), { timeout: 10_000 }).toBe('read');
		expect(await status.textContent()).toContain('Read');
		const seen = await p.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
		expect(seen).toContain('delivered');
		expect(seen.indexOf('delivered')).toBeLessThan(seen.indexOf('read'));

		// The doctor answers on two lines (Shift+Enter) and the line break survives.
		const reply = d.getByTestId('chat-input');
		await reply.fill('Thank you, Ines.');
		await reply.press('Shift+Enter');
		await reply.pressSequentially('Please keep a diary of when they start.');
		await reply.press('Enter');
		await expect
			.poll(async () => (await texts(p)).includes('Thank you, Ines.\nPlease keep a diary of when they start.'))
			.toBe(true);
		const doctorStatus = d.getByTestId('message-status').last();
		await expect.poll(() => doctorStatus.getAttribute('data-status'), { timeout: 10_000 }).toBe('read');
	});

	it('markup in a message is shown as literal text and never runs, on both sides', async () => {
		await write(p, XSS);
		await expect.poll(async () => countOf(await texts(d), XSS)).toBe(1);
		expect(countOf(await texts(p), XSS)).toBe(1);
		for (const page of [p, d]) {
			expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
			expect(await page.getByTestId('chat-messages').locator('img, script').count()).toBe(0);
		}
	});

	it("three messages sent while the doctor's connection is cut arrive once each, in order, when it is back", async () => {
		await doctorContext.setOffline(true);
		await d.getByTestId('live-status').getByText('Reconnecting…').waitFor();
		await serverSeesOffline(doctor);

		const three = ['First, while you were away.', 'Second: the pain is on the left side.', 'Third: it is worse in bright light.'];
		for (const text of three) await write(p, text);
		for (const text of three) await p.getByTestId('message-text').getByText(text, { exact: true }).waitFor();
		await p.waitForTimeout(1_500);
		for (const text of three) expect(countOf(await texts(d), text)).toBe(0);

		await doctorContext.setOffline(false);
		await d.getByTestId('live-status').getByText('Live').waitFor({ timeout: 20_000 });
		await expect.poll(async () => countOf(await texts(d), three[2]!), { timeout: 15_000 }).toBe(1);
		// Another moment for any late duplicate to show up.
		await d.waitForTimeout(2_000);
		const shown = await texts(d);
		for (const text of three) expect(countOf(shown, text)).toBe(1);
		const at = three.map((t) => shown.indexOf(t));
		expect(at).toEqual([...at].sort((a, b) => a - b));
		expect(shown.slice(-3)).toEqual(three);
		// The patient's three read receipts come back too.
		await expect.poll(() => p.getByTestId('message-status').last().getAttribute('data-status'), { timeout: 10_000 }).toBe('read');
	});

	it("a message sent while the patient's own connection is cut is kept, sent on reconnect, and stored once", async () => {
		const text = 'Sent while my connection dropped.';
		await patientContext.setOffline(true);
		await p.getByTestId('live-status').getByText('Reconnecting…').waitFor();
		await write(p, text);
		const pending = p.getByTestId('message-pending');
		await pending.waitFor();
		expect(await pending.textContent()).toMatch(/Sending…|Waiting for connection…/);
		await p.waitForTimeout(2_000);
		expect(countOf(await texts(d), text)).toBe(0);

		await patientContext.setOffline(false);
		await expect.poll(async () => countOf(await texts(p), text), { timeout: 20_000 }).toBe(1);
		await expect.poll(async () => countOf(await texts(d), text), { timeout: 15_000 }).toBe(1);
		await p.waitForTimeout(2_000);
		expect(await p.getByTestId('message-pending').count()).toBe(0);
		expect(countOf(await texts(p), text)).toBe(1);
		expect(countOf(await texts(d), text)).toBe(1);
		const stored = await patient.api.get(`/api/conversations/${conversationId}/messages`);
		expect(stored.body.messages.filter((m: { text: string }) => m.text === text)).toHaveLength(1);
	});

	it("the doctor's bell shows a message that arrived while they were away from the chat, and leads to it", async () => {
		// Reading the conversation cleared any notices about it.
		await expect.poll(() => d.getByTestId('notification-count').count(), { timeout: 10_000 }).toBe(0);
		await d.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
		await d.waitForURL('**/doctor');

		await doctorContext.setOffline(true);
		await serverSeesOffline(doctor);
		const text = 'Are you there? I have a question about the diary.';
		await p.getByTestId('chat-input').waitFor();
		await write(p, text);
		await p.getByTestId('message-text').getByText(text).waitFor();
		await doctorContext.setOffline(false);

		const count = d.getByTestId('notification-count');
		await expect.poll(() => count.textContent(), { timeout: 20_000 }).toBe('1');
		const bell = d.getByTestId('notification-bell');
		expect(await bell.getAttribute('aria-label')).toBe('Notifications, 1 unread');

		await bell.click();
		expect(await bell.getAttribute('aria-expanded')).toBe('true');
		const panel = d.getByTestId('notification-panel');
		const item = panel.getByTestId('notification-item').first();
		await item.getByText(`New message from ${patient.name}`).waitFor();
		expect(await item.textContent()).toContain(text);
		// Escape closes the panel and gives focus back to the bell.
		await d.keyboard.press('Escape');
		expect(await bell.getAttribute('aria-expanded')).toBe('false');
		expect(await d.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('notification-bell');

		await bell.click();
		// The newest, unread one is first; the earlier ones were read in the chat.
		await panel.getByTestId('notification-item').first().getByRole('link', { name: `New message from ${patient.name}` }).click();
		await d.waitForURL(`**/chat/${conversationId}`);
		await d.getByTestId('message-text').getByText(text).waitFor();
		await expect.poll(() => count.count(), { timeout: 10_000 }).toBe(0);
		expect(await d.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
	});

	it('older history loads 50 at a time as the doctor scrolls up, and what was on screen stays in place', async () => {
		const other = await app.userOf('patient', { name: 'Bruno Lang' });
		const slots = await freeSlots(other, doctor.doctorId!, todayInZone(tz));
		expect((await other.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slots[5]!.start, symptoms: 'Blood pressure follow-up' })).status).toBe(201);
		const opened = await other.api.post('/api/conversations', { doctorId: doctor.doctorId });
		const id = opened.body.conversation.id as string;
		// 120 messages would take a minute under the 20-per-10-s limit: the same service, allowed more.
		const roomy = createContext(
			loadConfig({ NODE_ENV: 'test', DYNAMODB_ENDPOINT: inject('dynamoEndpoint'), TABLE_PREFIX: app.ctx.config.tablePrefix, AUDIT_IP_KEY: 'test-audit-ip-key-0123456789', LOG_LEVEL: 'silent', CHAT_RATE_LIMIT: '1000' })
		);
		const caller = { actor: { id: other.id, email: other.email, name: other.name, role: other.role, patientId: other.patientId }, requestId: 'e2e-history', ip: '127.0.0.1' };
		try {
			for (let i = 0; i < 120; i++) await sendMessage(roomy, caller, id, { clientId: crypto.randomUUID(), text: `Reading ${i}` });
		} finally {
			roomy.db.raw.destroy();
		}

		await d.goto(`/chat/${id}`);
		await d.getByTestId('message-text').getByText('Reading 119', { exact: true }).waitFor();
		expect(await texts(d)).toEqual(Array.from({ length: 50 }, (_, i) => `Reading ${70 + i}`));

		const scroller = d.getByTestId('chat-messages');
		const topOf = (text: string) =>
			d.getByTestId('message-text').getByText(text, { exact: true }).evaluate((el) => Math.round(el.getBoundingClientRect().top));
		for (const [oldest, expected] of [['Reading 70', 100], ['Reading 20', 120]] as const) {
			await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
			const before = await topOf(oldest);
			await expect.poll(async () => (await texts(d)).length).toBe(expected);
			// The message that was at the top is still where it was: the older ones went above it.
			expect(Math.abs((await topOf(oldest)) - before)).toBeLessThanOrEqual(2);
			expect(await scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
		}
		expect(await texts(d)).toEqual(Array.from({ length: 120 }, (_, i) => `Reading ${i}`));
		await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
		await d.getByText('This is the beginning of your conversation.').waitFor();
	});
});
