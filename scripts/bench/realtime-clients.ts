import { io, type Socket } from 'socket.io-client';

/**
 * The Socket.IO clients of `npm run bench:realtime`, in their own process: the process that
 * calls the HTTP API is not the one receiving the events, as with real browsers.
 */
type In =
	| { type: 'connect'; url: string; tokens?: string[]; rooms: string[]; n: number }
	| { type: 'expect'; key: string; expected: number }
	| { type: 'dump' }
	| { type: 'stop' };

const send = (m: unknown) => process.send?.(m);
const epoch = () => performance.timeOrigin + performance.now();
const received = new Map<string, number[]>();
const waiters = new Map<string, { expected: number; timer: NodeJS.Timeout }>();
const sockets: Socket[] = [];

function arrived(key: string) {
	const w = waiters.get(key);
	const count = received.get(key)?.length ?? 0;
	if (w && count >= w.expected) {
		clearTimeout(w.timer);
		waiters.delete(key);
		send({ type: 'arrived', key, count });
	}
}

process.on('message', async (m: In) => {
	if (m.type === 'connect') {
		for (let i = 0; i < m.n; i++) {
			const s = io(m.url, { path: '/socket.io', transports: ['websocket'], auth: m.tokens ? { token: m.tokens[i] } : {}, reconnection: false });
			await new Promise<void>((resolve, reject) => {
				s.once('connect', () => resolve());
				s.once('connect_error', reject);
			});
			const ack = (await s.emitWithAck('subscribe', { room: m.rooms[i % m.rooms.length] })) as { ok: boolean };
			if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
			s.on('queue:updated', (e: { id: string; version: number }) => {
				const key = `${e.id}:${e.version}`;
				const list = received.get(key) ?? [];
				list.push(epoch());
				received.set(key, list);
				arrived(key);
			});
			sockets.push(s);
			if (i % 50 === 49 || i === m.n - 1) send({ type: 'progress', done: i + 1 });
		}
		send({ type: 'connected' });
	}
	if (m.type === 'expect') {
		const timer = setTimeout(() => {
			waiters.delete(m.key);
			send({ type: 'arrived', key: m.key, count: received.get(m.key)?.length ?? 0 });
		}, 3000);
		waiters.set(m.key, { expected: m.expected, timer });
		arrived(m.key);
	}
	if (m.type === 'dump') send({ type: 'dump', received: Object.fromEntries(received) });
	if (m.type === 'stop') {
		for (const s of sockets) s.disconnect();
		process.exit(0);
	}
});
// The parent is gone (it crashed or was killed): do not linger as an orphan.
process.on('disconnect', () => process.exit(1));
send({ type: 'ready' });
