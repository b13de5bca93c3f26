import type { ServerToClientEvents } from '$lib/shared/realtime';

/**
 * The one broadcast path. Services call `bus.emit(room, event, payload)`; whoever runs
 * the Socket.IO server (the web process) or an emitter (another process) plugs in the
 * transport. Before anything is plugged in, events go nowhere: a CLI has no audience.
 */
export type Transport = {
	emit<E extends keyof ServerToClientEvents>(
		room: string,
		event: E,
		payload: Parameters<ServerToClientEvents[E]>[0]
	): void;
	disconnectRoom(room: string): void;
	/** Whether any socket (on any instance) is in the room, of `userId` if given; transports without sockets omit it. */
	online?(room: string, userId?: string): Promise<boolean>;
	/** The sockets in `members` (e.g. a user's room) leave `room`: their access to what it carries ended. */
	leave?(members: string, room: string): void;
	/** Sends what is still queued (transports that batch); called before a process exits. */
	flush?(): Promise<void>;
};

export type Bus = Required<Transport> & { use(transport: Transport): void };

/**
 * Events are sent on the next turn of the event loop, in the order they were emitted: a
 * request's HTTP response goes out first, and the fan-out to many sockets does not sit on
 * the request's latency. Every emit happens after the write it reports has committed.
 */
export function createBus(): Bus {
	let target: Transport | undefined;
	let queue: ((t: Transport) => void)[] = [];
	let scheduled = false;
	const drain = () => {
		scheduled = false;
		const jobs = queue;
		queue = [];
		if (target) for (const job of jobs) job(target);
	};
	const enqueue = (job: (t: Transport) => void) => {
		if (!target) return;
		queue.push(job);
		if (!scheduled) {
			scheduled = true;
			setImmediate(drain);
		}
	};
	return {
		use(transport) {
			target = transport;
		},
		emit(room, event, payload) {
			enqueue((t) => t.emit(room, event, payload));
		},
		disconnectRoom(room) {
			enqueue((t) => t.disconnectRoom(room));
		},
		leave(members, room) {
			enqueue((t) => t.leave?.(members, room));
		},
		async online(room, userId) {
			return (await target?.online?.(room, userId)) ?? false;
		},
		async flush() {
			drain();
			await target?.flush?.();
		}
	};
}

