import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Transport } from './bus';
import { SERVER_EVENTS } from '$lib/shared/realtime';

/**
 * The cross-process broadcast path when there is no Redis: a worker posts batches of bus
 * events to the web process (`POST /api/internal/broadcast`), which emits them to its
 * sockets. The shared secret is INTERNAL_TOKEN, or one generated into DATA_DIR (like the
 * audit key) for a worker and web process on the same machine.
 */
/** What a worker may relay: every event the server sends. */
export const RELAYED_EVENTS = SERVER_EVENTS;

export const broadcastBatch = z
	.object({
		events: z
			.array(
				z.union([
					z.object({ room: z.string().min(3).max(200), event: z.enum(RELAYED_EVENTS), payload: z.record(z.string(), z.unknown()) }).strict(),
					z.object({ room: z.string().min(3).max(200), disconnect: z.literal(true) }).strict()
				])
			)
			.min(1)
			.max(500)
	})
	.strict();

const TOKEN_FILE = 'internal.key';

/** The shared secret; `create` lets the sending side generate it on first use. */
export function internalToken(config: Config, opts: { create: boolean }): string | undefined {
	if (config.internal.token) return config.internal.token;
	const file = path.join(config.dataDir, TOKEN_FILE);
	try {
		return fs.readFileSync(file, 'utf8').trim() || undefined;
	} catch {
		if (!opts.create) return undefined;
	}
	fs.mkdirSync(config.dataDir, { recursive: true });
	try {
		fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
	}
	return fs.readFileSync(file, 'utf8').trim();
}

export function sameSecret(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);
	return x.length === y.length && crypto.timingSafeEqual(x, y);
}

type Queued = { room: string; event: string; payload: unknown } | { room: string; disconnect: true };

/**
 * A bus transport that posts to the web process. Events are batched (a tick apart) and
 * sent in order; when the web process is down they are dropped with a warning: the data is
 * in DynamoDB, and clients refetch on reconnect.
 */
export function httpBroadcastTransport(config: Config, log: Logger): Transport {
	const url = new URL('/api/internal/broadcast', config.internal.url).href;
	const token = internalToken(config, { create: true })!;
	const queue: Queued[] = [];
	let chain: Promise<void> = Promise.resolve();
	let scheduled = false;
	let warned = false;

	const send = async () => {
		scheduled = false;
		while (queue.length) {
			const events = queue.splice(0, 500);
			try {
				const res = await fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-internal-token': token },
					body: JSON.stringify({ events }),
					signal: AbortSignal.timeout(5_000)
				});
				if (!res.ok) log.warn('broadcast: the web process refused the batch', { status: res.status, events: events.length });
				warned = false;
			} catch (err) {
				if (!warned) log.warn('broadcast: the web process is not reachable; live updates are skipped', { url, error: (err as Error).name });
				warned = true;
			}
		}
	};
	const schedule = () => {
		if (scheduled) return;
		scheduled = true;
		chain = chain.then(() => new Promise<void>((r) => setImmediate(r))).then(send);
	};
	return {
		emit(room, event, payload) {
			queue.push({ room, event, payload });
			schedule();
		},
		disconnectRoom(room) {
			queue.push({ room, disconnect: true });
			schedule();
		},
		async flush() {
			while (queue.length || scheduled) {
				schedule();
				await chain;
			}
			await chain;
		}
	};
}
