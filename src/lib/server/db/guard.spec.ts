import { describe, expect, it } from 'vitest';
import { CircuitBreaker, DbGuard, DbUnavailableError, Semaphore, classifyDbError } from './guard';

/**
 * The guard's own logic (cap, deadline, breaker, error classes) with stand-in calls. The real
 * DynamoDB paths (kill, SIGSTOP, burst) are proven in tests/integration/outage.test.ts.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const netError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
const answered = (name: string, status: number) =>
	Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });

/** A call that honours the abort signal like the SDK does, and otherwise never settles. */
const hangs = (signal: AbortSignal) =>
	new Promise<never>((_, reject) => {
		const abort = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
		if (signal.aborted) abort();
		signal.addEventListener('abort', abort);
	});

function guard(over: Partial<ConstructorParameters<typeof DbGuard>[0]> = {}) {
	return new DbGuard({ maxInFlight: 4, deadlineMs: 200, probe: async () => {}, probeTimeoutMs: 100, probeIntervalMs: 20, ...over });
}

describe('Semaphore', () => {
	it('lets at most `capacity` holders in and hands slots over in arrival order', async () => {
		const s = new Semaphore(2);
		const order: number[] = [];
		await s.acquire();
		await s.acquire();
		const waiting = [1, 2, 3].map((i) => s.acquire().then(() => order.push(i)));
		expect(s.inFlight).toBe(2);
		expect(s.queued).toBe(3);
		s.release();
		s.release();
		s.release();
		await Promise.all(waiting);
		expect(order).toEqual([1, 2, 3]);
		expect(s.inFlight).toBe(2);
		expect(s.peakQueued).toBe(3);
		expect(s.peakInFlight).toBe(2);
	});

	it('rejectAll empties the queue without touching the holders', async () => {
		const s = new Semaphore(1);
		await s.acquire();
		const a = s.acquire();
		const b = s.acquire();
		expect(s.rejectAll(new Error('down'))).toBe(2);
		await expect(a).rejects.toThrow('down');
		await expect(b).rejects.toThrow('down');
		expect(s.inFlight).toBe(1);
		s.release();
		expect(s.inFlight).toBe(0);
		expect(() => s.release()).toThrow(/more often/);
	});
});

describe('classifyDbError', () => {
	it('network errors and SDK timeouts are outages', () => {
		for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']) {
			expect(classifyDbError(netError(code))).toBe('outage');
		}
		expect(classifyDbError(Object.assign(new Error('the request socket did not establish a connection'), { name: 'TimeoutError' }))).toBe('outage');
		expect(classifyDbError(new Error('socket hang up'))).toBe('outage');
		expect(classifyDbError(new Error('wrapped', { cause: netError('ECONNREFUSED') }))).toBe('outage');
		expect(classifyDbError(answered('ServiceUnavailable', 503))).toBe('outage');
	});

	it('throttling is "busy", and conditional-check, validation or missing-table answers are not outages', () => {
		expect(classifyDbError(answered('ProvisionedThroughputExceededException', 400))).toBe('busy');
		expect(classifyDbError(answered('ThrottlingException', 400))).toBe('busy');
		expect(classifyDbError(answered('Whatever', 429))).toBe('busy');
		expect(classifyDbError(answered('ConditionalCheckFailedException', 400))).toBe('answer');
		expect(classifyDbError(answered('TransactionCanceledException', 400))).toBe('answer');
		expect(classifyDbError(answered('ValidationException', 400))).toBe('answer');
		expect(classifyDbError(answered('ResourceNotFoundException', 400))).toBe('answer');
		expect(classifyDbError(answered('InternalServerError', 500))).toBe('answer');
		// Raised before anything was sent: says nothing about the database.
		expect(classifyDbError(new TypeError('Cannot read properties of undefined'))).toBe('other');
		expect(classifyDbError('a string')).toBe('other');
	});
});

