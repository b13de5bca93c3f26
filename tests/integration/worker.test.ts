import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { io, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, getItem, scanAll, sleep, workerEnv } from './helpers';
import { readLease } from '../../src/lib/server/services/leader';
import { removeExpired } from '../../src/lib/server/services/housekeeping';
import { useRedisAdapter } from '../../src/lib/server/realtime/redis';
import { requireTools } from '../../scripts/test-requirements.js';
import { freePort } from '../../src/lib/server/db/embedded';
import { createScheduler, type Job } from '../../worker/scheduler';
import { dateIn } from '../../src/lib/shared/time';
import type { AppointmentEvent, ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/realtime';

/**
 * The worker as operators run it: real compiled `build-server/worker.js` processes on this
 * file's tables, several at once, one killed with SIGKILL mid-run; and its scheduler's
 * leader lease. Live updates from a separate worker reach this file's web server through
 * the internal broadcast endpoint.
 */
const INTERNAL_TOKEN = crypto.randomBytes(24).toString('hex');
const LEASE_MS = 3_000;
const HEARTBEAT_MS = 500;
const HOUR = 3_600_000;

let app: TestApp;
let doctor: TestUser;
let patients: TestUser[];
let dataDir: string;
const children = new Set<ChildProcess>();
const sockets: Socket[] = [];
let redis: ChildProcess | undefined;
let closeRedisAdapter: (() => Promise<void>) | undefined;

beforeAll(async () => {
	dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtrack-worker-'));
	app = await startTestApp({ HOSPITAL_TIMEZONE: 'UTC', INTERNAL_TOKEN });
	[doctor, ...patients] = await Promise.all([app.userOf('doctor'), app.userOf('patient'), app.userOf('patient'), app.userOf('patient')]);
});
afterEach(() => {
	for (const s of sockets.splice(0)) s.close();
});
afterAll(async () => {
	// No worker (or Redis) outlives the file.
	await Promise.all([...children].map((c) => stop(c, 'SIGKILL')));
	await app?.close();
	await closeRedisAdapter?.();
	if (redis) await stop(redis, 'SIGTERM');
	fs.rmSync(dataDir, { recursive: true, force: true });
});

type Worker = ChildProcess & { out: string[] };

function spawnWorker(args: string[], env: Record<string, string> = {}): Worker {
	const child = spawn(process.execPath, ['build-server/worker.js', ...args], {
		cwd: process.cwd(),
		env: workerEnv(app, {
			HOSPITAL_TIMEZONE: 'UTC',
			DATA_DIR: dataDir,
			INTERNAL_TOKEN,
			WORKER_LEASE_MS: String(LEASE_MS),
			WORKER_HEARTBEAT_MS: String(HEARTBEAT_MS),
			...env
		}),
		stdio: ['ignore', 'pipe', 'pipe']
	}) as Worker;
	child.out = [];
	child.stdout!.on('data', (d: Buffer) => child.out.push(d.toString()));
	child.stderr!.on('data', (d: Buffer) => child.out.push(d.toString()));
	children.add(child);
	child.once('exit', () => children.delete(child));
	return child;
}

function exited(child: ChildProcess, ms = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error(`worker ${child.pid} still running after ${ms} ms`)), ms);
		child.once('exit', (code, signal) => {
			clearTimeout(t);
			resolve({ code, signal });
		});
	});
}

async function stop(child: ChildProcess, signal: NodeJS.Signals) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	child.kill(signal);
	await exited(child, 15_000).catch(() => child.kill('SIGKILL'));
}

/** The `{ job, result }` line a `--once` run prints. */
function onceResult(child: Worker): Record<string, number> {
	const line = child.out.join('').split('\n').find((l) => l.startsWith('{"job"'));
	if (!line) throw new Error(`no result line in:\n${child.out.join('')}`);
	return JSON.parse(line).result;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000, every = 50): Promise<T> {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = await probe();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(every);
	}
}

/** How many appointments the worker process `pid` has reminded so far (a server-side count). */
async function remindedBy(pid: number): Promise<number> {
	let n = 0;
	let startKey: Record<string, unknown> | undefined;
	do {
		const res = await app.setup.doc.send(
			new ScanCommand({
				TableName: app.ctx.db.tables.appointments,
				FilterExpression: 'contains(reminder_by, :pid)',
				ExpressionAttributeValues: { ':pid': `:${pid}:` },
				Select: 'COUNT',
				ExclusiveStartKey: startKey
			})
		);
		n += res.Count ?? 0;
		startKey = res.LastEvaluatedKey;
	} while (startKey);
	return n;
}

