import type { Ctx } from '../src/lib/server/context';
import { createScheduler, type Scheduler, type SchedulerOptions } from './scheduler';
import { JOBS } from './jobs';

/**
 * Starts the scheduler with every job on a context whose bus already reaches browsers:
 * the web process's own Socket.IO server (`WORKER=inline`) or, in a separate worker
 * process, the Redis emitter or the internal broadcast endpoint (see worker/index.ts).
 */
export async function startWorker(ctx: Ctx, opts: SchedulerOptions = {}): Promise<Scheduler> {
	const scheduler = createScheduler(ctx, JOBS, opts);
	await scheduler.start();
	return scheduler;
}
