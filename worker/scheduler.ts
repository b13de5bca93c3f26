import schedule from 'node-schedule';
import type { Ctx } from '../src/lib/server/context';
import type { Logger } from '../src/lib/server/log';
import { acquireLease, holdsLease, releaseLease, renewLease } from '../src/lib/server/services/leader';
import { workerIdentity } from '../src/lib/server/services/delivery';

/**
 * node-schedule behind a leader lease. Every worker process runs one Scheduler; only the
 * holder of the lease (`services/leader.ts`) runs jobs. The lease is renewed every
 * heartbeat; a follower tries to take it on the same beat, so when the leader dies another
 * worker leads within a lease period plus a beat. Before each job starts, the fencing token
 * is checked against the database; a worker that lost the lease aborts what it runs and
 * starts nothing new. Tests drive it through `tick()` and `trigger()`.
 */
export type JobRun = { signal: AbortSignal; log: Logger; workerId: string };
/** `cron: null`: a maintenance job run only on demand (`npm run worker -- --once <name>`). */
export type Job = { name: string; cron: string | null; run(ctx: Ctx, run: JobRun): Promise<unknown> };

export type SchedulerOptions = {
	workerId?: string;
	leaseMs?: number;
	heartbeatMs?: number;
	/** false: no cron timers (tests call trigger()). */
	cron?: boolean;
	log?: Logger;
};

export type Scheduler = {
	workerId: string;
	start(): Promise<void>;
	stop(): Promise<void>;
	/** One lease beat: renew (leader) or try to take over (follower). */
	tick(): Promise<void>;
	/** Runs a job now if this worker leads and the job is not already running. */
	trigger(name: string): Promise<'ran' | 'not-leader' | 'busy' | 'failed'>;
	isLeader(): boolean;
	fencingToken(): number | undefined;
};

export function createScheduler(ctx: Ctx, jobs: Job[], opts: SchedulerOptions = {}): Scheduler {
	const workerId = opts.workerId ?? workerIdentity();
	const leaseMs = opts.leaseMs ?? ctx.config.scheduler.leaseMs;
	const heartbeatMs = opts.heartbeatMs ?? ctx.config.scheduler.heartbeatMs;
	const log = (opts.log ?? ctx.log).child({ component: 'scheduler', workerId });
	let token: number | undefined;
	/** Local bound on the lease: never trust it past the moment the last renewal was sent + lease. */
	let validUntil = 0;
	let leadership = new AbortController();
	const running = new Map<string, Promise<unknown>>();
	const timers: schedule.Job[] = [];
	let beat: NodeJS.Timeout | undefined;
	let stopped = false;

	const isLeader = () => token !== undefined && Date.now() < validUntil;

	function stepDown(reason: string) {
		if (token === undefined) return;
		log.warn('scheduler: lost the lease; stopping jobs', { reason, fencingToken: token });
		token = undefined;
		validUntil = 0;
		leadership.abort();
		leadership = new AbortController();
	}

	async function tick() {
		const sentAt = Date.now();
		try {
			if (token !== undefined) {
				if (await renewLease(ctx, workerId, token, leaseMs, sentAt)) validUntil = sentAt + leaseMs;
				else stepDown('renewal refused');
			} else {
				const won = await acquireLease(ctx, workerId, leaseMs, sentAt);
				if (won !== undefined) {
					token = won;
					validUntil = sentAt + leaseMs;
					log.info('scheduler: took the lease', { fencingToken: won });
				}
			}
		} catch (err) {
			log.warn('scheduler: lease beat failed', { error: (err as Error).name });
			if (token !== undefined && Date.now() >= validUntil) stepDown('lease expired while the database was unreachable');
		}
	}

	async function trigger(name: string): Promise<'ran' | 'not-leader' | 'busy' | 'failed'> {
		const job = jobs.find((j) => j.name === name);
		if (!job) throw new Error(`No job named ${name}.`);
		if (!isLeader() || stopped) return 'not-leader';
		if (running.has(name)) return 'busy';
		const fencing = token!;
		const run = (async () => {
			const t0 = Date.now();
			try {
				// Fencing: the database, not local memory, decides who leads when the job starts.
				if (!(await holdsLease(ctx, workerId, fencing))) {
					stepDown('fencing token is no longer current');
					return 'not-leader' as const;
				}
				const result = await job.run(ctx, { signal: leadership.signal, log: log.child({ job: name }), workerId });
				log.info('job finished', { job: name, ms: Date.now() - t0, result });
				return 'ran' as const;
			} catch (err) {
				log.error('job failed', { job: name, ms: Date.now() - t0, error: (err as Error).name, message: (err as Error).message });
				return 'failed' as const;
			}
		})();
		running.set(name, run);
		try {
			return await run;
		} finally {
			running.delete(name);
		}
	}

	function loop() {
		if (stopped) return;
		beat = setTimeout(async () => {
			await tick();
			loop();
		}, heartbeatMs);
	}

	return {
		workerId,
		tick,
		trigger,
		isLeader,
		fencingToken: () => token,
		async start() {
			await tick();
			loop();
			if (opts.cron === false) return;
			for (const job of jobs) {
				if (job.cron === null) continue;
				timers.push(
					schedule.scheduleJob(`${job.name}@${workerId}`, job.cron, () =>
						// A run that cannot even start (the database is down) is skipped, never a crash.
						trigger(job.name).catch((err: Error) => log.error('job not started', { job: job.name, error: err.name }))
					)
				);
			}
			log.info('scheduler started', { jobs: jobs.map((j) => `${j.name} (${j.cron ?? 'on demand'})`), leader: isLeader() });
		},
		async stop() {
			stopped = true;
			if (beat) clearTimeout(beat);
			for (const t of timers.splice(0)) t.cancel();
			leadership.abort();
			await Promise.allSettled([...running.values()]);
			if (token !== undefined) await releaseLease(ctx, workerId, token).catch(() => {});
			token = undefined;
		}
	};
}

/** `--once`: one job, now, without the lease. Safe beside a running scheduler: every job claims its work. */
export async function runOnce(ctx: Ctx, job: Job, log: Logger = ctx.log): Promise<unknown> {
	return job.run(ctx, { signal: new AbortController().signal, log: log.child({ job: job.name }), workerId: workerIdentity() });
}