function appointmentRow(over: { start: string; status?: string; patient?: TestUser; reminded?: boolean }) {
	const patient = over.patient ?? patients[0]!;
	return {
		id: crypto.randomUUID(),
		patient_id: patient.patientId!,
		patient_user_id: patient.id,
		patient_name: patient.name,
		doctor_id: doctor.doctorId!,
		doctor_user_id: doctor.id,
		doctor_name: doctor.name,
		specialization: 'Cardiology',
		start: over.start,
		end: new Date(Date.parse(over.start) + 15 * 60_000).toISOString(),
		date: dateIn('UTC', new Date(over.start)),
		status: over.status ?? 'CONFIRMED',
		priority: 'normal',
		symptoms: 'follow-up',
		version: 1,
		created_at: new Date().toISOString(),
		updated_at: new Date().toISOString(),
		updated_by: 'seed',
		updated_by_name: 'Seed',
		...(over.reminded ? { reminder_sent_at: new Date().toISOString() } : {})
	};
}

async function insertAppointments(rows: Record<string, unknown>[]) {
	const batches: Record<string, unknown>[][] = [];
	for (let i = 0; i < rows.length; i += 25) batches.push(rows.slice(i, i + 25));
	const lanes = Array.from({ length: 6 }, async () => {
		for (let batch = batches.shift(); batch; batch = batches.shift()) {
			let items = batch.map((Item) => ({ PutRequest: { Item } }));
			while (items.length) {
				const res = await app.ctx.db.doc.send(new BatchWriteCommand({ RequestItems: { [app.ctx.db.tables.appointments]: items } }));
				items = (res.UnprocessedItems?.[app.ctx.db.tables.appointments] ?? []) as typeof items;
			}
		}
	});
	await Promise.all(lanes);
}

async function socketOf(user: TestUser): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
	const s: Socket<ServerToClientEvents, ClientToServerEvents> = io(app.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: user.token } });
	sockets.push(s);
	await new Promise<void>((resolve, reject) => {
		s.once('connect', () => resolve());
		s.once('connect_error', reject);
	});
	return s;
}

describe('reminders', () => {
	it('1,000 appointments due tomorrow, two workers, one killed mid-run: exactly 1,000 reminders, none twice, none missing', async () => {
		const now = Date.now();
		const statuses = ['PENDING', 'CONFIRMED', 'RESCHEDULED'];
		const due = Array.from({ length: 1000 }, (_, i) =>
			appointmentRow({ start: new Date(now + 24 * HOUR + 5 * 60_000 + i * 2_400).toISOString(), status: statuses[i % 3], patient: patients[i % patients.length] })
		);
		const notDue = [
			...Array.from({ length: 10 }, () => appointmentRow({ start: new Date(now + 26 * HOUR).toISOString() })),
			...Array.from({ length: 10 }, () => appointmentRow({ start: new Date(now + 23 * HOUR).toISOString() })),
			...Array.from({ length: 10 }, () => appointmentRow({ start: new Date(now + 24.5 * HOUR).toISOString(), status: 'CANCELLED' })),
			...Array.from({ length: 10 }, () => appointmentRow({ start: new Date(now + 24.5 * HOUR).toISOString(), reminded: true }))
		];
		await insertAppointments([...due, ...notDue]);

		const reminderRows = async () => (await scanAll(app, 'outbox')).filter((r) => r.kind === 'appointment_reminder');
		const a = spawnWorker(['--once', 'reminders']);
		const b = spawnWorker(['--once', 'reminders']);
		// Kill one once it has sent a share of them.
		await waitFor('worker A under way', () => remindedBy(a.pid!).then((n) => n >= 50), 60_000, 150);
		a.kill('SIGKILL');
		const killed = await exited(a);
		expect(killed.signal, 'the worker had already finished: nothing was interrupted').toBe('SIGKILL');
		expect((await exited(b)).code, b.out.join('')).toBe(0);

		// A third run finds nothing left to send.
		const c = spawnWorker(['--once', 'reminders']);
		expect((await exited(c)).code, c.out.join('')).toBe(0);
		expect(onceResult(c)).toMatchObject({ due: 0, sent: 0 });

		const rows = await reminderRows();
		const dueIds = new Set(due.map((r) => r.id));
		expect(rows).toHaveLength(1000);
		expect(new Set(rows.map((r) => r.related_id))).toEqual(dueIds);
		const stored = (await scanAll(app, 'appointments')).filter((r) => dueIds.has(r.id));
		expect(stored.every((r) => r.reminder_sent_at && r.version === 1)).toBe(true);
		// Both did part of the work: the killed one before it died, the survivor the rest.
		const byPid = new Map<number, number>();
		for (const r of stored) {
			const pid = Number(String(r.reminder_by).split(':')[1]);
			byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
		}
		expect(byPid.get(a.pid!)).toBeGreaterThanOrEqual(50);
		expect(byPid.get(b.pid!)).toBeGreaterThan(0);
		expect([...byPid.values()].reduce((x, y) => x + y, 0)).toBe(1000);
		expect(new Set(stored.map((r) => r.reminder_outbox_id))).toEqual(new Set(rows.map((r) => r.id)));
		const untouched = (await scanAll(app, 'appointments')).filter((r) => notDue.slice(0, 30).some((n) => n.id === r.id));
		expect(untouched.every((r) => !r.reminder_sent_at)).toBe(true);
		const notices = (await scanAll(app, 'notifications')).filter((n) => n.kind === 'appointment_reminder');
		expect(notices).toHaveLength(1000);
		// Each waits in the outbox to be published once (delivery itself: outbox.test.ts).
		expect(rows.every((r) => r.status === 'pending' && r.attempts === 0 && r.channel === 'sms')).toBe(true);
	});

	it('--once with an unknown job exits 2 and names the jobs', async () => {
		const w = spawnWorker(['--once', 'nonsense']);
		expect((await exited(w)).code).toBe(2);
		expect(w.out.join('')).toMatch(/reminders, missed, outbox, housekeeping/);
	});
});

