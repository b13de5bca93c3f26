import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiClient, startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import type { AppointmentEvent, ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/realtime';
import { sleep } from './helpers';

/**
 * A restart or deploy (the server closed as SIGTERM closes it, then a new one on the same
 * port, same tables) must not strand open screens: a plain socket.io-client with default
 * options sees a transport close, not the "io server disconnect" that tells it to stay
 * away, reconnects by itself and hears what happens after the restart.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let app: TestApp;
let today: string;
let doctor: TestUser;
let nurse: TestUser;
let patient: TestUser;
const open: ClientSocket[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	doctor = await alwaysOpenDoctor(app);
	[nurse, patient] = await Promise.all([app.userOf('nurse'), app.userOf('patient')]);
});
afterAll(async () => {
	for (const s of open.splice(0)) s.close();
	// Only the processes this file started, by their own handle.
	await Promise.all(
		children
			.filter((c) => c.exitCode === null && c.signalCode === null)
			.map((c) => new Promise<void>((resolve) => {
				c.once('exit', () => resolve());
				c.kill('SIGTERM');
				setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
			}))
	);
	await app?.close();
});

/** A client as a script would write it: default options (polling, then upgrade; reconnection on), the token in `auth`. */
function plainClient(user: TestUser): ClientSocket {
	const s: ClientSocket = io(app.url, { auth: { token: user.token } });
	open.push(s);
	return s;
}

const connected = (s: ClientSocket, ms = 10_000) =>
	new Promise<void>((resolve, reject) => {
		const t = setTimeout(() => reject(new Error(`no connect within ${ms} ms`)), ms);
		s.once('connect', () => {
			clearTimeout(t);
			resolve();
		});
	});

function heard(s: ClientSocket, event: 'queue:updated' | 'appointment:updated', where: (e: AppointmentEvent) => boolean, ms = 5_000): Promise<AppointmentEvent> {
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error(`no matching ${event} within ${ms} ms`)), ms);
		const on = (e: AppointmentEvent) => {
			if (!where(e)) return;
			clearTimeout(t);
			s.off(event, on);
			resolve(e);
		};
		s.on(event, on);
	});
}

describe('server restart', () => {
	it('a default socket.io-client reconnects by itself after the server is closed and started again on the same port, and both hear a check-in made after the restart (queue room re-joined, own user room)', async () => {
		const slot = (await freeSlots(patient, doctor.doctorId!, today))[3];
		if (!slot) throw new Error('no free slot today');
		const booked = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slot.start, symptoms: 'dizzy since this morning' });
		expect(booked.status, JSON.stringify(booked.body)).toBe(201);
		const appt = booked.body.appointment as { id: string; version: number };

		// The doctor's screen joins its queue room on every connect (as the browser does); the
		// patient's client joins nothing: the server puts it in its own user room, where the
		// patient's appointment:updated events go.
		const doctorSocket = plainClient(doctor);
		const joins: boolean[] = [];
		doctorSocket.on('connect', () => {
			void doctorSocket
				.timeout(5_000)
				.emitWithAck('subscribe', { room: `doctor-queue:${doctor.doctorId}` })
				.then((ack) => joins.push(ack.ok));
		});
		const patientSocket = plainClient(patient);
		await Promise.all([connected(doctorSocket), connected(patientSocket)]);
		await expect.poll(() => joins).toEqual([true]);

		const reasons = new Map<ClientSocket, string[]>([
			[doctorSocket, []],
			[patientSocket, []]
		]);
		for (const [s, list] of reasons) s.on('disconnect', (reason) => list.push(reason));

		const closedAt = Date.now();
		await app.stopServer();
		const closeMs = Date.now() - closedAt;
		await expect.poll(() => [...reasons.values()].every((r) => r.length === 1), { timeout: 5_000 }).toBe(true);
		for (const [s, r] of reasons) {
			expect(r[0]).not.toBe('io server disconnect');
			expect(r[0]).toBe('transport close');
			// Still trying: the client has not been told to give up.
			expect(s.active).toBe(true);
			expect(s.connected).toBe(false);
		}

		// The outage lasts a moment (a deploy), during which the clients' first tries may fail.
		await sleep(300);
		const back = Promise.all([connected(doctorSocket, 15_000), connected(patientSocket, 15_000)]);
		const startedAt = Date.now();
		await app.startServer();
		await back;
		const reconnectMs = Date.now() - startedAt;
		console.log(
			`server closed in ${closeMs} ms; default clients reconnected ${reconnectMs} ms after the new server listened ` +
				`(recovered: doctor ${doctorSocket.recovered}, patient ${patientSocket.recovered})`
		);
		await expect.poll(() => joins).toEqual([true, true]);

		const onQueue = heard(doctorSocket, 'queue:updated', (e) => e.id === appt.id);
		const onOwnRoom = heard(patientSocket, 'appointment:updated', (e) => e.id === appt.id);
		const r = await nurse.api.patch(`/api/appointments/${appt.id}`, { version: appt.version, status: 'CHECKED_IN' });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		const [forDoctor, forPatient] = await Promise.all([onQueue, onOwnRoom]);
		for (const e of [forDoctor, forPatient]) {
			expect(e.status).toBe('CHECKED_IN');
			expect(e.version).toBe(r.body.appointment.version);
		}
		// One disconnect each, the restart's; nothing after.
		for (const list of reasons.values()) expect(list).toEqual(['transport close']);
	});

	it('logging out still ends that session’s socket for good: session:ended, then "io server disconnect", and no reconnect', async () => {
		const user = await app.userOf('patient');
		const s = plainClient(user);
		await connected(s);
		const ended = new Promise<{ reason: string }>((resolve) => s.once('session:ended', resolve));
		const reason = new Promise<string>((resolve) => s.once('disconnect', resolve));
		expect((await user.api.post('/api/auth/logout')).status).toBe(204);
		expect(await ended).toEqual({ reason: 'logout' });
		expect(await reason).toBe('io server disconnect');
		await sleep(2_000);
		expect(s.active).toBe(false);
		expect(s.connected).toBe(false);
	});
});

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
	});
}

