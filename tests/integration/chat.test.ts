import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { io, type Socket } from 'socket.io-client';
import { startTestApp, type ApiResponse, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, getItem, putAppointment, scanAll, sleep } from './helpers';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/realtime';
import type { ChatMessageView } from '../../src/lib/shared/chat';
import type { Caller } from '../../src/lib/server/actor';
import { loadConfig } from '../../src/lib/server/config';
import { createContext } from '../../src/lib/server/context';
import { sendMessage } from '../../src/lib/server/services/chat';

/**
 * Patient–doctor chat against the real server and DynamoDB Local: who may talk, what is
 * stored, paging, receipts over Socket.IO, idempotent resends, limits, and what an offline
 * recipient gets. Rate limit: the app runs the default 20 messages / 10 s.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let app: TestApp;
const open: ClientSocket[] = [];

beforeAll(async () => {
	app = await startTestApp();
});
afterEach(() => {
	for (const s of open.splice(0)) s.close();
});
afterAll(async () => app?.close());

const uuid = () => crypto.randomUUID();
const callerOf = (u: TestUser): Caller => ({
	actor: { id: u.id, email: u.email, name: u.name, role: u.role, patientId: u.patientId, doctorId: u.doctorId },
	requestId: `test-${uuid()}`,
	ip: '127.0.0.1'
});

function socketOf(user: TestUser): Promise<ClientSocket> {
	const s: ClientSocket = io(app.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: user.token } });
	open.push(s);
	return new Promise((resolve, reject) => {
		s.once('connect', () => resolve(s));
		s.once('connect_error', reject);
	});
}

function next<E extends keyof ServerToClientEvents>(s: ClientSocket, event: E, ms = 5_000): Promise<Parameters<ServerToClientEvents[E]>[0]> {
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
		s.once(event as 'chat:message', ((payload: unknown) => {
			clearTimeout(t);
			resolve(payload as Parameters<ServerToClientEvents[E]>[0]);
		}) as never);
	});
}

/** A patient and a doctor with an appointment between them, and their conversation. */
async function pair(): Promise<{ patient: TestUser; doctor: TestUser; conversationId: string }> {
	const [patient, doctor] = await Promise.all([app.userOf('patient'), app.userOf('doctor')]);
	await putAppointment(app, { patientId: patient.patientId!, doctorId: doctor.doctorId!, status: 'COMPLETED' });
	const r = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return { patient, doctor, conversationId: r.body.conversation.id };
}

const send = (user: TestUser, conversationId: string, text: string, clientId = uuid()) =>
	user.api.post(`/api/conversations/${conversationId}/messages`, { clientId, text });

async function allMessages(conversationId: string) {
	const res = await app.ctx.db.doc.send(
		new QueryCommand({
			TableName: app.ctx.db.tables.chat_messages,
			KeyConditionExpression: 'conversation_id = :c',
			ExpressionAttributeValues: { ':c': conversationId },
			ConsistentRead: true
		})
	);
	return res.Items ?? [];
}