describe('missed appointments', () => {
	it('a separate worker marks overdue appointments MISSED with a versioned write, the patient is told live, and a second run changes nothing', async () => {
		const patient = patients[1]!;
		const now = Date.now();
		const overdue = [appointmentRow({ start: new Date(now - 3 * HOUR).toISOString(), patient }), appointmentRow({ start: new Date(now - 26 * HOUR).toISOString(), status: 'PENDING', patient })];
		const inGrace = appointmentRow({ start: new Date(now - 1 * HOUR).toISOString(), patient });
		const done = appointmentRow({ start: new Date(now - 5 * HOUR).toISOString(), status: 'COMPLETED', patient });
		await insertAppointments([...overdue, inGrace, done]);

		const s = await socketOf(patient);
		const events: AppointmentEvent[] = [];
		const notices: string[] = [];
		s.on('appointment:updated', (e) => events.push(e));
		s.on('notification:new', (n) => notices.push(n.kind));

		const w = spawnWorker(['--once', 'missed']);
		expect((await exited(w)).code, w.out.join('')).toBe(0);
		expect(onceResult(w)).toMatchObject({ overdue: 2, marked: 2 });
		await waitFor('two live updates', async () => events.length >= 2 && notices.length >= 2, 5_000);
		expect(events.map((e) => e.id).sort()).toEqual(overdue.map((a) => a.id).sort());
		expect(events.every((e) => e.status === 'MISSED' && e.version === 2 && e.updatedBy === 'MedTrack')).toBe(true);
		expect(notices).toEqual(['appointment_missed', 'appointment_missed']);

		for (const a of overdue) expect(await getItem(app, 'appointments', { id: a.id })).toMatchObject({ status: 'MISSED', version: 2, updated_by: 'system' });
		expect(await getItem(app, 'appointments', { id: inGrace.id })).toMatchObject({ status: 'CONFIRMED', version: 1 });
		expect(await getItem(app, 'appointments', { id: done.id })).toMatchObject({ status: 'COMPLETED', version: 1 });
		const sms = (await scanAll(app, 'outbox')).filter((r) => r.kind === 'appointment_missed' && r.user_id === patient.id);
		expect(sms).toHaveLength(2);
		const audit = await auditEntries(app, (e) => e.action === 'status_missed');
		expect(audit.map((e) => e.resource_id).sort()).toEqual(overdue.map((a) => a.id).sort());
		expect(audit.every((e) => e.user === 'medtrack-worker' && e.role === 'system')).toBe(true);

		const again = spawnWorker(['--once', 'missed']);
		expect((await exited(again)).code).toBe(0);
		expect(onceResult(again)).toMatchObject({ overdue: 0, marked: 0 });
	});

	it('the internal broadcast endpoint refuses a caller without the shared secret', async () => {
		const body = JSON.stringify({ events: [{ room: 'user:someone', event: 'notification:new', payload: {} }] });
		const headers = { 'content-type': 'application/json' };
		expect((await fetch(`${app.url}/api/internal/broadcast`, { method: 'POST', headers, body })).status).toBe(403);
		expect((await fetch(`${app.url}/api/internal/broadcast`, { method: 'POST', headers: { ...headers, 'x-internal-token': 'x'.repeat(48) }, body })).status).toBe(403);
		const ok = await fetch(`${app.url}/api/internal/broadcast`, { method: 'POST', headers: { ...headers, 'x-internal-token': INTERNAL_TOKEN }, body });
		expect(ok.status).toBe(202);
	});
});

