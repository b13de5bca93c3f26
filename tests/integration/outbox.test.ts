import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { startLocalSns, type LocalSns } from '../fixtures/sns';
import { auditEntries, getItem } from './helpers';
import { outboxPut, type OutboxMessage } from '../../src/lib/server/services/outbox';
import { deliverDue } from '../../src/lib/server/services/delivery';
import { loadConfig } from '../../src/lib/server/config';
import { createContext } from '../../src/lib/server/context';

/**
 * Outbox delivery with the real @aws-sdk/client-sns, over HTTP, against an SNS-compatible
 * endpoint this file starts on the loopback interface. Time is passed in (`now`), so
 * backoff is checked without waiting for it.
 */
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:medtrack-notifications';
let sns: LocalSns;
let app: TestApp;
let patient: TestUser;
let admin: TestUser;
let nurse: TestUser;

beforeAll(async () => {
	sns = await startLocalSns();
	app = await startTestApp({ SNS_TOPIC_ARN: TOPIC, SNS_ENDPOINT: sns.endpoint, OUTBOX_MAX_ATTEMPTS: '3', OUTBOX_BACKOFF_SECONDS: '30' });
	[patient, admin, nurse] = await Promise.all([app.userOf('patient'), app.userOf('admin'), app.userOf('nurse')]);
});
afterAll(async () => {
	await app?.close();
	await sns?.close();
});

let seq = 0;
async function queue(msg: Partial<OutboxMessage> = {}): Promise<string> {
	const put = outboxPut(app.ctx, { kind: 'test', channel: 'sms', userId: patient.id, body: `MedTrack test message ${++seq}`, ...msg });
	await app.ctx.db.doc.send(new PutCommand(put.Put));
	return put.Put.Item.id;
}
const row = async (id: string) => (await getItem(app, 'outbox', { id }))!;
/** The file's clock for deliverDue: ten minutes ahead, so every queued row is due at at(0). */
const T0 = Date.now() + 600_000;
const at = (s: number) => T0 + s * 1000;

describe('publishing through SNS', () => {
	it("an SMS goes to the user's current phone and an e-mail to the topic with filterable attributes", async () => {
		// The number changed after the message was queued: the current one is used.
		await app.ctx.db.doc.send(
			new UpdateCommand({ TableName: app.ctx.db.tables.users, Key: { id: patient.id }, UpdateExpression: 'SET phone = :p', ExpressionAttributeValues: { ':p': '+12025554321' } })
		);
		const smsId = await queue({ kind: 'appointment_confirmed', relatedId: 'appt-1', body: 'MedTrack: your appointment is confirmed.' });
		const emailId = await queue({ kind: 'appointment_reminder', channel: 'email', subject: 'Appointment tomorrow', body: 'Reminder: Dr Grey at 09:00.' });
		const before = sns.published.length;
		const report = await deliverDue(app.ctx, { now: at(0) });
		expect(report.sent).toBeGreaterThanOrEqual(2);
		const published = sns.published.slice(before);
		const sms = published.find((p) => p.phoneNumber);
		const email = published.find((p) => p.topicArn);
		expect(sms).toMatchObject({ phoneNumber: '+12025554321', message: 'MedTrack: your appointment is confirmed.' });
		expect(sms!.attributes['AWS.SNS.SMS.SMSType']).toBe('Transactional');
		expect(email).toMatchObject({ topicArn: TOPIC, subject: 'Appointment tomorrow', message: 'Reminder: Dr Grey at 09:00.' });
		expect(email!.attributes).toMatchObject({ kind: 'appointment_reminder', channel: 'email', user_id: patient.id, email: patient.email, outbox_id: emailId });
		expect(await row(smsId)).toMatchObject({ status: 'sent', attempts: 1, sns_message_id: sms!.messageId, delivered_to: '+12025554321' });
		expect(await row(emailId)).toMatchObject({ status: 'sent', attempts: 1, sns_message_id: email!.messageId });
		// A sent row is never published again.
		await deliverDue(app.ctx, { now: at(10_000) });
		expect(sns.published.filter((p) => p.messageId === sms!.messageId || p.message === sms!.message)).toHaveLength(1);
	});

	it('a user who turned e-mail off gets no e-mail: the row is skipped, visibly', async () => {
		await app.ctx.db.doc.send(
			new UpdateCommand({ TableName: app.ctx.db.tables.users, Key: { id: patient.id }, UpdateExpression: 'SET notify_email = :f', ExpressionAttributeValues: { ':f': false } })
		);
		const id = await queue({ channel: 'email', subject: 'x' });
		const before = sns.calls;
		await deliverDue(app.ctx, { now: at(1) });
		expect(await row(id)).toMatchObject({ status: 'skipped' });
		expect(sns.calls).toBe(before);
		await app.ctx.db.doc.send(
			new UpdateCommand({ TableName: app.ctx.db.tables.users, Key: { id: patient.id }, UpdateExpression: 'SET notify_email = :t', ExpressionAttributeValues: { ':t': true } })
		);
	});
});