describe('DbGuard: concurrency cap', () => {
	it('never has more than maxInFlight calls running; a queue far longer than the deadline still succeeds', async () => {
		const g = guard({ maxInFlight: 3, deadlineMs: 100 });
		let running = 0;
		let peak = 0;
		const t0 = performance.now();
		// 60 calls of 15 ms through 3 slots: the last waits ~300 ms, three times the deadline.
		const results = await Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				g.run(async () => {
					running++;
					peak = Math.max(peak, running);
					await sleep(15);
					running--;
					return i;
				})
			)
		);
		expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i));
		expect(peak).toBe(3);
		expect(performance.now() - t0).toBeGreaterThan(200);
		expect(g.stats()).toMatchObject({ state: 'closed', inFlight: 0, queued: 0, peakInFlight: 3, trips: 0 });
		expect(g.stats().peakQueued).toBeGreaterThanOrEqual(50);
	});
});

describe('DbGuard: deadline', () => {
	it('aborts a call that gets no answer by the deadline, answers 503 "timeout" and opens the breaker', async () => {
		const g = guard({ deadlineMs: 150, probe: (s) => hangs(s) });
		let signal: AbortSignal | undefined;
		const t0 = performance.now();
		const err = await g.run((s) => ((signal = s), hangs(s))).catch((e: unknown) => e);
		const elapsed = performance.now() - t0;
		expect(err).toBeInstanceOf(DbUnavailableError);
		expect((err as DbUnavailableError).reason).toBe('timeout');
		expect((err as DbUnavailableError).toBody()).toEqual({
			error: { code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(/not reachable/) }
		});
		expect(signal?.aborted).toBe(true);
		expect(elapsed).toBeGreaterThanOrEqual(140);
		expect(elapsed).toBeLessThan(400);
		expect(g.breaker.state).toBe('open');
		g.dispose();
	});

	it('answers at the deadline even if the call ignores the signal, and keeps the slot until the call lets go', async () => {
		const g = guard({ maxInFlight: 1, deadlineMs: 80, probe: (s) => hangs(s) });
		let finish!: () => void;
		const stubborn = new Promise<void>((r) => (finish = r));
		const t0 = performance.now();
		await expect(g.run(() => stubborn)).rejects.toBeInstanceOf(DbUnavailableError);
		expect(performance.now() - t0).toBeLessThan(300);
		expect(g.stats().inFlight).toBe(1);
		finish();
		await sleep(0);
		expect(g.stats().inFlight).toBe(0);
		g.dispose();
	});

	it("a caller's own abort is not an outage", async () => {
		const g = guard();
		const mine = new AbortController();
		const p = g.run((s) => hangs(s), mine.signal);
		await sleep(10);
		mine.abort();
		const err = await p.catch((e: unknown) => e);
		expect(err).not.toBeInstanceOf(DbUnavailableError);
		expect((err as Error).name).toBe('AbortError');
		expect(g.breaker.state).toBe('closed');
	});
});

