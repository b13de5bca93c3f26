import { loadConfig } from '../src/lib/server/config';
import { openRuntime } from '../src/lib/server/runtime';
import { redisEmitterTransport } from '../src/lib/server/realtime/redis';
import { httpBroadcastTransport } from '../src/lib/server/realtime/internal';
import { orExit, parseFlags } from '../scripts/cli';
import { runOnce } from './scheduler';
import { startWorker } from './start';
import { JOBS } from './jobs';

/**
 * `npm run worker`: the scheduler on its own (several may run; a lease picks the leader).
 * `npm run worker -- --once <job>` runs one job now and exits: 0 when it ran, 1 when it
 * failed, 2 for a job that does not exist. For embedded installs it uses the database the
 * web process runs for DATA_DIR. Its changes reach browsers through Redis (REDIS_URL) or
 * the web process's internal broadcast endpoint.
 */
const f = orExit(() => parseFlags({ once: { type: 'string', value: `<${JOBS.map((j) => j.name).join('|')}>` } }));
const say = (line: string) => process.stderr.write(`${line}\n`);
const once = f.once;
if (once !== undefined && !JOBS.some((j) => j.name === once)) {
	say(`--once needs one of: ${JOBS.map((j) => j.name).join(', ')}`);
	process.exit(2);
}

const config = loadConfig();
const runtime = await openRuntime(config, { log: say });
const { ctx } = runtime;
const redis = config.redisUrl ? await redisEmitterTransport(config.redisUrl, ctx.log) : undefined;
ctx.bus.use(redis ?? httpBroadcastTransport(config, ctx.log));

async function close(code: number): Promise<never> {
	const force = setTimeout(() => process.exit(code || 1), 10_000);
	force.unref();
	try {
		await ctx.bus.flush();
		await redis?.close();
		await runtime.stop();
	} finally {
		process.exit(code);
	}
}

if (typeof once === 'string') {
	const job = JOBS.find((j) => j.name === once)!;
	try {
		const result = await runOnce(ctx, job);
		process.stdout.write(`${JSON.stringify({ job: job.name, result })}\n`);
		await close(0);
	} catch (err) {
		say(`${job.name} failed: ${(err as Error).message}`);
		await close(1);
	}
} else {
	const scheduler = await startWorker(ctx);
	say(`MedTrack worker ${scheduler.workerId} started (${scheduler.isLeader() ? 'leader' : 'standby'}); Ctrl-C stops it.`);
	let stopping = false;
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(sig, () => {
			if (stopping) return;
			stopping = true;
			// Hands the lease back so another worker takes over at once.
			void scheduler.stop().then(() => close(0), () => close(1));
		});
	}
}
