import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import { loadConfig } from '$lib/server/config';
import { openRuntime } from '$lib/server/runtime';
import { startHttpServer } from '$lib/server/http/server';
import { seedCatalogue } from '$lib/server/services/catalogue';
import { systemCaller } from '$lib/server/actor';
import type { PageHandler } from '$lib/server/http/app';
import { startWorker } from '../worker/start';

/**
 * The web process: the database, the API and Socket.IO, and the built SvelteKit pages, on
 * one port. Compiled to build-server/server.js (scripts/build.js); `npm start` builds first when needed
 * (scripts/run.js), production runs `node build-server/server.js`.
 */
const config = loadConfig();
const say = (line: string) => process.stdout.write(`${line}\n`);

const runtime = await openRuntime(config, { log: say });
// One promise nobody awaited must not take the hospital's screens down with it: it is logged
// (and fixed where it came from); a synchronous crash still ends the process for systemd to restart.
process.on('unhandledRejection', (err) => {
	runtime.ctx.log.error('unhandled rejection', { error: (err as Error)?.name ?? String(err), message: (err as Error)?.message });
});
// The consultation fee invoices need; created once, never overwritten.
await seedCatalogue(runtime.ctx, systemCaller('startup'));

const handlerFile = path.resolve('build/handler.js');
let pages: PageHandler | undefined;
if (fs.existsSync(handlerFile)) {
	pages = ((await import(pathToFileURL(handlerFile).href)) as { handler: PageHandler }).handler;
} else {
	say('No build/ found: serving the API only. Run `npm run build` for the pages.');
}

const server = await startHttpServer(runtime.ctx, { port: config.port, host: config.host, pages });
// WORKER=inline (default): the scheduler runs here and broadcasts through this process's sockets.
const worker = config.worker === 'inline' ? await startWorker(runtime.ctx) : undefined;

say('');
say(`  MedTrack ${config.version} is running at ${server.url}`);
say(`  Database: ${runtime.endpoint ?? `AWS DynamoDB (${config.db.region})`}${runtime.ownsDatabase ? ` (embedded, data in ${config.dataDir})` : ''}`);
say('  Log in: create the first super admin with');
say('    npm run create-admin -- --email you@hospital.org --password "Str0ng!Passw0rd"');
say('  or load the demo hospital with `npm run seed` (its logins are printed at the end).');
say('  Patients can register themselves at /register. Ctrl-C stops everything.');
say('');

let stopping = false;
async function shutdown(signal: string) {
	if (stopping) return;
	stopping = true;
	say(`\n${signal}: shutting down…`);
	const force = setTimeout(() => process.exit(1), 10_000);
	force.unref();
	try {
		await worker?.stop();
		await server.close();
		await runtime.stop();
	} finally {
		process.exit(0);
	}
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));
