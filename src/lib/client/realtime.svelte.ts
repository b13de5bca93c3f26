import { io, type Socket } from 'socket.io-client';
import { parseRoom, room } from '$lib/shared/rooms';
import type {
	AppointmentEvent,
	ClientToServerEvents,
	RecordVersionEvent,
	ServerToClientEvents,
	ServerEvent,
	SlotsEvent,
	SubscribeAck
} from '$lib/shared/realtime';
import { SERVER_EVENTS } from '$lib/shared/realtime';

/**
 * The browser's one Socket.IO connection (SPEC §6), created on first use. Rooms are
 * remembered here and joined again after every reconnect, so a page subscribes once and
 * keeps hearing its record however often the network drops.
 */
type MedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';
export type SessionEndReason = 'logout' | 'deactivated' | 'expired';

export type RoomListener = {
	/** A `record:updated` for this room. */
	onRecord?: (event: RecordVersionEvent) => void;
	/**
	 * An `appointment:updated` (rooms `appointment:<id>` and `board:<date>`; a board hears
	 * every one, since a move to another day concerns the old day's board too) or a
	 * `queue:updated` (room `doctor-queue:<doctorId>`). Apply only if its version is newer.
	 */
	onAppointment?: (event: AppointmentEvent) => void;
	/** A `slots:updated` (room `slots:<date>`): that doctor's free slots that day may have changed. */
	onSlots?: (event: SlotsEvent) => void;
	/** After a reconnect: events may have been missed, so check versions again. */
	onResync?: () => void;
	/** The server refused the room (no access, or the session ended). */
	onRefused?: (message: string) => void;
};

export const connection = $state<{ status: LiveStatus }>({ status: 'connecting' });

let socket: MedSocket | null = null;
const rooms = new Map<string, Set<RoomListener>>();

/** Events a page may hear from every room it is in, its own `user:<id>` room included. */
export type LiveEvent = Exclude<ServerEvent, 'record:updated' | 'slots:updated' | 'session:ended'>;
const ROOM_SCOPED = new Set<ServerEvent>(['record:updated', 'slots:updated', 'session:ended']);
const LIVE_EVENTS = SERVER_EVENTS.filter((e): e is LiveEvent => !ROOM_SCOPED.has(e));
const handlers = new Map<LiveEvent, Set<(payload: never) => void>>();
let sessionEnded: ((reason: SessionEndReason) => void) | undefined;
let leaving = false;

/** What to do when the server ends this session (logout elsewhere, deactivation). */
export function whenSessionEnds(fn: (reason: SessionEndReason) => void) {
	sessionEnded = fn;
}

function join(s: MedSocket, room: string) {
	s.emit('subscribe', { room }, (ack: SubscribeAck) => {
		if (ack.ok) return;
		for (const l of rooms.get(room) ?? []) l.onRefused?.(ack.error.message);
	});
}

function connect(): MedSocket {
	if (socket) return socket;
	leaving = false;
	const s: MedSocket = io({ path: '/socket.io', withCredentials: true });
	socket = s;
	let connectedBefore = false;
	connection.status = 'connecting';

	s.on('connect', () => {
		connection.status = 'live';
		for (const room of rooms.keys()) join(s, room);
		if (connectedBefore) for (const set of rooms.values()) for (const l of set) l.onResync?.();
		connectedBefore = true;
	});
	s.on('disconnect', (reason) => {
		// The server closing the socket (session ended) is final; anything else reconnects.
		connection.status = reason === 'io server disconnect' || reason === 'io client disconnect' ? 'offline' : 'reconnecting';
	});
	s.on('connect_error', () => {
		connection.status = s.active ? 'reconnecting' : 'offline';
	});
	s.on('record:updated', (event) => {
		for (const l of rooms.get(room.record(event.type, event.id)) ?? []) l.onRecord?.(event);
	});
	s.on('appointment:updated', (event) => {
		for (const [name, set] of rooms) {
			if (name === room.appointment(event.id) || parseRoom(name)?.kind === 'board') for (const l of set) l.onAppointment?.(event);
		}
	});
	s.on('queue:updated', (event) => {
		for (const l of rooms.get(room.doctorQueue(event.doctorId)) ?? []) l.onAppointment?.(event);
	});
	s.on('slots:updated', (event) => {
		for (const l of rooms.get(room.slots(event.date)) ?? []) l.onSlots?.(event);
	});
	for (const name of LIVE_EVENTS) {
		(s as unknown as Socket).on(name, (payload: unknown) => {
			for (const h of handlers.get(name) ?? []) h(payload as never);
		});
	}
	s.on('session:ended', ({ reason }) => {
		if (leaving) return;
		stopRealtime();
		sessionEnded?.(reason);
	});
	watchNetwork(s);
	return s;
}

