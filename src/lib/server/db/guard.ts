import type { ErrorBody } from '$lib/shared/errors';
import { errorBody } from '../errors';

/**
 * The DB guard: every DynamoDB command of a process goes through one `DbGuard` (installed on
 * both clients by `createDb` in `client.ts`), which
 *
 * - caps the commands in flight (`DB_MAX_IN_FLIGHT`); the rest wait in a FIFO queue, without a
 *   timeout, so a burst queues instead of piling up sockets that time out;
 * - gives each command, once it holds a slot, one overall deadline (`DB_DEADLINE_MS`) that covers
 *   the SDK's own retries and aborts the HTTP request when it passes;
 * - keeps a circuit breaker: the first network error or deadline opens it, queued commands and
 *   every new one then fail at once, and a background probe closes it as soon as DynamoDB
 *   answers again. Throttling, validation and conditional-check errors are answers, not outages.
 *
 * Whatever the cause, a caller sees one error for "the database cannot serve this now":
 * `DbUnavailableError` (HTTP 503, `DATABASE_UNAVAILABLE`). Nothing else in the code looks at
 * SDK error names to decide that.
 */

export type DbUnavailableReason =
	/** a network error reached DynamoDB (connection refused or reset, DNS…) */
	| 'unreachable'
	/** the command's deadline passed before DynamoDB answered; its outcome is unknown */
	| 'timeout'
	/** the breaker is open: the command was not sent */
	| 'circuit-open'
	/** DynamoDB throttled the command after the SDK's retries (not an outage) */
	| 'busy';

const MESSAGES: Record<DbUnavailableReason, string> = {
	unreachable: 'The database is not reachable right now. Please try again shortly.',
	timeout: 'The database is not reachable right now. Please try again shortly.',
	'circuit-open': 'The database is not reachable right now. Please try again shortly.',
	busy: 'The database is busy right now. Please try again shortly.'
};

/** The database cannot serve this request now: 503 `DATABASE_UNAVAILABLE`, never internals. */
export class DbUnavailableError extends Error {
	override name = 'DbUnavailableError';
	readonly status = 503;
	readonly code = 'DATABASE_UNAVAILABLE' as const;
	readonly headers: Record<string, string> = { 'Retry-After': '2' };
	constructor(
		readonly reason: DbUnavailableReason,
		options?: { cause?: unknown }
	) {
		super(MESSAGES[reason], options);
	}
	toBody(requestId?: string): ErrorBody {
		return errorBody(this.code, this.message, requestId ? { requestId } : undefined);
	}
}

// ---------------------------------------------------------------------------------------------
// Error classification

/** Error codes of a request that never got an HTTP answer (Node's and the SDK's). */
const NETWORK_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ECONNABORTED',
	'EPIPE',
	'ETIMEDOUT',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'ENETDOWN',
	'ENOTFOUND',
	'EAI_AGAIN',
	'UND_ERR_SOCKET',
	'UND_ERR_CONNECT_TIMEOUT'
]);
/** `TimeoutError` is what @smithy/node-http-handler throws for its connection and request timeouts. */
const NETWORK_NAMES = new Set(['TimeoutError', 'NetworkingError', 'RequestTimeout']);
/** DynamoDB's "slow down" answers (the SDK has already retried them with backoff). */
const THROTTLING_NAMES = new Set([
	'ProvisionedThroughputExceededException',
	'ThrottlingException',
	'RequestLimitExceeded',
	'Throttling'
]);

type SdkLikeError = {
	name?: unknown;
	code?: unknown;
	message?: unknown;
	cause?: unknown;
	$metadata?: { httpStatusCode?: number };
	$retryable?: { throttling?: boolean };
};

/**
 * `outage`: DynamoDB did not answer (network error, timeout, a 502/503/504 from whatever is in
 * front of it). `busy`: it answered "throttled". `answer`: any other answer from DynamoDB (a
 * conditional check, validation, a missing table…). `other`: an error raised before anything
 * was sent (serialization, a bug), which says nothing about the database.
 */
export type DbErrorKind = 'outage' | 'busy' | 'answer' | 'other';

