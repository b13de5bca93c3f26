import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoLocal, type EmbeddedDb } from '../../src/lib/server/db/embedded';
import { morningZone } from '../../tests/fixtures/clinic';
import { countFlag, orExit, parseFlags, progress } from '../cli';
import { barChartSvg } from './chart';
import { percentile } from './stats';

/**
 * `npm run bench:realtime [-- --clients 1000 --doctors 20 --writes 200]`
 * Both sides in one run: MedTrack's fan-out against a bare Socket.IO server with the same
 * clients, rooms and payload; MedTrack's write API against a raw TransactWriteItems of the
 * same shape. Prints times and ratios, writes bench/results/realtime.json and .svg.
 */
const f = orExit(() => parseFlags({ clients: { type: 'string', value: '<count>' }, doctors: { type: 'string', value: '<count>' }, writes: { type: 'string', value: '<count>' } }));
const [N, DOCTORS, WRITES] = orExit(() => [countFlag(f.clients, 'clients', 1000), countFlag(f.doctors, 'doctors', 20), countFlag(f.writes, 'writes', 200)]);
const tz = morningZone();
/** Runs compiled (build-server/bench/): the server and clients are the compiled files beside this one. */
const sibling = (file: string) => fileURLToPath(new URL(`./${file}`, import.meta.url));

type Ready = {
	type: 'ready';
	url: string;
	rooms: string[];
	tokens?: string[];
	appointments?: { id: string; doctorId: string; version: number }[];
	deskToken?: string;
	doctorTokens?: Record<string, string>;
	transactShape?: Shape;
};

const pct = percentile;
const stats = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), max: Math.max(...xs) });
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');

/**
 * Every child of the benchmark is supervised: one that exits before it is told to stop (its
 * setup threw, it crashed) ends the whole run at once with a message and a non-zero status,
 * instead of leaving the parent waiting for an answer that never comes.
 */
const children = new Map<ChildProcess, { name: string; stopping: boolean }>();
let aborting = false;
let database: EmbeddedDb | undefined;

