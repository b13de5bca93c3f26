import { createAdapter } from '@socket.io/redis-adapter';
import { Emitter } from '@socket.io/redis-emitter';
import { createClient } from 'redis';
import type { Server } from 'socket.io';
import type { Logger } from '../log';
import type { Transport } from './bus';
import type { ServerToClientEvents } from '$lib/shared/realtime';

/**
 * Socket.IO across processes through Redis (REDIS_URL). Web instances share rooms through
 * the Redis adapter; a process without a Socket.IO server (the worker) emits through the
 * Redis emitter, never by importing the server.
 */
export async function useRedisAdapter(io: Server, url: string, log: Logger): Promise<() => Promise<void>> {
	const pub = createClient({ url });
	const sub = pub.duplicate();
	for (const c of [pub, sub]) c.on('error', (err: Error) => log.warn('redis adapter: connection error', { error: err.name }));
	await Promise.all([pub.connect(), sub.connect()]);
	io.adapter(createAdapter(pub, sub));
	return async () => {
		await Promise.allSettled([pub.quit(), sub.quit()]);
	};
}

export async function redisEmitterTransport(url: string, log: Logger): Promise<Transport & { close(): Promise<void> }> {
	const client = createClient({ url });
	client.on('error', (err: Error) => log.warn('redis emitter: connection error', { error: err.name }));
	await client.connect();
	// The emitter publishes without awaiting; a failed publish is logged, not an unhandled rejection.
	const publisher = {
		publish: (channel: string, message: string | Buffer) =>
			client.publish(channel, message).catch((err: Error) => log.warn('redis emitter: publish failed', { error: err.name }))
	};
	const emitter = new Emitter<ServerToClientEvents>(publisher);
	return {
		emit(room, event, payload) {
			(emitter.to(room).emit as (ev: string, ...args: unknown[]) => true)(event, payload);
		},
		disconnectRoom(room) {
			emitter.in(room).disconnectSockets(true);
		},
		leave(members, room) {
			emitter.in(members).socketsLeave(room);
		},
		async flush() {
			// node-redis sends commands in order: a PING answered means every publish before it went out.
			await client.ping().catch(() => {});
		},
		async close() {
			await client.quit().catch(() => {});
		}
	};
}
