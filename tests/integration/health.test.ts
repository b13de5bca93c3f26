import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { ensureTables } from '../../src/lib/server/db/client';
import { freePort, startDynamoLocal, type EmbeddedDb } from '../../src/lib/server/db/embedded';

/**
 * GET /api/health against a DynamoDB Local this file owns, so it can stop and restart it
 * without disturbing the other files' shared database.
 */
let port: number;
let endpoint: string;
const databases: EmbeddedDb[] = [];
let app: TestApp;
let user: TestUser;

beforeAll(async () => {
	port = await freePort();
	const db = await startDynamoLocal({ port });
	databases.push(db);
	endpoint = db.endpoint;
	app = await startTestApp({ DYNAMODB_ENDPOINT: endpoint });
	user = await app.userOf('front_desk');
});

afterAll(async () => {
	await app?.close();
	// Every DynamoDB Local this file started is stopped: no orphan java process.
	await Promise.all(databases.map((d) => d.stop()));
});

describe('GET /api/health', () => {
	it('answers 200 with the database reachable', async () => {
		const res = await app.client().get('/api/health');
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ status: 'ok', database: { reachable: true }, version: expect.any(String) });
		expect(res.body.database.latencyMs).toEqual(expect.any(Number));
	});

	it('answers 503 while the database is down, and the server keeps answering other requests', async () => {
		await databases[0]!.stop();
		const res = await app.client().get('/api/health');
		expect(res.status).toBe(503);
		expect(res.body).toMatchObject({
			status: 'unavailable',
			database: { reachable: false },
			error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String) }
		});
		// A request that needs the database gets a clean 503 in the error shape, without internals.
		const me = await user.api.get('/api/me');
		expect(me.status).toBe(503);
		expect(me.body.error.code).toBe('SERVICE_UNAVAILABLE');
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
		await ensureTables(app.ctx.db);
		const res = await app.client().get('/api/health');
		expect(res.status).toBe(200);
		expect(res.body.database.reachable).toBe(true);
		// The new database is empty (in memory): the old session is gone, a new account works.
		expect((await user.api.get('/api/me')).status).toBe(401);
		const fresh = await app.userOf('nurse');
		expect((await fresh.api.get('/api/me')).status).toBe(200);
	});
});