describe('DbGuard: circuit breaker', () => {
	it('after a network error, new calls fail fast without being sent', async () => {
		const g = guard({ probe: async () => Promise.reject(netError('ECONNREFUSED')) });
		const tripped = await g.run(() => Promise.reject(netError('ECONNREFUSED'))).catch((e: unknown) => e);
		expect(tripped).toBeInstanceOf(DbUnavailableError);
		expect((tripped as DbUnavailableError).reason).toBe('unreachable');
		expect(g.breaker.state).toBe('open');
		let sent = 0;
		const t0 = performance.now();
		const fast = await g.run(async () => void sent++).catch((e: unknown) => e);
		expect(performance.now() - t0).toBeLessThan(20);
		expect(sent).toBe(0);
		expect((fast as DbUnavailableError).reason).toBe('circuit-open');
		expect(g.stats().failedFast).toBe(1);
		g.dispose();
	});

	it('opening the breaker rejects everyone still queued at once', async () => {
		const g = guard({ maxInFlight: 1, deadlineMs: 1_000, probe: async () => Promise.reject(netError('ECONNREFUSED')) });
		let fail!: (e: unknown) => void;
		const holder = g.run(() => new Promise((_, reject) => (fail = reject))).catch((e: unknown) => e);
		let sent = 0;
		const waiting = Array.from({ length: 20 }, () => g.run(async () => void sent++).catch((e: unknown) => e));
		await sleep(0);
		expect(g.stats().queued).toBe(20);
		const t0 = performance.now();
		fail(netError('ECONNRESET'));
		const errs = await Promise.all(waiting);
		expect(performance.now() - t0).toBeLessThan(50);
		expect(sent).toBe(0);
		expect(errs.every((e) => e instanceof DbUnavailableError && e.reason === 'circuit-open')).toBe(true);
		expect(await holder).toBeInstanceOf(DbUnavailableError);
		g.dispose();
	});

	it('throttling answers 503 "busy" and conditional-check failures pass through; neither opens the breaker', async () => {
		const g = guard();
		const busy = await g.run(() => Promise.reject(answered('ProvisionedThroughputExceededException', 400))).catch((e: unknown) => e);
		expect(busy).toBeInstanceOf(DbUnavailableError);
		expect((busy as DbUnavailableError).reason).toBe('busy');
		const conditional = answered('ConditionalCheckFailedException', 400);
		await expect(g.run(() => Promise.reject(conditional))).rejects.toBe(conditional);
		const bug = new TypeError('bug');
		await expect(g.run(() => Promise.reject(bug))).rejects.toBe(bug);
		expect(g.breaker.state).toBe('closed');
		expect(g.stats().trips).toBe(0);
	});

	it('a background probe closes the breaker as soon as the database answers again', async () => {
		let up = false;
		let probes = 0;
		const g = guard({
			probeIntervalMs: 20,
			probe: async () => {
				probes++;
				if (!up) throw netError('ECONNREFUSED');
			}
		});
		await g.run(() => Promise.reject(netError('ECONNREFUSED'))).catch(() => {});
		expect(g.breaker.state).toBe('open');
		await sleep(100);
		expect(probes).toBeGreaterThanOrEqual(2);
		expect(g.breaker.state).toBe('open');
		up = true;
		const back = performance.now();
		while (g.breaker.state === 'open' && performance.now() - back < 1_000) await sleep(5);
		expect(performance.now() - back).toBeLessThan(100);
		await expect(g.run(async () => 'ok')).resolves.toBe('ok');
		g.dispose();
	});

	it('a probe that hangs counts as down (probe deadline) and the next one still runs', async () => {
		let mode: 'hang' | 'up' = 'hang';
		const g = guard({ probeTimeoutMs: 40, probeIntervalMs: 10, probe: (s) => (mode === 'hang' ? hangs(s) : Promise.resolve()) });
		g.breaker.trip('test');
		await sleep(150);
		expect(g.breaker.state).toBe('open');
		mode = 'up';
		await sleep(100);
		expect(g.breaker.state).toBe('closed');
		g.dispose();
	});

	it('ping bypasses the cap, and a ping without an answer within the probe deadline opens the breaker', async () => {
		let hang = false;
		const g = guard({ maxInFlight: 1, deadlineMs: 500, probeTimeoutMs: 60, probe: (s) => (hang ? hangs(s) : Promise.resolve()) });
		const holder = g.run((s) => hangs(s)).catch((e: unknown) => e);
		expect(typeof (await g.ping())).toBe('number');
		hang = true;
		const t0 = performance.now();
		const err = await g.ping().catch((e: unknown) => e);
		expect(performance.now() - t0).toBeLessThan(200);
		expect((err as DbUnavailableError).reason).toBe('timeout');
		expect(g.breaker.state).toBe('open');
		// Open: ping answers at once.
		const t1 = performance.now();
		expect(((await g.ping().catch((e: unknown) => e)) as DbUnavailableError).reason).toBe('circuit-open');
		expect(performance.now() - t1).toBeLessThan(10);
		g.dispose();
		await holder;
	});

	it('pings at the same moment share one probe (a flood of health checks sends one round trip)', async () => {
		let probes = 0;
		const g = guard({
			probe: async () => {
				probes++;
				await sleep(20);
			}
		});
		const latencies = await Promise.all(Array.from({ length: 100 }, () => g.ping()));
		expect(probes).toBe(1);
		expect(new Set(latencies).size).toBe(1);
		await g.ping();
		expect(probes).toBe(2);
	});

	it('CircuitBreaker reports how long it was open', async () => {
		let now = 1_000;
		const closed: number[] = [];
		const b = new CircuitBreaker({ probe: async () => false, probeIntervalMs: 10_000, now: () => now, onClose: (ms) => closed.push(ms) });
		b.trip('x');
		b.trip('again');
		expect(b.trips).toBe(1);
		now += 1_234;
		b.answered();
		expect(closed).toEqual([1_234]);
		expect(b.state).toBe('closed');
		b.dispose();
	});
});