/** The compiled web process (build-server/server.js) as `npm start` runs it, on this file's tables; resolves once it listens. */
function startWebProcess(port: number, dataDir: string): Promise<ChildProcess> {
	// One process, so a signal reaches the server itself, not a wrapper.
	const child = spawn(process.execPath, ['build-server/server.js'], {
		env: {
			...process.env,
			NODE_ENV: 'test',
			PORT: String(port),
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
			TABLE_PREFIX: app.ctx.config.tablePrefix,
			AUDIT_IP_KEY: 'test-audit-ip-key-0123456789',
			HOSPITAL_TIMEZONE: app.ctx.config.timezone,
			WORKER: 'off',
			LOG_LEVEL: 'silent',
			AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	children.push(child);
	return new Promise((resolve, reject) => {
		let out = '';
		const t = setTimeout(() => reject(new Error(`the web process did not start within 60 s:\n${out}`)), 60_000);
		const onData = (b: Buffer) => {
			out += b.toString();
			if (out.includes('is running at')) {
				clearTimeout(t);
				resolve(child);
			}
		};
		child.stdout!.on('data', onData);
		child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
		child.once('exit', (code) => {
			clearTimeout(t);
			reject(new Error(`the web process exited (${code}) before listening:\n${out}`));
		});
	});
}

describe('the web process (src/server.ts) under SIGTERM', () => {
	it('SIGTERM stops the process cleanly (exit 0), a default client sees a transport close, and reconnects by itself to the process started again on the same port', async () => {
		const port = await freePort();
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtrack-restart-'));
		const url = `http://127.0.0.1:${port}`;
		try {
			const first = await startWebProcess(port, dataDir);
			const s: ClientSocket = io(url, { auth: { token: patient.token } });
			open.push(s);
			await connected(s, 15_000);
			const reasons: string[] = [];
			s.on('disconnect', (reason) => reasons.push(reason));

			const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
				first.once('exit', (code, signal) => resolve({ code, signal }))
			);
			const termAt = Date.now();
			first.kill('SIGTERM');
			expect(await exited).toEqual({ code: 0, signal: null });
			const stopMs = Date.now() - termAt;
			await expect.poll(() => reasons).toEqual(['transport close']);
			expect(s.active).toBe(true);

			const back = connected(s, 60_000);
			const startAt = Date.now();
			await startWebProcess(port, dataDir);
			const listenedAt = Date.now();
			await back;
			console.log(
				`SIGTERM to exit ${stopMs} ms; new process listening ${listenedAt - startAt} ms after spawn; ` +
					`client reconnected ${Date.now() - listenedAt} ms after it listened`
			);

			// What happens after the restart reaches the reconnected client.
			const slot = (await freeSlots(patient, doctor.doctorId!, today))[6];
			const booked = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start: slot!.start, symptoms: 'a rash on both arms' });
			expect(booked.status, JSON.stringify(booked.body)).toBe(201);
			const onOwnRoom = heard(s, 'appointment:updated', (e) => e.id === booked.body.appointment.id);
			const nurseThere = new ApiClient(url);
			nurseThere.cookie = nurse.api.cookie;
			const r = await nurseThere.patch(`/api/appointments/${booked.body.appointment.id}`, { version: booked.body.appointment.version, status: 'CHECKED_IN' });
			expect(r.status, JSON.stringify(r.body)).toBe(200);
			expect((await onOwnRoom).status).toBe('CHECKED_IN');
			expect(reasons).toEqual(['transport close']);
		} finally {
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