function fail(message: string): void {
	if (aborting) return;
	aborting = true;
	console.error(`\nbench:realtime: ${message}`);
	for (const child of children.keys()) child.kill('SIGKILL');
	setTimeout(() => process.exit(1), 5_000).unref();
	void (database?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
}

function supervise(child: ChildProcess, name: string): ChildProcess {
	children.set(child, { name, stopping: false });
	child.once('exit', (code, signal) => {
		const state = children.get(child);
		children.delete(child);
		if (state?.stopping && code === 0) return;
		fail(`the ${name} process died (${signal ? `signal ${signal}` : `exit code ${code}`}) before the run finished; see its output above.`);
	});
	child.once('error', (err) => fail(`could not run the ${name} process: ${err.message}`));
	return child;
}

/** Asks a child to stop and waits until it has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
	const state = children.get(child);
	if (!state) return;
	state.stopping = true;
	const exited = new Promise((r) => child.once('exit', r));
	child.send({ type: 'stop' });
	await exited;
}

function ask<T>(child: ChildProcess, type: string, msg?: unknown): Promise<T> {
	return new Promise((resolve) => {
		const on = (m: { type: string }) => {
			if (m.type === type) {
				child.off('message', on);
				resolve(m as T);
			}
		};
		child.on('message', on);
		if (msg) child.send(msg as never);
	});
}

let shape: Shape | undefined;

async function runSide(mode: 'app' | 'bare' | 'bare-db', endpoint: string) {
	console.log(`\n[${mode}] starting server…`);
	const child = supervise(
		fork(sibling('realtime-server.js'), [mode, String(N), String(DOCTORS), String(WRITES), endpoint, tz], {
			execArgv: ['--expose-gc'],
			env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
		}),
		`${mode} server`
	);
	const baseline = ask<{ rss: number }>(child, 'rss-baseline');
	const ready = await ask<Ready>(child, 'ready');
	await baseline;
	const before = await ask<{ rss: number; heap: number }>(child, 'rss', { type: 'rss' });

	// The clients live in a process of their own, so this one (the API caller) does not delay them.
	const clients = supervise(fork(sibling('realtime-clients.js')), `${mode} clients`);
	await ask(clients, 'ready');
	const bar = progress(`${mode} connect`, N);
	const onProgress = (m: { type: string; done?: number }) => m.type === 'progress' && bar.tick(m.done!);
	clients.on('message', onProgress);
	await ask(clients, 'connected', { type: 'connect', url: ready.url, tokens: ready.tokens, rooms: ready.rooms, n: N });
	clients.off('message', onProgress);
	bar.done();
	const roomOf = Array.from({ length: N }, (_, i) => i % ready.rooms.length);
	const after = await ask<{ rss: number; heap: number }>(child, 'rss', { type: 'rss' });
	const perRoom = ready.rooms.map((_, r) => roomOf.filter((x) => x === r).length);

	const fanout: number[] = [];
	const afterResponse: number[] = [];
	const sinceRequest: number[] = [];
	const keys: { key: string; t0: number; t1: number }[] = [];
	const serverTime: number[] = [];
	const rawTimes: number[] = [];
	if (ready.transactShape) shape = ready.transactShape;
	// app: the raw write is timed beside each API write; bare-db: it runs just before each emit.
	const raw = mode !== 'bare' && shape ? rawWriter(endpoint, shape, mode) : undefined;
	let missing = 0;
	const apiLatency: number[] = [];
	let early = 0;
	const wbar = progress(`${mode} writes`, WRITES);
	const steps = ['CONFIRMED', 'CHECKED_IN', 'CONSULTING', 'COMPLETED'] as const;
	for (let k = 0; k < WRITES; k++) {
		let key: string;
		let roomIndex: number;
		const t0 = performance.timeOrigin + performance.now();
		let t1: number;
		if (mode === 'app') {
			const a = ready.appointments![Math.floor(k / 4) % ready.appointments!.length]!;
			const status = steps[k % 4]!;
			const token = status === 'CONSULTING' || status === 'COMPLETED' ? ready.doctorTokens![a.doctorId]! : ready.deskToken!;
			const res = await fetch(`${ready.url}/api/appointments/${a.id}`, {
				method: 'PATCH',
				headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
				body: JSON.stringify({ version: a.version, status })
			});
			t1 = performance.timeOrigin + performance.now();
			serverTime.push(Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN));
			const body = (await res.json()) as { appointment?: { version: number }; error?: unknown };
			if (!body.appointment) throw new Error(`write failed: ${JSON.stringify(body)}`);
			a.version = body.appointment.version;
			key = `${a.id}:${a.version}`;
			roomIndex = ready.rooms.indexOf(`doctor-queue:${a.doctorId}`);
		} else {
			roomIndex = k % ready.rooms.length;
			const id = `bare-${k}`;
			const payload = { id, version: 2, status: 'CHECKED_IN', updatedBy: 'Bench Desk', updatedAt: new Date().toISOString(), doctorId: 'd', patientId: 'p', date: '2026-01-01' };
			if (mode === 'bare-db') await raw!.write(k);
			await fetch(`${ready.url}/emit`, { method: 'POST', body: JSON.stringify({ room: ready.rooms[roomIndex], payload }) });
			t1 = performance.timeOrigin + performance.now();
			key = `${id}:2`;
		}
		apiLatency.push(t1 - t0);
		const expected = perRoom[roomIndex]!;
		const { count } = await ask<{ count: number }>(clients, 'arrived', { type: 'expect', key, expected });
		missing += expected - count;
		if (raw && mode === 'app') rawTimes.push(await raw.write(k));
		keys.push({ key, t0, t1 });
		wbar.tick(k + 1);
	}
	wbar.done();
	const { emits } = await ask<{ emits: Record<string, number> }>(child, 'emits', { type: 'emits' });
	const { received } = await ask<{ received: Record<string, number[]> }>(clients, 'dump', { type: 'dump' });
	for (const { key, t0, t1 } of keys) {
		for (const t of received[key] ?? []) {
			if (t < t1) early++;
			fanout.push(t - emits[key]!);
			afterResponse.push(t - t1);
			sinceRequest.push(t - t0);
		}
	}
	raw?.close();
	await stopChild(clients);
	await stopChild(child);
	return {
		fanout: stats(fanout),
		missing,
		fanoutAfterResponse: stats(afterResponse),
		fanoutSinceRequest: stats(sinceRequest),
		deliveredBeforeResponse: early,
		api: stats(apiLatency),
		apiServer: stats(serverTime),
		rssPerSocketKiB: (after.rss - before.rss) / N / 1024,
		heapPerSocketKiB: (after.heap - before.heap) / N / 1024,
		rssWithSocketsMiB: after.rss / 1024 / 1024,
		raw: stats(rawTimes)
	};
}

type Shape = { table: string; audit: string; notifications: string; outbox: string; records: string; invoices: string };

/**
 * The app's status-change transaction written by hand with the SDK (the update, the
 * patient's notification and SMS, the audit entry, and the visit record or invoice where the
 * step creates one), timed under the same load, interleaved with the app's own writes.
 */
function rawWriter(endpoint: string, shape: Shape, prefix: string) {
	const raw = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
	const doc = DynamoDBDocumentClient.from(raw);
	const versions = new Map<string, number>();
	return {
		async write(k: number): Promise<number> {
			const id = `${prefix}-${Math.floor(k / 4)}`;
			if (!versions.has(id)) {
				await doc.send(new PutCommand({ TableName: shape.table, Item: { id, version: 1, status: 'PENDING' } }));
				versions.set(id, 1);
			}
			const version = versions.get(id)!;
			const step = k % 4;
			const more =
				step === 2
					? [{ Put: { TableName: shape.records, Item: { id: `mr_${id}`, appointment_id: id, patient_id: 'bench', version: 1, diagnosis: '', prescriptions: [] }, ConditionExpression: 'attribute_not_exists(id)' } }]
					: step === 3
						? [{ Put: { TableName: shape.invoices, Item: { id: `inv_${id}`, appointment_id: id, patient_id: 'bench', total_cents: 5000, status: 'unpaid', version: 1 }, ConditionExpression: 'attribute_not_exists(id)' } }]
						: [];
			const now = new Date().toISOString();
			const t0 = performance.now();
			await doc.send(
				new TransactWriteCommand({
					TransactItems: [
						{
							Update: {
								TableName: shape.table,
								Key: { id },
								UpdateExpression: 'SET #s = :s, #v = #v + :one, updated_at = :now',
								ConditionExpression: 'attribute_exists(id) AND #v = :read',
								ExpressionAttributeNames: { '#s': 'status', '#v': 'version' },
								ExpressionAttributeValues: { ':s': `S${step}`, ':one': 1, ':read': version, ':now': now },
								ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
							}
						},
						...more,
						{ Put: { TableName: shape.notifications, Item: { user_id: 'bench', sort_key: `${now}#${crypto.randomUUID()}`, title: 'Appointment confirmed', body: 'Your appointment is confirmed.', read: false } } },
						{ Put: { TableName: shape.outbox, Item: { id: crypto.randomUUID(), kind: 'appointment_confirmed', channel: 'sms', user_id: 'bench', body: 'MedTrack: Your appointment is confirmed.', status: 'pending', attempts: 0, created_at: now } } },
						{ Put: { TableName: shape.audit, Item: { log_id: crypto.randomUUID(), action: 'update', timestamp: now }, ConditionExpression: 'attribute_not_exists(log_id)' } }
					]
				})
			);
			versions.set(id, version + 1);
			return performance.now() - t0;
		},
		close: () => raw.destroy()
	};
}

process.on('uncaughtException', (err) => fail(err.stack ?? String(err)));
process.on('unhandledRejection', (err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
const db = await startDynamoLocal();
database = db;
try {
	console.log(`bench:realtime — ${N} clients over ${DOCTORS} doctor-queue rooms, ${WRITES} status changes each side (zone ${tz})`);
	const app = await runSide('app', db.endpoint);
	const bare = await runSide('bare', db.endpoint);
	// Control: the bare server again, each emit right after the same TransactWriteItems the app
	// commits before it broadcasts: what DynamoDB Local on the same two cores costs a fan-out.
	const bareDb = await runSide('bare-db', db.endpoint);
	const raw = app.raw;

	const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
	const result = {
		date: new Date().toISOString(),
		machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
		clients: N,
		rooms: DOCTORS,
		writes: WRITES,
		app,
		bare,
		bareDb,
		raw,
		ratios: {
			fanoutP50: ratio(app.fanout.p50, bare.fanout.p50),
			fanoutP95: ratio(app.fanout.p95, bare.fanout.p95),
			fanoutP99: ratio(app.fanout.p99, bare.fanout.p99),
			fanoutP50VsBareDb: ratio(app.fanout.p50, bareDb.fanout.p50),
			fanoutP95VsBareDb: ratio(app.fanout.p95, bareDb.fanout.p95),
			writeP50: ratio(app.api.p50, raw.p50),
			serverWriteP50: ratio(app.apiServer.p50, raw.p50)
		},
		apiOverheadP50Ms: app.api.p50 - raw.p50,
		serverOverheadP50Ms: app.apiServer.p50 - raw.p50
	};

	const row = (label: string, s: { p50: number; p95: number; p99: number; max: number }) =>
		console.log(`  ${label.padEnd(42)} p50 ${ms(s.p50).padStart(7)}  p95 ${ms(s.p95).padStart(7)}  p99 ${ms(s.p99).padStart(7)}  max ${ms(s.max).padStart(8)} ms`);
	console.log('\nResults');
	row('app: fan-out, server emit → client', app.fanout);
	row('bare: fan-out, server emit → client', bare.fanout);
	row('bare after the same DB write (control)', bareDb.fanout);
	row('app: client receipt − API response', app.fanoutAfterResponse);
	row('bare: client receipt − emit response', bare.fanoutAfterResponse);
	row('app: PATCH /api/appointments/:id', app.api);
	row('app: same, time inside the server', app.apiServer);
	row('raw: TransactWriteItems (same items)', raw);
	console.log(`  events received before the HTTP response reached the caller: app ${app.deliveredBeforeResponse}/${app.fanout.n}, bare ${bare.deliveredBeforeResponse}/${bare.fanout.n}; missing: app ${app.missing}, bare ${bare.missing}, control ${bareDb.missing}`);
	console.log(`  server memory per connected socket (heap+external after GC): app ${app.heapPerSocketKiB.toFixed(1)} KiB, bare ${bare.heapPerSocketKiB.toFixed(1)} KiB`);
	console.log(`  server RSS growth per socket: app ${app.rssPerSocketKiB.toFixed(1)} KiB, bare ${bare.rssPerSocketKiB.toFixed(1)} KiB (RSS with all sockets: app ${app.rssWithSocketsMiB.toFixed(0)} MiB, bare ${bare.rssWithSocketsMiB.toFixed(0)} MiB)`);
	console.log('\nRatios');
	console.log(`  fan-out p50  app ÷ bare = ${result.ratios.fanoutP50.toFixed(2)}  (target ≤ 1.5)`);
	console.log(`  fan-out p95  app ÷ bare = ${result.ratios.fanoutP95.toFixed(2)}`);
	console.log(`  fan-out p99  app ÷ bare = ${result.ratios.fanoutP99.toFixed(2)}`);
	console.log(`  fan-out p50  app ÷ (bare after the same DB write) = ${result.ratios.fanoutP50VsBareDb.toFixed(2)}, p95 = ${result.ratios.fanoutP95VsBareDb.toFixed(2)}`);
	console.log(`  write p50 (client-observed)  app ÷ raw = ${result.ratios.writeP50.toFixed(2)}  (API adds ${result.apiOverheadP50Ms.toFixed(2)} ms at p50)`);
	console.log(`  write p50 (inside server)    app ÷ raw = ${result.ratios.serverWriteP50.toFixed(2)}  (API adds ${result.serverOverheadP50Ms.toFixed(2)} ms at p50; target < 5 ms)`);

	const out = path.resolve('bench/results');
	fs.mkdirSync(out, { recursive: true });
	fs.writeFileSync(path.join(out, 'realtime.json'), JSON.stringify(result, null, 2));
	fs.writeFileSync(
		path.join(out, 'realtime.svg'),
		barChartSvg(`Realtime: ${N} clients, ${DOCTORS} rooms, ${WRITES} writes (ms)`, [
			{ group: 'fan-out p50', bars: [{ label: 'MedTrack', value: app.fanout.p50 }, { label: 'bare Socket.IO', value: bare.fanout.p50 }, { label: 'bare after the same DB write', value: bareDb.fanout.p50 }] },
			{ group: 'fan-out p95', bars: [{ label: 'MedTrack', value: app.fanout.p95 }, { label: 'bare Socket.IO', value: bare.fanout.p95 }, { label: 'bare after the same DB write', value: bareDb.fanout.p95 }] },
			{ group: 'write p50', bars: [{ label: 'MedTrack API (client)', value: app.api.p50 }, { label: 'MedTrack API (in server)', value: app.apiServer.p50 }, { label: 'raw TransactWrite', value: raw.p50 }] },
			{ group: 'write p95', bars: [{ label: 'MedTrack API (client)', value: app.api.p95 }, { label: 'MedTrack API (in server)', value: app.apiServer.p95 }, { label: 'raw TransactWrite', value: raw.p95 }] }
		])
	);
	console.log(`\nWrote ${path.relative(process.cwd(), path.join(out, 'realtime.json'))} and realtime.svg`);
} catch (err) {
	fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
} finally {
	if (!aborting) await db.stop();
}