/**
 * The browser knows at once when its network goes: say so (not Live for the half minute a
 * dead socket takes to time out) and drop the socket, so it reconnects, and resyncs, the
 * moment the network is back.
 */
let unwatchNetwork: (() => void) | undefined;
function watchNetwork(s: MedSocket) {
	if (typeof window === 'undefined') return;
	unwatchNetwork?.();
	const offline = () => {
		if (socket !== s || !s.connected) return;
		connection.status = 'reconnecting';
		s.io.engine?.close();
	};
	const online = () => {
		if (socket === s && !s.connected) s.connect();
	};
	window.addEventListener('offline', offline);
	window.addEventListener('online', online);
	unwatchNetwork = () => {
		window.removeEventListener('offline', offline);
		window.removeEventListener('online', online);
	};
}

/** Opens the connection if it is not open yet (the app shell calls this on mount). */
export function startRealtime(): void {
	connect();
}

/** Listens to a room until the returned function is called. */
export function subscribe(room: string, listener: RoomListener): () => void {
	const s = connect();
	let set = rooms.get(room);
	if (!set) rooms.set(room, (set = new Set()));
	set.add(listener);
	// Not connected yet: the `connect` handler joins every remembered room.
	if (s.connected) join(s, room);
	return () => {
		const current = rooms.get(room);
		if (!current) return;
		current.delete(listener);
		if (current.size === 0) {
			rooms.delete(room);
			if (socket?.connected) socket.emit('unsubscribe', { room });
		}
	};
}

/** Hears `event` from every room this browser is in until the returned function is called. */
export function listen<E extends LiveEvent>(event: E, handler: ServerToClientEvents[E]): () => void {
	connect();
	let set = handlers.get(event);
	if (!set) handlers.set(event, (set = new Set()));
	const h = handler as (payload: never) => void;
	set.add(h);
	return () => void handlers.get(event)?.delete(h);
}

type AckedEvent = 'chat:message' | 'chat:delivered' | 'chat:read';
type AckOf<E extends AckedEvent> = Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0];

/**
 * Emits `event` and waits for the server's acknowledgement. Rejects at once when the socket
 * is not connected (nothing is buffered for later: the caller decides how to retry) and
 * after `ms` without an answer.
 */
export function emitWithAck<E extends AckedEvent>(event: E, payload: Parameters<ClientToServerEvents[E]>[0], ms = 5_000): Promise<AckOf<E>> {
	const s = connect();
	if (!s.connected) return Promise.reject(new Error('not connected'));
	return (s.timeout(ms) as unknown as Socket).emitWithAck(event, payload) as Promise<AckOf<E>>;
}

/** A fire-and-forget signal that is worthless later (typing): dropped while disconnected. */
export function emitVolatile(event: 'chat:typing', payload: Parameters<ClientToServerEvents['chat:typing']>[0]): void {
	const s = connect();
	if (s.connected) s.volatile.emit(event, payload);
}

/** Closes the connection for good (logging out, session ended). */
export function stopRealtime(): void {
	leaving = true;
	rooms.clear();
	unwatchNetwork?.();
	unwatchNetwork = undefined;
	socket?.disconnect();
	socket = null;
	connection.status = 'offline';
}