describe('housekeeping', () => {
	it('removes expired sessions, reset tokens and lock rows found by query, and keeps live ones and slot locks', async () => {
		const now = Date.now();
		const put = (table: 'sessions' | 'locks', Item: Record<string, unknown>) => app.ctx.db.doc.send(new PutCommand({ TableName: app.ctx.db.tables[table], Item }));
		const tag = crypto.randomBytes(4).toString('hex');
		await Promise.all([
			put('sessions', { id: `old-${tag}`, kind: 'session', user_id: 'u', created_at: 'x', expires_at: now - 60_000, absolute_expires_at: now + HOUR, renewed_at: 0, ttl: 0 }),
			put('sessions', { id: `reset-${tag}`, kind: 'password_reset', user_id: 'u', created_at: 'x', expires_at: now - 1, absolute_expires_at: now - 1, renewed_at: 0, ttl: 0 }),
			put('sessions', { id: `live-${tag}`, kind: 'session', user_id: 'u', created_at: 'x', expires_at: now + HOUR, absolute_expires_at: now + HOUR, renewed_at: 0, ttl: 0 }),
			put('locks', { id: `rate#chat#u#${tag}`, kind: 'chat_rate', count: 3, ttl: Math.floor(now / 1000) - 10 }),
			put('locks', { id: `chat-notify#${tag}`, kind: 'chat_notify', until: now + 60_000, ttl: Math.floor(now / 1000) + 600 }),
			put('locks', { id: `slot#d#${tag}`, kind: 'slot', appointment_id: 'a' })
		]);
		const removed = await removeExpired(app.ctx, { now });
		expect(removed.sessions).toBeGreaterThanOrEqual(2);
		expect(removed.locks).toBeGreaterThanOrEqual(1);
		expect(await getItem(app, 'sessions', { id: `old-${tag}` })).toBeUndefined();
		expect(await getItem(app, 'sessions', { id: `reset-${tag}` })).toBeUndefined();
		expect(await getItem(app, 'sessions', { id: `live-${tag}` })).toBeDefined();
		expect(await getItem(app, 'locks', { id: `rate#chat#u#${tag}` })).toBeUndefined();
		expect(await getItem(app, 'locks', { id: `chat-notify#${tag}` })).toBeDefined();
		expect(await getItem(app, 'locks', { id: `slot#d#${tag}` })).toBeDefined();
		// The signed-in users of this file are untouched.
		expect((await patients[0]!.api.get('/api/me')).status).toBe(200);
	});
});

