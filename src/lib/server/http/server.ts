import http from 'node:http';
import type { Ctx } from '../context';
import { createApp, type PageHandler } from './app';
import { attachRealtime, type RealtimeServer } from '../realtime';
import { publishPageAuth } from './page-auth';
import { useRedisAdapter } from '../realtime/redis';

export type RunningServer = {
	http: http.Server;
	io: RealtimeServer;
	url: string;
	close(): Promise<void>;
};

/** Express + Socket.IO on one HTTP server; `pages` is the SvelteKit handler when built. */
export async function startHttpServer(
	ctx: Ctx,
	opts: { port: number; host: string; pages?: PageHandler }
): Promise<RunningServer> {
	const app = createApp(ctx, opts.pages);
	const server = http.createServer(app);
	const io = attachRealtime(server, ctx);
	// Several instances share rooms through Redis; a worker elsewhere emits through it too.
	const closeRedis = ctx.config.redisUrl ? await useRedisAdapter(io, ctx.config.redisUrl, ctx.log) : async () => {};
	if (opts.pages) publishPageAuth(ctx);
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port, opts.host, () => resolve());
	});
	const addr = server.address();
	const port = typeof addr === 'object' && addr ? addr.port : opts.port;
	const host = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
	return {
		http: server,
		io,
		url: `http://${host}:${port}`,
		close: async () => {
			io.disconnectSockets(true);
			await new Promise<void>((resolve) => io.close(() => resolve()));
			await closeRedis();
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	};
}
