import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { createSession } from '../../src/lib/server/auth/sessions';

/**
 * A shift change: a thousand people sign in and open their first page at once. The DB guard
 * (src/lib/server/db/guard.ts) queues the burst behind DB_MAX_IN_FLIGHT instead of letting a
 * thousand requests race for sockets and time out.
 *
 * Why not a thousand real logins: each login is one argon2id verification (19 MiB, ~75 ms of
 * one core here), so 1,000 of them are ~40 s of pure hashing on this 2-core machine and would
 * measure argon2, not the database path. The burst below is the database side of the same
 * moment instead: 1,000 sessions written at once (the write a login makes), then 1,000
 * concurrent first requests, each with its own new session, so nothing comes from the session
 * cache (two strongly consistent reads to validate the session, one more to answer /api/me).
 */
const N = 1_000;
let app: TestApp;
let desk: TestUser;

beforeAll(async () => {
	app = await startTestApp({ DB_MAX_IN_FLIGHT: '32' });
	desk = await app.userOf('front_desk');
});
afterAll(async () => app?.close());

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

describe('a burst of 1,000 at once', () => {
	it('1,000 sessions written concurrently and 1,000 concurrent first requests all succeed, queued behind the cap, with no 5xx', async () => {
		const guard = app.ctx.db.guard;
		const t0 = performance.now();
		const sessions = await Promise.all(Array.from({ length: N }, () => createSession(app.ctx, desk.id)));
		const writeMs = performance.now() - t0;
		expect(new Set(sessions.map((s) => s.token)).size).toBe(N);
		const afterWrites = guard.stats();
		expect(afterWrites.peakInFlight).toBeLessThanOrEqual(32);
		expect(afterWrites.peakQueued).toBeGreaterThan(N / 2);
		expect(afterWrites.trips).toBe(0);

		const t1 = performance.now();
		const health: Promise<number>[] = [];
		const requests = sessions.map(async ({ token }, i) => {
			// The load balancer keeps asking meanwhile; health must not fail because of the queue.
			if (i % 250 === 0) health.push(app.client().get('/api/health').then((r) => r.status));
			const s0 = performance.now();
			const res = await fetch(`${app.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
			const body = (await res.json()) as { user?: { id: string } };
			return { status: res.status, ms: performance.now() - s0, id: body.user?.id };
		});
		const results = await Promise.all(requests);
		const readMs = performance.now() - t1;
		const statuses = results.reduce<Record<number, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
		expect(statuses).toEqual({ 200: N });
		expect(results.every((r) => r.id === desk.id)).toBe(true);
		expect(await Promise.all(health)).toEqual([200, 200, 200, 200]);
		const stats = guard.stats();
		expect(stats).toMatchObject({ state: 'closed', inFlight: 0, queued: 0, trips: 0, failedFast: 0 });
		expect(stats.peakInFlight).toBeLessThanOrEqual(32);

		const ms = results.map((r) => r.ms);
		console.log(
			`burst: ${N} createSession in ${writeMs.toFixed(0)} ms; ${N} concurrent GET /api/me in ${readMs.toFixed(0)} ms ` +
				`(p50 ${pct(ms, 50).toFixed(0)} ms, p95 ${pct(ms, 95).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms); ` +
				`guard peak in flight ${stats.peakInFlight}, peak queued ${stats.peakQueued}`
		);
	});
});