describe('leader lease', () => {
	it('only the lease holder runs jobs, and a worker whose fencing token is stale stops at the next job', async () => {
		const ran: string[] = [];
		const job: Job = { name: 'probe', cron: '* * * * *', run: async (_ctx, { workerId }) => void ran.push(workerId) };
		const one = createScheduler(app.ctx, [job], { cron: false, leaseMs: 60_000, workerId: 'test:1:one' });
		const two = createScheduler(app.ctx, [job], { cron: false, leaseMs: 60_000, workerId: 'test:2:two' });
		try {
			await app.ctx.db.doc.send(new UpdateCommand({ TableName: app.ctx.db.tables.locks, Key: { id: 'lease#scheduler' }, UpdateExpression: 'SET expires_at = :z', ExpressionAttributeValues: { ':z': 0 } })).catch(() => {});
			await one.tick();
			await two.tick();
			expect(one.isLeader()).toBe(true);
			expect(two.isLeader()).toBe(false);
			expect(await one.trigger('probe')).toBe('ran');
			expect(await two.trigger('probe')).toBe('not-leader');
			expect(ran).toEqual(['test:1:one']);

			// Someone else took the lease behind this worker's back (a pause longer than the lease).
			const token = one.fencingToken()!;
			await app.ctx.db.doc.send(
				new PutCommand({ TableName: app.ctx.db.tables.locks, Item: { id: 'lease#scheduler', kind: 'lease', owner: 'test:3:three', version: token + 1, expires_at: Date.now() + 60_000, heartbeat_at: new Date().toISOString(), ttl: 0 } })
			);
			expect(await one.trigger('probe')).toBe('not-leader');
			expect(one.isLeader()).toBe(false);
			expect(ran).toEqual(['test:1:one']);
		} finally {
			await one.stop();
			await two.stop();
			await app.ctx.db.doc.send(new UpdateCommand({ TableName: app.ctx.db.tables.locks, Key: { id: 'lease#scheduler' }, UpdateExpression: 'SET expires_at = :z', ExpressionAttributeValues: { ':z': 0 } }));
		}
	});

	it('when the leading worker process is killed, the other takes over within a lease period and /api/health shows the new heartbeat', async () => {
		// The worker's heartbeat is among the details /api/health shows an admin only.
		const admin = await app.userOf('admin');
		const w1 = spawnWorker([]);
		const w2 = spawnWorker([]);
		const pidOf = (owner: string) => Number(owner.split(':')[1]);
		const first = await waitFor('a leader', async () => {
			const l = await readLease(app.ctx);
			return l && l.expires_at > Date.now() && [w1.pid, w2.pid].includes(pidOf(l.owner)) ? l : undefined;
		});
		// Both are up (the follower has tried at least once) before the leader dies.
		await sleep(2 * HEARTBEAT_MS);
		const leader = pidOf(first.owner) === w1.pid ? w1 : w2;
		const follower = leader === w1 ? w2 : w1;
		const health = await admin.api.get('/api/health');
		expect(health.body.worker).toMatchObject({ status: 'ok', leader: first.owner, fencingToken: first.version });

		const killedAt = Date.now();
		leader.kill('SIGKILL');
		const second = await waitFor('a new leader', async () => {
			const l = await readLease(app.ctx);
			return l && pidOf(l.owner) === follower.pid ? l : undefined;
		}, 15_000, 50);
		const takeoverMs = Date.now() - killedAt;
		expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + HEARTBEAT_MS + 1_000);
		expect(second.version).toBe(first.version + 1);
		const after = await admin.api.get('/api/health');
		expect(after.body.worker).toMatchObject({ status: 'ok', leader: second.owner, fencingToken: second.version });
		expect(after.body.worker.ageMs).toBeLessThan(LEASE_MS);

		// A clean stop hands the lease back at once.
		await stop(follower, 'SIGTERM');
		expect(follower.exitCode).toBe(0);
		const released = await readLease(app.ctx);
		expect(released!.expires_at).toBe(0);
		expect((await admin.api.get('/api/health')).body.worker.status).toBe('stale');
	});
});

describe('across processes through Redis', () => {
	// Last in the file: it switches this file's web server to the Redis adapter.
	// Never skipped: without redis-server it fails with the line saying what to install (npm test checks first).
	it('with REDIS_URL, a separate worker reaches the web server\'s sockets through the Redis emitter', async () => {
		requireTools(['redis']);
		const port = await freePort();
		redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
		const url = `redis://127.0.0.1:${port}`;
		await waitFor('redis', async () => {
			const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
			return r.stdout?.trim() === 'PONG';
		}, 10_000, 100);
		closeRedisAdapter = await useRedisAdapter(app.server.io, url, app.ctx.log);

		const patient = patients[2]!;
		const overdue = appointmentRow({ start: new Date(Date.now() - 4 * HOUR).toISOString(), patient });
		await insertAppointments([overdue]);
		const s = await socketOf(patient);
		const seen = new Promise<AppointmentEvent>((resolve) => s.on('appointment:updated', (e) => e.id === overdue.id && resolve(e)));
		// The internal endpoint is out of reach: only Redis can carry the event.
		const w = spawnWorker(['--once', 'missed'], { REDIS_URL: url, INTERNAL_URL: 'http://127.0.0.1:9' });
		expect((await exited(w)).code, w.out.join('')).toBe(0);
		const event = await Promise.race([seen, sleep(5_000).then(() => undefined)]);
		expect(event).toMatchObject({ id: overdue.id, status: 'MISSED', version: 2 });
	});
});
