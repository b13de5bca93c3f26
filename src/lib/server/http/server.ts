import http from 'node:http';
import type { Socket } from 'node:net';
import type { Ctx } from '../context';
import { createApp, type PageHandler } from './app';
import { attachRealtime, type RealtimeServer } from '../realtime';
import { publishPageAuth } from './page-auth';
import { useRedisAdapter } from '../realtime/redis';

/** How long requests still running at shutdown may take before their connections are cut. */
const SHUTDOWN_GRACE_MS = 2_000;

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
	// Every TCP connection, upgraded WebSockets included (the HTTP server stops tracking those).
	const sockets = new Set<Socket>();
	server.on('connection', (s) => {
		sockets.add(s);
		s.once('close', () => sockets.delete(s));
	});
	let closing: Promise<void> | undefined;
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
		close: () => (closing ??= shutDown())
	};

	/**
	 * Stops this server the way a restart or deploy needs: the port is released at once (a
	 * successor can listen on it), what is queued on the bus goes out, and every socket is
	 * ended at the transport, so clients see "transport close" and reconnect by themselves
	 * with their usual backoff, then resync by version. Never `disconnectSockets(true)` here:
	 * that sends the "io server disconnect" which tells a client to stay away, and is kept
	 * for sessions that ended (auth/sessions.ts). Requests still running get a short grace,
	 * then every connection left is destroyed, so a shutdown cannot hang on one client.
	 */
	async function shutDown(): Promise<void> {
		const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
		await ctx.bus.flush().catch(() => {});
		const grace = setTimeout(() => {
			server.closeAllConnections();
			for (const s of sockets) s.destroy();
		}, SHUTDOWN_GRACE_MS);
		// engine.io closes each transport (a WebSocket close frame, a close packet to a poll);
		// resolves once the HTTP server has no connection left.
		await io.close();
		await closeRedis();
		await stopped;
		clearTimeout(grace);
	}
}
