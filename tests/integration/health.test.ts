import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { ensureTables } from '../../src/lib/server/db/client';
import { freePort, startDynamoLocal, type EmbeddedDb } from '../../src/lib/server/db/embedded';
import { sleep } from './helpers';

/**
 * GET /api/health against a DynamoDB Local this file owns, so it can stop and restart it
 * without disturbing the other files' shared database. (Killed and frozen databases, with
 * latencies and data kept across the outage: outage.test.ts.)
 */
let port: number;
let endpoint: string;
const databases: EmbeddedDb[] = [];
let app: TestApp;
let user: TestUser;
let nurse: TestUser;
let admin: TestUser;
let superAdmin: TestUser;

beforeAll(async () => {
	port = await freePort();
	const db = await startDynamoLocal({ port });
	databases.push(db);
	endpoint = db.endpoint;
	app = await startTestApp({ DYNAMODB_ENDPOINT: endpoint });
	[user, nurse, admin, superAdmin] = await Promise.all([
		app.userOf('front_desk'),
		app.userOf('nurse'),
		app.userOf('admin'),
		app.userOf('super_admin')
	]);
});

afterAll(async () => {
	await app?.close();
	// Every DynamoDB Local this file started is stopped: no orphan java process.
	await Promise.all(databases.map((d) => d.stop()));
});

describe('GET /api/health', () => {
	it('tells anonymous and non-admin callers the status only', async () => {
		// (Not `user`: its session must not sit in the session cache when the database restarts below.)
		for (const client of [app.client(), nurse.api]) {
			const res = await client.get('/api/health');
			expect(res.status).toBe(200);
			expect(res.body).toEqual({ status: 'ok' });
		}
	});

	it('shows an admin and a super admin the database latency, the guard, the worker heartbeat and the version', async () => {
		for (const who of [admin, superAdmin]) {
			const res = await who.api.get('/api/health');
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({
				status: 'ok',
				version: expect.any(String),
				database: { reachable: true, latencyMs: expect.any(Number), guard: { state: 'closed', maxInFlight: expect.any(Number) } }
			});
			expect(res.body).toHaveProperty('worker');
		}
	});

	it('answers 503 while the database is down, and the server keeps answering other requests', async () => {
		await databases[0]!.stop();
		const t0 = performance.now();
		const res = await app.client().get('/api/health');
		expect(performance.now() - t0).toBeLessThan(2_000);
		expect(res.status).toBe(503);
		expect(res.body).toEqual({
			status: 'unavailable',
			error: { code: 'DATABASE_UNAVAILABLE', message: expect.any(String), details: { requestId: expect.any(String) } }
		});
		expect(res.headers.get('retry-after')).toBe('2');
		// A request that needs the database gets a clean 503 in the error shape, without internals.
		const me = await user.api.get('/api/me');
		expect(me.status).toBe(503);
		expect(me.body.error.code).toBe('DATABASE_UNAVAILABLE');
		expect(JSON.stringify(me.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack|at /);
		// One that does not still answers normally.
		expect((await app.client().get('/api/me')).status).toBe(401);
		expect((await app.client().get('/api/no-such-endpoint')).status).toBe(404);
		expect((await app.client().get('/api/health')).status).toBe(503);
	});

	it('answers 200 again once the database is back on the same port (tables re-created)', async () => {
		const db = await startDynamoLocal({ port });
		databases.push(db);
		expect(db.endpoint).toBe(endpoint);
		// The breaker's probe sees the new database within a moment (until then calls fail fast);
		// then the tables are made again.
		const back = performance.now();
		while (app.ctx.db.guard.stats().state === 'open') {
			expect(performance.now() - back).toBeLessThan(5_000);
			await sleep(20);
		}
		await ensureTables(app.ctx.db);
		const res = await app.client().get('/api/health');
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ status: 'ok' });
		// The new database is empty (in memory): the old session is gone, a new account works.
		expect((await user.api.get('/api/me')).status).toBe(401);
		const fresh = await app.userOf('nurse');
		expect((await fresh.api.get('/api/me')).status).toBe(200);
	});
});
