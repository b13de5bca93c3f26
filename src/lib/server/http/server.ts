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
	// Requests Node refuses before Express sees them (an URL or headers over 16 KB, garbage)
	// still get the error shape.
	server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
		if (!socket.writable || (err.code === 'ECONNRESET')) return void socket.destroy();
		const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
		const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
		const body = JSON.stringify({
			error: tooLarge
				? { code: 'HEADERS_TOO_LARGE', message: 'The request line or headers are too large (16 KB at most).', details: [{ field: '(headers)', message: 'too large' }] }
				: { code: 'VALIDATION_FAILED', message: 'The request could not be read.', details: [{ field: '(request)', message: 'malformed HTTP' }] }
		});
		socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
	});
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