describe('FIFO topics', () => {
	it('an e-mail to a .fifo topic carries the outbox id as its deduplication id', async () => {
		const fifo = `${TOPIC}.fifo`;
		const ctx = createContext(
			loadConfig({ NODE_ENV: 'test', DYNAMODB_ENDPOINT: inject('dynamoEndpoint'), TABLE_PREFIX: app.ctx.config.tablePrefix, AUDIT_IP_KEY: 'test-audit-ip-key-0123456789', LOG_LEVEL: 'silent', SNS_TOPIC_ARN: fifo, SNS_ENDPOINT: sns.endpoint })
		);
		try {
			const id = await queue({ channel: 'email', subject: 'FIFO', body: 'MedTrack: exactly once on FIFO' });
			await deliverDue(ctx, { now: at(50) });
			const p = sns.published.find((x) => x.message === 'MedTrack: exactly once on FIFO');
			expect(p).toMatchObject({ topicArn: fifo, messageDeduplicationId: id });
		} finally {
			ctx.db.raw.destroy();
		}
	});
});

describe('retries', () => {
	it('a 500 from SNS leads to a retry after a backoff that doubles, then to success', async () => {
		const id = await queue({ body: 'MedTrack: retry me' });
		sns.failNext(2);
		await deliverDue(app.ctx, { now: at(100) });
		const first = await row(id);
		expect(first).toMatchObject({ status: 'pending', attempts: 1 });
		expect(first.last_error).toMatch(/HTTP 500/);
		expect(Date.parse(first.next_attempt_at) - at(100)).toBe(30_000);

		// Not due yet: nothing happens.
		const calls = sns.calls;
		await deliverDue(app.ctx, { now: at(120) });
		expect(sns.calls).toBe(calls);

		await deliverDue(app.ctx, { now: at(131) });
		const second = await row(id);
		expect(second).toMatchObject({ status: 'pending', attempts: 2 });
		expect(Date.parse(second.next_attempt_at) - at(131)).toBe(60_000);

		await deliverDue(app.ctx, { now: at(192) });
		expect(await row(id)).toMatchObject({ status: 'sent', attempts: 3 });
		expect(sns.published.filter((p) => p.message === 'MedTrack: retry me')).toHaveLength(1);
	});

	it('after the maximum attempts a message is dead; an admin sees it and a retry sends it', async () => {
		const id = await queue({ kind: 'appointment_cancelled', relatedId: 'appt-42', body: 'MedTrack: dead letter' });
		sns.failAlways(true);
		for (const s of [300, 331, 392]) await deliverDue(app.ctx, { now: at(s) });
		sns.failAlways(false);
		expect(await row(id)).toMatchObject({ status: 'dead', attempts: 3 });

		expect((await nurse.api.get('/api/admin/outbox?status=dead')).status).toBe(403);
		const list = await admin.api.get('/api/admin/outbox?status=dead');
		expect(list.status).toBe(200);
		const entry = list.body.items.find((e: { id: string }) => e.id === id);
		expect(entry).toMatchObject({
			kind: 'appointment_cancelled',
			channel: 'sms',
			recipient: '+1•••••4321',
			relatedId: 'appt-42',
			status: 'dead',
			attempts: 3,
			body: 'MedTrack: dead letter'
		});
		expect(entry.lastError).toMatch(/HTTP 500/);
		expect(JSON.stringify(list.body)).not.toContain('+12025554321');

		expect((await nurse.api.post(`/api/admin/outbox/${id}/retry`)).status).toBe(403);
		const retried = await admin.api.post(`/api/admin/outbox/${id}/retry`);
		expect(retried.status).toBe(200);
		expect(retried.body.entry).toMatchObject({ status: 'pending', attempts: 0 });
		expect((await admin.api.post(`/api/admin/outbox/${id}/retry`)).status).toBe(409);
		expect((await auditEntries(app, (e) => e.action === 'outbox_retry' && e.resource_id === id && e.user_id === admin.id))).toHaveLength(1);

		await deliverDue(app.ctx, { now: at(400) });
		expect(await row(id)).toMatchObject({ status: 'sent', attempts: 1 });
	});

	it('a row left sending by a crashed worker is retried with the same id after its lease; one still leased is left alone', async () => {
		const crashed = await queue({ body: 'MedTrack: crashed mid-send' });
		const busy = await queue({ body: 'MedTrack: another worker has it' });
		const claim = (id: string, leaseUntil: number) =>
			app.ctx.db.doc.send(
				new UpdateCommand({
					TableName: app.ctx.db.tables.outbox,
					Key: { id },
					UpdateExpression: 'SET #s = :sending, attempts = :one, claimed_by = :w, lease_until = :l',
					ExpressionAttributeNames: { '#s': 'status' },
					ExpressionAttributeValues: { ':sending': 'sending', ':one': 1, ':w': 'host:999:dead', ':l': new Date(leaseUntil).toISOString() }
				})
			);
		await claim(crashed, at(500));
		await claim(busy, at(10_000));
		await deliverDue(app.ctx, { now: at(501) });
		expect(await row(crashed)).toMatchObject({ id: crashed, status: 'sent', attempts: 2 });
		expect(await row(busy)).toMatchObject({ status: 'sending', claimed_by: 'host:999:dead' });
	});

	it('two workers delivering at once publish each message exactly once', async () => {
		const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => queue({ body: `MedTrack: race ${i}` })));
		const before = sns.published.length;
		const [a, b] = await Promise.all([deliverDue(app.ctx, { now: at(600), workerId: 'w-a' }), deliverDue(app.ctx, { now: at(600), workerId: 'w-b' })]);
		expect(a.sent + b.sent).toBe(30);
		const bodies = sns.published.slice(before).map((p) => p.message).filter((m) => m.startsWith('MedTrack: race '));
		expect(bodies).toHaveLength(30);
		expect(new Set(bodies).size).toBe(30);
		for (const id of ids) expect((await row(id)).status).toBe('sent');
	});
});