describe('who may chat', () => {
	it('a patient can open a conversation only with a doctor they have an appointment with; both sides get the same one', async () => {
		const [patient, doctor, stranger] = await Promise.all([app.userOf('patient'), app.userOf('doctor'), app.userOf('doctor')]);
		const refused = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
		expect(refused.status).toBe(403);
		expect(refused.body.error.code).toBe('FORBIDDEN');

		await putAppointment(app, { patientId: patient.patientId!, doctorId: doctor.doctorId! });
		const created = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
		expect(created.status).toBe(201);
		expect(created.body.conversation).toMatchObject({ you: 'patient', withName: doctor.name, unread: 0, lastMessageAt: null });
		const again = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
		expect(again.status).toBe(200);
		const fromDoctor = await doctor.api.post('/api/conversations', { patientId: patient.patientId });
		expect(fromDoctor.status).toBe(200);
		expect(new Set([created.body.conversation.id, again.body.conversation.id, fromDoctor.body.conversation.id]).size).toBe(1);
		expect(fromDoctor.body.conversation.you).toBe('doctor');

		// Another doctor has no appointment with this patient.
		expect((await stranger.api.post('/api/conversations', { patientId: patient.patientId })).status).toBe(403);
		// Each side lists it.
		expect((await patient.api.get('/api/conversations')).body.conversations.map((c: { id: string }) => c.id)).toEqual([created.body.conversation.id]);
		expect((await doctor.api.get('/api/conversations')).body.conversations.map((c: { id: string }) => c.id)).toEqual([created.body.conversation.id]);
		// The refusal was audited.
		const denials = await auditEntries(app, (e) => e.user_id === patient.id && e.outcome === 'denied' && e.resource_type === 'chat');
		expect(denials.length).toBeGreaterThanOrEqual(1);
	});

	it('a patient names a doctor, a doctor names a patient (400 otherwise)', async () => {
		const { patient, doctor } = await pair();
		expect((await patient.api.post('/api/conversations', { patientId: patient.patientId })).status).toBe(400);
		expect((await doctor.api.post('/api/conversations', { doctorId: doctor.doctorId })).status).toBe(400);
		expect((await patient.api.post('/api/conversations', {})).status).toBe(400);
	});

	it('nurses, front desk and admins have no chat (403), and a third party can neither read, write nor join a conversation', async () => {
		const { conversationId } = await pair();
		const [nurse, desk, admin, otherPatient, otherDoctor] = await Promise.all([
			app.userOf('nurse'),
			app.userOf('front_desk'),
			app.userOf('admin'),
			app.userOf('patient'),
			app.userOf('doctor')
		]);
		for (const u of [nurse, desk, admin]) {
			expect((await u.api.get('/api/conversations')).status).toBe(403);
			expect((await u.api.get(`/api/conversations/${conversationId}/messages`)).status).toBe(403);
		}
		for (const u of [otherPatient, otherDoctor, nurse]) {
			expect((await u.api.get(`/api/conversations/${conversationId}/messages`)).status).toBe(403);
			expect((await send(u, conversationId, 'let me in')).status).toBe(403);
			const s = await socketOf(u);
			const join = await s.timeout(5_000).emitWithAck('subscribe', { room: `chat:${conversationId}` });
			expect(join).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
			const ack = await s.timeout(5_000).emitWithAck('chat:message', { conversationId, clientId: uuid(), text: 'hello?' });
			expect(ack).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
		}
		expect(await allMessages(conversationId)).toHaveLength(0);
		// Unknown conversation: 404 for a member role.
		expect((await otherPatient.api.get('/api/conversations/c_nope/messages')).status).toBe(404);
	});
});