export function classifyDbError(err: unknown): DbErrorKind {
	if (typeof err !== 'object' || err === null) return 'other';
	const e = err as SdkLikeError;
	const status = e.$metadata?.httpStatusCode;
	if (THROTTLING_NAMES.has(String(e.name)) || status === 429 || e.$retryable?.throttling === true) return 'busy';
	if (status !== undefined) return status === 502 || status === 503 || status === 504 ? 'outage' : 'answer';
	let x: SdkLikeError | undefined = e;
	for (let depth = 0; x && depth < 5; depth++) {
		if (NETWORK_CODES.has(String(x.code)) || NETWORK_NAMES.has(String(x.name))) return 'outage';
		if (typeof x.message === 'string' && /socket hang up/i.test(x.message)) return 'outage';
		x = typeof x.cause === 'object' && x.cause !== null ? (x.cause as SdkLikeError) : undefined;
	}
	return 'other';
}

// ---------------------------------------------------------------------------------------------
// Semaphore

type Waiter = { resolve: () => void; reject: (err: unknown) => void };

/** A counting semaphore with a FIFO queue and no timeout. */
export class Semaphore {
	#free: number;
	#queue: (Waiter | undefined)[] = [];
	#head = 0;
	peakInFlight = 0;
	peakQueued = 0;

	constructor(readonly capacity: number) {
		if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
		this.#free = capacity;
	}

	get inFlight(): number {
		return this.capacity - this.#free;
	}
	get queued(): number {
		return this.#queue.length - this.#head;
	}

	/** Resolves once a slot is held; the holder must call release() exactly once. */
	acquire(): Promise<void> {
		if (this.#free > 0 && this.queued === 0) {
			this.#free--;
			this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
			return Promise.resolve();
		}
		return new Promise<void>((resolve, reject) => {
			this.#queue.push({ resolve, reject });
			this.peakQueued = Math.max(this.peakQueued, this.queued);
		});
	}

	release(): void {
		const next = this.#shift();
		if (next) {
			// The slot passes straight to the next in line: in flight stays the same.
			next.resolve();
			return;
		}
		if (this.#free >= this.capacity) throw new Error('Semaphore released more often than acquired');
		this.#free++;
	}

	/** Rejects everyone waiting (they never held a slot). */
	rejectAll(err: unknown): number {
		let n = 0;
		for (let w = this.#shift(); w; w = this.#shift()) {
			w.reject(err);
			n++;
		}
		return n;
	}

	#shift(): Waiter | undefined {
		if (this.#head >= this.#queue.length) return undefined;
		const w = this.#queue[this.#head];
		this.#queue[this.#head++] = undefined;
		if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
			this.#queue = this.#queue.slice(this.#head);
			this.#head = 0;
		}
		return w;
	}
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker

export type BreakerState = 'closed' | 'open';

/**
 * Closed: calls go through. Opened by `trip()` (an outage seen by any call or probe); while
 * open, `probe` runs every `probeIntervalMs` (one at a time) and the first answer closes it.
 * Any other call that gets an answer from the database meanwhile closes it too.
 */
export class CircuitBreaker {
	state: BreakerState = 'closed';
	openedAt: number | undefined;
	trips = 0;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#disposed = false;

	constructor(
		private readonly opts: {
			probe: () => Promise<boolean>;
			probeIntervalMs: number;
			onOpen?: (reason: string) => void;
			onClose?: (downMs: number) => void;
			now?: () => number;
		}
	) {}

	get isOpen(): boolean {
		return this.state === 'open';
	}

