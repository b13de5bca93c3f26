import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { z } from 'zod';
import type { Ctx } from '../context';
import type { Actor, Caller } from '../actor';
import { SESSION_COOKIE, validateSessionToken } from '../auth/sessions';
import { readCookie } from '../http/cookies';
import { isOwnOrigin } from '../http/origin';
import { sessionExpiry } from '../auth/sessions';
import type { Socket } from 'socket.io';
import { room } from '$lib/shared/rooms';
import { canJoin } from './rooms';
import { registerChatHandlers } from './handlers/chat';
import { ackFailure } from './ack';
import type { ClientToServerEvents, ServerToClientEvents } from '$lib/shared/realtime';

export type SocketData = { actor: Actor; sessionId: string; token: string; ip: string; expiresAt: number };
export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const roomPayload = z.object({ room: z.string().min(3).max(200) }).strict();


/**
 * An open socket does not keep its session alive: when the session's idle or absolute
 * expiry passes (HTTP use may have pushed it later), the socket hears `session:ended` and
 * is disconnected, within a second of the expiry.
 */
function watchSession(ctx: Ctx, socket: Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>, expiresAt: number) {
	let timer: NodeJS.Timeout | undefined;
	const schedule = (at: number) => {
		clearTimeout(timer);
		timer = setTimeout(check, Math.min(Math.max(0, at - Date.now()) + 200, 2 ** 31 - 1));
		timer.unref();
	};
	const check = async () => {
		if (socket.disconnected) return;
		try {
			const until = await sessionExpiry(ctx, socket.data.sessionId);
			if (until !== null && until > Date.now()) return schedule(until);
			socket.emit('session:ended', { reason: 'expired' });
			socket.disconnect(true);
		} catch {
			// The database did not answer: look again shortly rather than end a session that may be valid.
			schedule(Date.now() + 2_000);
		}
	};
	schedule(expiresAt);
	socket.on('disconnect', () => clearTimeout(timer));
}

/**
 * The Socket.IO server on the app's own HTTP server. A socket must present a valid session
 * (cookie, or `auth.token`) or it is refused; it joins `user:<id>` at once and any other room
 * only through `subscribe`, which checks the access matrix. Plugs itself into ctx.bus as the
 * transport every service broadcasts through.
 */
export function attachRealtime(httpServer: HttpServer, ctx: Ctx): RealtimeServer {
	const io: RealtimeServer = new Server(httpServer, {
		path: '/socket.io',
		serveClient: false,
		connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
		cors: ctx.config.origin ? { origin: ctx.config.origin, credentials: true } : undefined,
		// A browser always names the page that opens a socket: one from another site is refused
		// before the handshake (cross-site WebSocket hijacking). Clients that are not browsers
		// send no Origin and still need a session token.
		allowRequest: (req, callback) => {
			const origin = req.headers.origin;
			if (origin === undefined || isOwnOrigin(ctx, origin, req.headers.host)) return callback(null, true);
			ctx.log.warn('socket handshake refused: foreign origin', { origin: origin.slice(0, 100) });
			callback('Cross-site connection refused', false);
		}
	});

	io.use(async (socket, next) => {
		try {
			const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
			const token =
				typeof fromAuth === 'string' ? fromAuth : readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
			const valid = token ? await validateSessionToken(ctx, token) : null;
			if (!valid || !token) return next(new Error('UNAUTHENTICATED'));
			socket.data = {
				actor: valid.actor,
				sessionId: valid.session.id,
				token,
				ip: socket.handshake.address,
				expiresAt: Math.min(valid.session.expires_at, valid.session.absolute_expires_at)
			};
			next();
		} catch {
			next(new Error('UNAVAILABLE'));
		}
	});

	io.on('connection', (socket) => {
		const { actor, sessionId } = socket.data;
		void socket.join([room.user(actor.id), room.session(sessionId)]);
		watchSession(ctx, socket, socket.data.expiresAt);
		const caller = (): Caller => ({
			actor: socket.data.actor,
			requestId: `socket:${socket.id}`,
			ip: socket.data.ip,
			sessionId: socket.data.sessionId
		});

		registerChatHandlers(ctx, socket, caller);

		socket.on('subscribe', async (payload, ack) => {
			const reply = typeof ack === 'function' ? ack : () => {};
			const parsed = roomPayload.safeParse(payload);
			if (!parsed.success) {
				return reply({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'subscribe needs { room: string }.' } });
			}
			try {
				// A session can end while its socket is open: check it again before each join.
				const valid = await validateSessionToken(ctx, socket.data.token);
				if (!valid) {
					reply({ ok: false, error: { code: 'UNAUTHENTICATED', message: 'Your session has ended.' } });
					socket.disconnect(true);
					return;
				}
				socket.data.actor = valid.actor;
				const joined = await canJoin(ctx, caller(), parsed.data.room);
				await socket.join(parsed.data.room);
				// Access that runs out (emergency access) takes the membership with it.
				if (joined?.until) {
					const room = parsed.data.room;
					setTimeout(() => void socket.leave(room), Math.max(0, joined.until - Date.now())).unref();
				}
				reply({ ok: true });
			} catch (err) {
				reply(ackFailure(err, ctx.log, 'subscribe'));
			}
		});

		socket.on('unsubscribe', async (payload, ack) => {
			const parsed = roomPayload.safeParse(payload);
			const reply = typeof ack === 'function' ? ack : () => {};
			if (!parsed.success) {
				return reply({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'unsubscribe needs { room: string }.' } });
			}
			if (parsed.data.room.startsWith('user:') || parsed.data.room.startsWith('session:')) return reply({ ok: true });
			await socket.leave(parsed.data.room);
			reply({ ok: true });
		});
	});

	ctx.bus.use({
		emit: (room, event, payload) => {
			io.to(room).emit(event, ...([payload] as Parameters<ServerToClientEvents[typeof event]>));
		},
		disconnectRoom: (room) => io.in(room).disconnectSockets(true),
		leave: (members, room) => io.in(members).socketsLeave(room),
		// Across instances too when the Redis adapter is in use.
		online: async (room, userId) => (await io.in(room).fetchSockets()).some((x) => !userId || x.data.actor?.id === userId)
	});
	return io;
}
