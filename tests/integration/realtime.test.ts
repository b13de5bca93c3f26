import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import type { ClientToServerEvents, RecordVersionEvent, ServerToClientEvents, SubscribeAck } from '../../src/lib/shared/realtime';
import { auditEntries, sleep, storedVersion } from './helpers';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let app: TestApp;
let admin: TestUser;
const open: ClientSocket[] = [];

beforeAll(async () => {
	app = await startTestApp();
	admin = await app.userOf('admin', { name: 'Ada Admin' });
});
afterEach(() => {
	for (const s of open.splice(0)) s.close();
});
afterAll(async () => app?.close());

function socket(opts: { cookie?: string; token?: string } = {}): ClientSocket {
	const s: ClientSocket = io(app.url, {
		path: '/socket.io',
		transports: ['websocket'],
		reconnection: false,
		forceNew: true,
		...(opts.cookie ? { extraHeaders: { cookie: opts.cookie } } : {}),
		...(opts.token ? { auth: { token: opts.token } } : {})
	});
	open.push(s);
	return s;
}

/** Resolves when the socket connects; rejects with the server's refusal. */
function connected(s: ClientSocket): Promise<void> {
	return new Promise((resolve, reject) => {
		s.once('connect', () => resolve());
		s.once('connect_error', (err) => reject(err));
	});
}

function refused(s: ClientSocket): Promise<Error> {
	return new Promise((resolve, reject) => {
		s.once('connect', () => reject(new Error('the socket was let in')));
		s.once('connect_error', (err) => resolve(err));
	});
}

function disconnected(s: ClientSocket, ms = 5_000): Promise<string> {
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error('not disconnected')), ms);
		s.once('disconnect', (reason) => {
			clearTimeout(t);
			resolve(reason);
		});
	});
}

function next<E extends keyof ServerToClientEvents>(s: ClientSocket, event: E, ms = 5_000): Promise<Parameters<ServerToClientEvents[E]>[0]> {
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
		s.once(event as 'record:updated', ((payload: unknown) => {
			clearTimeout(t);
			resolve(payload as Parameters<ServerToClientEvents[E]>[0]);
		}) as never);
	});
}

const subscribe = (s: ClientSocket, room: string): Promise<SubscribeAck> =>
	s.timeout(5_000).emitWithAck('subscribe', { room });

describe('socket authentication', () => {
	it('a socket without a session is refused (connect_error UNAUTHENTICATED)', async () => {
		const err = await refused(socket());
		expect(err.message).toBe('UNAUTHENTICATED');
		const forged = await refused(socket({ token: 'abcdefghijklmnopqrstuvwxyz234567' }));
		expect(forged.message).toBe('UNAUTHENTICATED');
		const junk = await refused(socket({ cookie: 'medtrack_session=not-a-token' }));
		expect(junk.message).toBe('UNAUTHENTICATED');
	});

	it('a socket with the session cookie in the handshake connects', async () => {
		const user = await app.userOf('nurse');
		const s = socket({ cookie: user.api.cookie! });
		await connected(s);
		expect(s.connected).toBe(true);
	});

	it('a socket with auth.token connects', async () => {
		const user = await app.userOf('doctor');
		const s = socket({ token: user.token });
		await connected(s);
		expect(s.connected).toBe(true);
	});
});

describe('record rooms', () => {
	it('a front desk socket subscribed to record:patient:<id> receives record:updated after another user saves', async () => {
		const desk = await app.userOf('front_desk');
		const patient = await app.userOf('patient');
		const pid = patient.patientId!;
		const s = socket({ cookie: desk.api.cookie! });
		await connected(s);
		expect(await subscribe(s, `record:patient:${pid}`)).toEqual({ ok: true });
		const bystander = socket({ token: desk.token });
		await connected(bystander);
		let bystanderHeard = false;
		bystander.on('record:updated', () => (bystanderHeard = true));

		const version = await storedVersion(app, 'patients', pid);
		const heard = next(s, 'record:updated');
		const save = await admin.api.patch(`/api/patients/${pid}`, { version, address: '1 Broadcast Blvd' });
		expect(save.status).toBe(200);
		const event = (await heard) as RecordVersionEvent;
		expect(event).toMatchObject({
			type: 'patient',
			id: pid,
			version: version + 1,
			updatedBy: 'Ada Admin',
			updatedById: admin.id,
			updatedAt: save.body.patient.updatedAt,
			changedFields: ['address']
		});
		await sleep(200);
		expect(bystanderHeard).toBe(false); // only subscribers of the room hear it
	});

	it("a patient's socket cannot join another patient's room (ack ok:false) and the denial is audited", async () => {
		const patient = await app.userOf('patient');
		const other = await app.userOf('patient');
		const s = socket({ token: patient.token });
		await connected(s);
		const ack = await subscribe(s, `record:patient:${other.patientId}`);
		expect(ack.ok).toBe(false);
		if (!ack.ok) expect(ack.error.code).toBe('NOT_FOUND');
		const denied = await auditEntries(app, (e) => e.request_id === `socket:${s.id}`);
		expect(denied).toEqual([
			expect.objectContaining({
				action: 'read_denied',
				outcome: 'denied',
				user_id: patient.id,
				resource_type: 'patient',
				resource_id: other.patientId
			})
		]);
		// Their own record's room, yes; another user's notifications, no; a payload that is not { room }, no.
		expect(await subscribe(s, `record:patient:${patient.patientId}`)).toEqual({ ok: true });
		const userRoom = await subscribe(s, `user:${other.id}`);
		expect(userRoom.ok).toBe(false);
		const bad = await (s.timeout(5_000).emitWithAck as (ev: string, p: unknown) => Promise<SubscribeAck>)('subscribe', { room: 42 });
		expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
	});
});

describe('ending sessions ends sockets', () => {
	it("a deactivated user's socket is told why and disconnected, and cannot reconnect", async () => {
		const nurse = await app.userOf('nurse');
		const s = socket({ token: nurse.token });
		await connected(s);
		const ended = next(s, 'session:ended');
		const gone = disconnected(s);
		const res = await admin.api.patch(`/api/admin/users/${nurse.id}`, { version: await storedVersion(app, 'users', nurse.id), active: false });
		expect(res.status).toBe(200);
		expect(await ended).toEqual({ reason: 'deactivated' });
		expect(await gone).toBe('io server disconnect');
		const again = await refused(socket({ token: nurse.token }));
		expect(again.message).toBe('UNAUTHENTICATED');
	});

	it('a socket of a logged-out session is disconnected; a socket of another session of the same user stays', async () => {
		const user = await app.userOf('pharmacist');
		const other = app.client();
		const second = await other.post('/api/auth/login', { email: user.email, password: user.password });
		const a = socket({ cookie: user.api.cookie! });
		const b = socket({ token: second.body.token });
		await Promise.all([connected(a), connected(b)]);
		const ended = next(a, 'session:ended');
		const gone = disconnected(a);
		expect((await user.api.post('/api/auth/logout')).status).toBe(204);
		expect(await ended).toEqual({ reason: 'logout' });
		expect(await gone).toBe('io server disconnect');
		await sleep(200);
		expect(b.connected).toBe(true);
		expect(await subscribe(b, `user:${user.id}`)).toEqual({ ok: true });
	});
});