	trip(reason: string): void {
		if (this.state === 'open' || this.#disposed) return;
		this.state = 'open';
		this.openedAt = this.#now();
		this.trips++;
		this.opts.onOpen?.(reason);
		this.#schedule();
	}

	/** The database answered something: it is reachable. */
	answered(): void {
		if (this.state !== 'open') return;
		const downMs = this.#now() - (this.openedAt ?? this.#now());
		this.state = 'closed';
		this.openedAt = undefined;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = undefined;
		this.opts.onClose?.(downMs);
	}

	dispose(): void {
		this.#disposed = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#schedule(): void {
		if (this.#disposed || this.state !== 'open') return;
		this.#timer = setTimeout(async () => {
			this.#timer = undefined;
			if (this.#disposed || this.state !== 'open') return;
			const ok = await this.opts.probe().catch(() => false);
			if (ok) this.answered();
			else this.#schedule();
		}, this.opts.probeIntervalMs);
		// A process with nothing else to do may exit while the database is down.
		this.#timer.unref?.();
	}

	#now(): number {
		return (this.opts.now ?? Date.now)();
	}
}

// ---------------------------------------------------------------------------------------------
// The guard

/** Rejects when `signal` aborts, whatever `promise` does (it keeps its own handlers). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
	if (signal.aborted) return Promise.reject(signal.reason);
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		signal.addEventListener('abort', onAbort, { once: true });
		promise.then(
			(v) => {
				signal.removeEventListener('abort', onAbort);
				resolve(v);
			},
			(e) => {
				signal.removeEventListener('abort', onAbort);
				reject(e);
			}
		);
	});
}

class DeadlineExceeded extends Error {
	override name = 'DeadlineExceeded';
}

export type GuardOptions = {
	maxInFlight: number;
	/** Overall deadline of one command once it holds a slot, SDK retries included. */
	deadlineMs: number;
	/** A cheap round trip (e.g. DescribeTable), sent outside the cap; resolves when DynamoDB answers. */
	probe: (signal: AbortSignal) => Promise<unknown>;
	/** Deadline of one probe (also /api/health's ping). */
	probeTimeoutMs?: number;
	/** Pause between probes while the breaker is open. */
	probeIntervalMs?: number;
	log?: { warn(msg: string, f?: Record<string, unknown>): void; info(msg: string, f?: Record<string, unknown>): void };
	now?: () => number;
};

export type GuardStats = {
	state: BreakerState;
	inFlight: number;
	queued: number;
	maxInFlight: number;
	deadlineMs: number;
	peakInFlight: number;
	peakQueued: number;
	trips: number;
	failedFast: number;
	openForMs: number | null;
};

export class DbGuard {
	readonly semaphore: Semaphore;
	readonly breaker: CircuitBreaker;
	readonly deadlineMs: number;
	readonly probeTimeoutMs: number;
	failedFast = 0;
	readonly #probe: GuardOptions['probe'];
	#probing: Promise<number> | undefined;
	readonly #now: () => number;