describe('messages', () => {
	it('120 messages page back newest first as 50, 50 and 20, with no duplicates', async () => {
		const { patient, doctor, conversationId } = await pair();
		// 120 sends from two people would take 30 s under the 20-per-10-s limit, so they go
		// through the same service on a context allowed more (same tables, same code path).
		const roomy = createContext(
			loadConfig({ NODE_ENV: 'test', DYNAMODB_ENDPOINT: inject('dynamoEndpoint'), TABLE_PREFIX: app.ctx.config.tablePrefix, AUDIT_IP_KEY: 'test-audit-ip-key-0123456789', LOG_LEVEL: 'silent', CHAT_RATE_LIMIT: '1000' })
		);
		const sent: string[] = [];
		try {
			for (let i = 0; i < 120; i++) {
				const from = i % 2 ? doctor : patient;
				const out = await sendMessage(roomy, callerOf(from), conversationId, { clientId: uuid(), text: `message ${i}` });
				sent.push(out.message.id);
			}
		} finally {
			roomy.db.raw.destroy();
		}
		const pages: ChatMessageView[][] = [];
		let cursor: string | null = null;
		do {
			const r: ApiResponse = await doctor.api.get(`/api/conversations/${conversationId}/messages${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
			expect(r.status).toBe(200);
			pages.push(r.body.messages);
			cursor = r.body.nextCursor;
		} while (cursor && pages.length < 10);
		expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
		const all = pages.flat();
		expect(new Set(all.map((m) => m.id)).size).toBe(120);
		expect(all.map((m) => m.id)).toEqual([...sent].reverse());
		const keys = all.map((m) => m.sortKey);
		expect(keys).toEqual([...keys].sort().reverse());
		expect(all[0]!.text).toBe('message 119');
		expect(all.at(-1)!.text).toBe('message 0');
		// A forged cursor is a 400, not someone else's page.
		expect((await doctor.api.get(`/api/conversations/${conversationId}/messages?cursor=abc`)).status).toBe(400);
	});

	it('sends over REST persist and are listed with the sender and a sent status', async () => {
		const { patient, doctor, conversationId } = await pair();
		const a = await send(patient, conversationId, '  I have had a headache since Monday.  ');
		const b = await send(doctor, conversationId, 'Please come in tomorrow.');
		expect(a.status).toBe(201);
		expect(a.body.message).toMatchObject({ text: 'I have had a headache since Monday.', senderId: patient.id, senderRole: 'patient', status: 'sent' });
		expect(b.body.message.senderRole).toBe('doctor');
		const list = await patient.api.get(`/api/conversations/${conversationId}/messages`);
		expect(list.body.messages.map((m: ChatMessageView) => m.text)).toEqual(['Please come in tomorrow.', 'I have had a headache since Monday.']);
		const conv = await doctor.api.get(`/api/conversations/${conversationId}`);
		expect(conv.body.conversation).toMatchObject({ unread: 1, lastMessagePreview: 'Please come in tomorrow.' });
	});

	it('markup in a message is stored and returned verbatim as plain text', async () => {
		const { patient, doctor, conversationId } = await pair();
		const payload = '<img src=x onerror=alert(1)><script>alert(1)</script>';
		const r = await send(patient, conversationId, payload);
		expect(r.status).toBe(201);
		expect(r.body.message.text).toBe(payload);
		const list = await doctor.api.get(`/api/conversations/${conversationId}/messages`);
		expect(list.headers.get('content-type')).toMatch(/^application\/json/);
		expect(list.body.messages[0].text).toBe(payload);
		const stored = await allMessages(conversationId);
		expect(stored[0]!.text).toBe(payload);
	});

	it('the same clientId sent twice (or five times at once) is stored once and answered with the stored message', async () => {
		const { patient, conversationId } = await pair();
		const clientId = uuid();
		const first = await send(patient, conversationId, 'are my results in?', clientId);
		const retry = await send(patient, conversationId, 'are my results in?', clientId);
		expect(first.status).toBe(201);
		expect(retry.status).toBe(200);
		expect(retry.body.message).toEqual(first.body.message);

		const racing = uuid();
		const results = await Promise.all(Array.from({ length: 5 }, () => send(patient, conversationId, 'one more thing', racing)));
		expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
		expect(new Set(results.map((r) => r.body.message.sortKey)).size).toBe(1);

		const stored = await allMessages(conversationId);
		expect(stored.filter((m) => m.id === clientId)).toHaveLength(1);
		expect(stored.filter((m) => m.id === racing)).toHaveLength(1);
		expect(stored).toHaveLength(2);
	});

	it('an empty or oversized message is refused with 400 naming the field; 4,000 characters is fine', async () => {
		const { patient, conversationId } = await pair();
		for (const text of ['', '   \n\t ']) {
			const r = await send(patient, conversationId, text);
			expect(r.status).toBe(400);
			expect(r.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'text' }] });
			expect(r.body.error.message).toMatch(/empty/);
		}
		const long = await send(patient, conversationId, 'x'.repeat(4001));
		expect(long.status).toBe(400);
		expect(long.body.error.message).toMatch(/4,000/);
		expect((await send(patient, conversationId, '🙂'.repeat(4000))).status).toBe(201);
		expect((await patient.api.post(`/api/conversations/${conversationId}/messages`, { clientId: 'not-a-uuid', text: 'hi' })).status).toBe(400);
		const s = await socketOf(patient);
		const ack = await s.timeout(5_000).emitWithAck('chat:message', { conversationId, clientId: uuid(), text: ' ' });
		expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
		expect(await allMessages(conversationId)).toHaveLength(1);
	});

	it('a sender over 20 messages in 10 seconds gets 429 with Retry-After', async () => {
		const { patient, conversationId } = await pair();
		// Start early in a fixed window so all 21 land in it.
		const intoWindow = Date.now() % 10_000;
		if (intoWindow > 5_000) await sleep(10_050 - intoWindow);
		const results = await Promise.all(Array.from({ length: 21 }, (_, i) => send(patient, conversationId, `message ${i}`)));
		expect(results.filter((r) => r.status === 201)).toHaveLength(20);
		const last = results.find((r) => r.status !== 201)!;
		expect(last.status).toBe(429);
		expect(last.body.error.code).toBe('TOO_MANY_REQUESTS');
		expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(await allMessages(conversationId)).toHaveLength(20);
	});

	it('every chat write is audited without the message text', async () => {
		const { patient, doctor, conversationId } = await pair();
		const secret = `my private symptom ${uuid()}`;
		const r = await send(patient, conversationId, secret);
		await doctor.api.post(`/api/conversations/${conversationId}/read`, { upTo: r.body.message.sortKey });
		const entries = await auditEntries(app, (e) => e.resource_id === conversationId);
		expect(entries.map((e) => e.action).sort()).toEqual(['chat_read', 'create', 'send_message']);
		expect(JSON.stringify(entries)).not.toContain('private symptom');
	});
});

describe('live: receipts, typing and offline recipients', () => {
	it('a message sent over the socket reaches the other side live; delivered and read receipts reach the sender', async () => {
		const { patient, doctor, conversationId } = await pair();
		const [ps, ds] = await Promise.all([socketOf(patient), socketOf(doctor)]);
		for (const s of [ps, ds]) expect(await s.timeout(5_000).emitWithAck('subscribe', { room: `chat:${conversationId}` })).toEqual({ ok: true });

		const arriving = next(ds, 'chat:message');
		const listed = next(ds, 'chat:conversation');
		const ack = await ps.timeout(5_000).emitWithAck('chat:message', { conversationId, clientId: uuid(), text: 'Is the clinic open on Saturday?' });
		expect(ack.ok).toBe(true);
		const sentMessage = (ack as { ok: true; data: ChatMessageView }).data;
		const received = await arriving;
		expect(received).toMatchObject({ id: sentMessage.id, text: 'Is the clinic open on Saturday?', senderId: patient.id });
		expect(await listed).toMatchObject({ conversationId, unread: 1 });

		const delivered = next(ps, 'chat:delivered');
		expect(await ds.timeout(5_000).emitWithAck('chat:delivered', { conversationId, upTo: received.sortKey })).toEqual({ ok: true, data: null });
		expect(await delivered).toMatchObject({ conversationId, userId: doctor.id, side: 'doctor', upTo: received.sortKey });

		const typing = next(ps, 'chat:typing');
		ds.emit('chat:typing', { conversationId, typing: true });
		expect(await typing).toMatchObject({ conversationId, userId: doctor.id, typing: true });

		const read = next(ps, 'chat:read');
		expect(await ds.timeout(5_000).emitWithAck('chat:read', { conversationId, upTo: received.sortKey })).toEqual({ ok: true, data: null });
		expect(await read).toMatchObject({ userId: doctor.id, upTo: received.sortKey });

		const list = await patient.api.get(`/api/conversations/${conversationId}/messages`);
		expect(list.body.messages[0].status).toBe('read');
		expect((await doctor.api.get(`/api/conversations/${conversationId}`)).body.conversation.unread).toBe(0);
		// Acknowledging a message that is not in the conversation is refused.
		const bogus = await ds.timeout(5_000).emitWithAck('chat:read', { conversationId, upTo: `2020-01-01T00:00:00.000Z#${uuid()}` });
		expect(bogus).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
	});

	it('a recipient not viewing the conversation gets an in-app notification per message; an offline one at most one SMS per conversation per 15 minutes', async () => {
		const { patient, doctor, conversationId } = await pair();
		const chatOutbox = async () => (await scanAll(app, 'outbox')).filter((r) => r.user_id === doctor.id && r.kind === 'chat_message');
		const chatNotices = async () => (await scanAll(app, 'notifications')).filter((n) => n.user_id === doctor.id && n.kind === 'chat_message');

		for (const text of ['one', 'two', 'three']) expect((await send(patient, conversationId, text)).status).toBe(201);
		expect(await chatNotices()).toHaveLength(3);
		const rows = await chatOutbox();
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ channel: 'sms', status: 'pending', related_id: conversationId });
		// The SMS names the sender, never the text, and no recipient is frozen into it.
		expect(rows[0]!.body).not.toMatch(/one|two|three/);
		expect(rows[0]!.recipient).toBeUndefined();

		// Online on another page: an in-app notification, no SMS.
		const ds = await socketOf(doctor);
		const serverSees = async (online: boolean) => {
			for (let i = 0; i < 100 && (await app.ctx.bus.online(`user:${doctor.id}`)) !== online; i++) await sleep(20);
		};
		await serverSees(true);
		expect((await send(patient, conversationId, 'four')).status).toBe(201);
		expect(await chatNotices()).toHaveLength(4);
		expect(await chatOutbox()).toHaveLength(1);
		// Looking at the conversation: the message arrives live, with no notification and no SMS.
		expect(await ds.emitWithAck('subscribe', { room: `chat:${conversationId}` })).toEqual({ ok: true });
		expect((await send(patient, conversationId, 'seen live')).status).toBe(201);
		expect(await chatNotices()).toHaveLength(4);
		ds.close();
		await serverSees(false);

		// 15 minutes later (the throttle row says so), an offline recipient gets one more SMS.
		await app.ctx.db.doc.send(
			new UpdateCommand({
				TableName: app.ctx.db.tables.locks,
				Key: { id: `chat-notify#${conversationId}#${doctor.id}` },
				UpdateExpression: 'SET #u = :past',
				ExpressionAttributeNames: { '#u': 'until' },
				ExpressionAttributeValues: { ':past': Date.now() - 1 }
			})
		);
		await Promise.all(['five', 'six'].map((t) => send(patient, conversationId, t)));
		expect(await chatNotices()).toHaveLength(6);
		expect(await chatOutbox()).toHaveLength(2);
		const throttle = await getItem(app, 'locks', { id: `chat-notify#${conversationId}#${doctor.id}` });
		expect(Number(throttle!.until)).toBeGreaterThan(Date.now() + 14 * 60_000);
	});
});
