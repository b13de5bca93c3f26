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
	/** Whether any socket (on any instance) is in the room; transports without sockets omit it. */
	online?(room: string): Promise<boolean>;
	/** Sends what is still queued (transports that batch); called before a process exits. */
	flush?(): Promise<void>;
};

export type Bus = Required<Transport> & { use(transport: Transport): void };

export function createBus(): Bus {
	let target: Transport | undefined;
	return {
		use(transport) {
			target = transport;
		},
		emit(room, event, payload) {
			target?.emit(room, event, payload);
		},
		disconnectRoom(room) {
			target?.disconnectRoom(room);
		},
		async online(room) {
			return (await target?.online?.(room)) ?? false;
		},
		async flush() {
			await target?.flush?.();
		}
	};
}

export const rooms = {
	user: (id: string) => `user:${id}`,
	session: (id: string) => `session:${id}`,
	record: (type: string, id: string) => `record:${type}:${id}`,
	chat: (conversationId: string) => `chat:${conversationId}`
};