	constructor(opts: GuardOptions) {
		this.semaphore = new Semaphore(opts.maxInFlight);
		this.deadlineMs = opts.deadlineMs;
		this.probeTimeoutMs = opts.probeTimeoutMs ?? 1_000;
		this.#probe = opts.probe;
		this.#now = opts.now ?? Date.now;
		this.breaker = new CircuitBreaker({
			probeIntervalMs: opts.probeIntervalMs ?? 250,
			now: this.#now,
			probe: () => this.#probeShared().then(
				() => true,
				() => false
			),
			onOpen: (reason) => {
				const dropped = this.semaphore.rejectAll(new DbUnavailableError('circuit-open'));
				this.failedFast += dropped;
				opts.log?.warn('database unreachable: failing fast until it answers again', { reason, queuedDropped: dropped });
			},
			onClose: (downMs) => opts.log?.info('database reachable again', { downMs })
		});
	}

	/**
	 * Runs one command under the cap, the deadline and the breaker. `call` must pass `signal`
	 * to the SDK (`send(cmd, { abortSignal })`) so the HTTP request ends with the deadline.
	 */
	async run<T>(call: (signal: AbortSignal) => Promise<T>, callerSignal?: AbortSignal): Promise<T> {
		callerSignal?.throwIfAborted();
		if (this.breaker.isOpen) throw this.#failFast();
		await this.semaphore.acquire();
		// Opened between this slot being handed over and this continuation running.
		if (this.breaker.isOpen) {
			this.semaphore.release();
			throw this.#failFast();
		}
		const deadline = new AbortController();
		const timer = setTimeout(() => deadline.abort(new DeadlineExceeded(`no answer within ${this.deadlineMs} ms`)), this.deadlineMs);
		const signal = callerSignal ? AbortSignal.any([deadline.signal, callerSignal]) : deadline.signal;
		let underlying: Promise<T>;
		try {
			underlying = call(signal);
		} catch (err) {
			underlying = Promise.reject(err);
		}
		// The outcome is judged (breaker tripped or closed) before the slot passes to the next in
		// line, and the slot is held until the SDK has really let go of the request, so the cap
		// is honest even if a request outlives its deadline.
		const outcome = underlying.then(
			(value) => {
				this.breaker.answered();
				this.semaphore.release();
				return { ok: true as const, value };
			},
			(err: unknown) => {
				// Past the deadline the caller has had its answer (and the breaker its trip) below;
				// a late failure says nothing new and must not re-open a breaker the probe closed.
				const mapped = deadline.signal.aborted ? err : this.#translate(err, false, callerSignal);
				this.semaphore.release();
				return { ok: false as const, err: mapped };
			}
		);
		let done: Awaited<typeof outcome>;
		try {
			done = await untilAborted(outcome, signal);
		} catch (reason) {
			// The deadline (or the caller's own signal) fired before the SDK settled.
			throw this.#translate(reason, deadline.signal.aborted, callerSignal);
		} finally {
			clearTimeout(timer);
		}
		if (done.ok) return done.value;
		throw done.err;
	}

	/**
	 * One probe now, outside the cap (used by /api/health); its round-trip time in ms. Callers
	 * at the same moment share one probe, so a flood of health checks sends one DescribeTable.
	 */
	async ping(): Promise<number> {
		if (this.breaker.isOpen) throw this.#failFast();
		return this.#probeShared();
	}

	#probeShared(): Promise<number> {
		this.#probing ??= this.#probeOnce().finally(() => (this.#probing = undefined));
		return this.#probing;
	}

	stats(): GuardStats {
		return {
			state: this.breaker.state,
			inFlight: this.semaphore.inFlight,
			queued: this.semaphore.queued,
			maxInFlight: this.semaphore.capacity,
			deadlineMs: this.deadlineMs,
			peakInFlight: this.semaphore.peakInFlight,
			peakQueued: this.semaphore.peakQueued,
			trips: this.breaker.trips,
			failedFast: this.failedFast,
			openForMs: this.breaker.openedAt === undefined ? null : this.#now() - this.breaker.openedAt
		};
	}

	dispose(): void {
		this.breaker.dispose();
		this.semaphore.rejectAll(new DbUnavailableError('circuit-open'));
	}

	async #probeOnce(): Promise<number> {
		const deadline = new AbortController();
		const timer = setTimeout(() => deadline.abort(new DeadlineExceeded('probe timed out')), this.probeTimeoutMs);
		const t0 = performance.now();
		try {
			await untilAborted(Promise.resolve().then(() => this.#probe(deadline.signal)), deadline.signal);
			this.breaker.answered();
			return Math.round((performance.now() - t0) * 10) / 10;
		} catch (err) {
			throw this.#translate(err, deadline.signal.aborted, undefined);
		} finally {
			clearTimeout(timer);
		}
	}

	#failFast(): DbUnavailableError {
		this.failedFast++;
		return new DbUnavailableError('circuit-open');
	}

	#translate(err: unknown, deadlinePassed: boolean, callerSignal: AbortSignal | undefined): unknown {
		if (err instanceof DbUnavailableError) return err;
		if (deadlinePassed) {
			this.breaker.trip('timeout');
			return new DbUnavailableError('timeout', { cause: err });
		}
		if (callerSignal?.aborted) return err;
		switch (classifyDbError(err)) {
			case 'outage':
				this.breaker.trip('unreachable');
				return new DbUnavailableError('unreachable', { cause: err });
			case 'busy':
				this.breaker.answered();
				return new DbUnavailableError('busy', { cause: err });
			case 'answer':
				this.breaker.answered();
				return err;
			default:
				return err;
		}
	}
}