describe('without SNS_TOPIC_ARN', () => {
	it('rows become logged, and the admin outbox shows each one as it would have been sent (one-time links hidden)', async () => {
		// A second context on the same tables, configured without SNS: the "outbox only" transport.
		const ctx = createContext(
			loadConfig({
				NODE_ENV: 'test',
				DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
				TABLE_PREFIX: app.ctx.config.tablePrefix,
				AUDIT_IP_KEY: 'test-audit-ip-key-0123456789',
				LOG_LEVEL: 'silent'
			})
		);
		try {
			const id = await queue({ kind: 'password_reset', channel: 'email', subject: 'Reset your password', body: 'Reset: https://medtrack.example/reset-password?token=abcdefgh234567' });
			const before = sns.calls;
			const report = await deliverDue(ctx, { now: at(700) });
			expect(report.logged).toBeGreaterThanOrEqual(1);
			expect(sns.calls).toBe(before);
			expect(await row(id)).toMatchObject({ status: 'logged', delivered_to: patient.email });
			const list = await admin.api.get('/api/admin/outbox?status=logged');
			const entry = list.body.items.find((e: { id: string }) => e.id === id);
			expect(entry).toMatchObject({ kind: 'password_reset', channel: 'email', status: 'logged', subject: 'Reset your password' });
			expect(entry.recipient).toMatch(/^p•••@test\.medtrack$/);
			expect(entry.body).toBe('Reset: https://medtrack.example/reset-password?token=•••');
			// Without a status filter: the newest of every status.
			const all = await admin.api.get('/api/admin/outbox');
			expect(all.body.items.some((e: { id: string }) => e.id === id)).toBe(true);
		} finally {
			ctx.db.raw.destroy();
		}
	});
});
