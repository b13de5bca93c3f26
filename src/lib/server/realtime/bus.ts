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
};

export type Bus = Transport & { use(transport: Transport): void };

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
		}
	};
}

export const rooms = {
	user: (id: string) => `user:${id}`,
	session: (id: string) => `session:${id}`,
	record: (type: string, id: string) => `record:${type}:${id}`
};
