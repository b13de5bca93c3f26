import http from 'node:http';
import crypto from 'node:crypto';
import { Server } from 'socket.io';
import { loadConfig } from '../../src/lib/server/config';
import { createContext } from '../../src/lib/server/context';
import { ensureTables } from '../../src/lib/server/db/client';
import { startHttpServer } from '../../src/lib/server/http/server';
import { createSession } from '../../src/lib/server/auth/sessions';
import { createUser } from '../../src/lib/server/services/users';
import { seedCatalogue } from '../../src/lib/server/services/catalogue';
import { bookAppointment } from '../../src/lib/server/services/appointments';
import { freeSlots } from '../../src/lib/server/services/doctors';
import { getDoctor } from '../../src/lib/server/repositories/doctors';
import { systemCaller } from '../../src/lib/server/actor';
import { versionedUpdate } from '../../src/lib/server/db/versioned';
import type { ServerToClientEvents } from '../../src/lib/shared/realtime';

/**
 * The server side of `npm run bench:realtime`, run in its own process so that server and
 * clients do not share one event loop. Mode `app`: the real MedTrack server with prepared
 * doctors, appointments and sessions. Mode `bare`: a plain Socket.IO server that emits the
 * same payload when POST /emit is called. Talks to the parent over IPC.
 */
type Msg = { type: 'rss' } | { type: 'stop' } | { type: 'emits' };
/** When each queue event left the server (epoch ms, sub-ms precision), by `id:version`. */
const emits: Record<string, number> = {};
const epoch = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);
const mode = process.argv[2] as 'app' | 'bare' | 'bare-db';
const clients = Number(process.argv[3]);
const doctorsWanted = Number(process.argv[4]);
const writes = Number(process.argv[5]);
const endpoint = process.argv[6]!;
const tz = process.argv[7]!;

async function app() {
	const config = loadConfig({
		NODE_ENV: 'production',
		DYNAMODB_ENDPOINT: endpoint,
		TABLE_PREFIX: `bench${crypto.randomBytes(3).toString('hex')}_`,
		AUDIT_IP_KEY: 'bench-audit-ip-key-0123456789',
		LOG_LEVEL: 'silent',
		HOSPITAL_TIMEZONE: tz
	});
	const ctx = createContext(config);
	await ensureTables(ctx.db);
	const sys = systemCaller('bench');
	await seedCatalogue(ctx, sys);
	const pw = 'Bench-Passw0rd!';
	const desk = await createUser(ctx, sys, { name: 'Bench Desk', email: 'desk@bench.local', role: 'front_desk', password: pw }, { allowSuperAdmin: true });
	const patient = await createUser(ctx, sys, { name: 'Bench Patient', email: 'patient@bench.local', role: 'patient', password: pw, phone: '+12025550000', dateOfBirth: '1980-01-01', bloodGroup: 'O+' }, { allowSuperAdmin: true });
	const doctors = [] as { id: string; doctorId: string }[];
	for (let i = 0; i < doctorsWanted; i++) {
		const d = await createUser(ctx, sys, { name: `Dr Bench ${i}`, email: `doctor${i}@bench.local`, role: 'doctor', password: pw, specialization: 'Cardiology', licenceNumber: `BENCH-${1000 + i}` }, { allowSuperAdmin: true });
		const row = await getDoctor(ctx, d.doctorId!);
		await versionedUpdate(ctx, sys, {
			table: 'doctors', pkName: 'id', id: d.doctorId!, expectedVersion: row!.version, resourceType: 'doctor',
			set: { slot_minutes: 5, weekly: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '23:55' })) }
		});
		doctors.push({ id: d.id, doctorId: d.doctorId! });
	}
	// Appointments to move through their statuses: 4 writes each (confirm, check in, consult, complete).
	const appointments: { id: string; doctorId: string; version: number }[] = [];
	const patientCaller = { actor: { id: patient.id, email: patient.email, name: patient.name, role: 'patient' as const, patientId: patient.patientId }, requestId: 'bench', ip: '127.0.0.1' };
	const today = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
	for (let i = 0; i < Math.ceil(writes / 4); i++) {
		const doc = doctors[i % doctors.length]!;
		const row = await getDoctor(ctx, doc.doctorId);
		// Slot i: the one bench patient never holds two visits at the same time (PATIENT_BUSY).
		const slot = (await freeSlots(ctx, row!, today))[i]!;
		const a = await bookAppointment(ctx, patientCaller, { doctorId: doc.doctorId, start: slot.start, symptoms: 'benchmark visit', reportedUrgency: 'normal' });
		appointments.push({ id: a.id, doctorId: doc.doctorId, version: a.version });
	}
	const sessions = await Promise.all(Array.from({ length: clients }, () => createSession(ctx, desk.id)));
	const doctorSessions = await Promise.all(doctors.map((d) => createSession(ctx, d.id)));
	const deskSession = await createSession(ctx, desk.id);
	const server = await startHttpServer(ctx, { port: 0, host: '127.0.0.1' });
	// The same transport attachRealtime plugs in, stamped at the moment of the real emit.
	ctx.bus.use({
		emit: (room, event, payload) => {
			if (event === 'queue:updated') {
				const p = payload as { id: string; version: number };
				emits[`${p.id}:${p.version}`] = epoch();
			}
			server.io.to(room).emit(event, ...([payload] as Parameters<ServerToClientEvents[typeof event]>));
		},
		disconnectRoom: (room) => server.io.in(room).disconnectSockets(true)
	});
	send({
		type: 'ready',
		url: server.url,
		tokens: sessions.map((s) => s.token),
		rooms: doctors.map((d) => `doctor-queue:${d.doctorId}`),
		appointments,
		deskToken: deskSession.token,
		doctorTokens: Object.fromEntries(doctors.map((d, i) => [d.doctorId, doctorSessions[i]!.token])),
		transactShape: { table: ctx.db.tables.appointments, audit: ctx.db.tables.audit_logs, notifications: ctx.db.tables.notifications, outbox: ctx.db.tables.outbox, records: ctx.db.tables.medical_records, invoices: ctx.db.tables.invoices }
	});
	return async () => {
		await server.close();
		ctx.db.raw.destroy();
	};
}

async function bare() {
	const server = http.createServer();
	const io = new Server(server, { path: '/socket.io', serveClient: false });
	io.on('connection', (socket) => {
		socket.on('subscribe', (p: { room: string }, ack: (r: { ok: boolean }) => void) => {
			void socket.join(p.room);
			ack({ ok: true });
		});
	});
	server.on('request', (req, res) => {
		if (req.method !== 'POST' || req.url !== '/emit') return;
		let body = '';
		req.on('data', (d: Buffer) => (body += d));
		req.on('end', async () => {
			const { room, payload } = JSON.parse(body) as { room: string; payload: { id: string; version: number } };
			emits[`${payload.id}:${payload.version}`] = epoch();
			io.to(room).emit('queue:updated', payload);
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
	const port = (server.address() as { port: number }).port;
	send({
		type: 'ready',
		url: `http://127.0.0.1:${port}`,
		rooms: Array.from({ length: doctorsWanted }, (_, i) => `doctor-queue:bare-${i}`)
	});
	return async () => {
		io.close();
		server.closeAllConnections();
	};
}

const stop = await (mode === 'app' ? app() : bare());
process.on('message', async (m: Msg) => {
	if (m.type === 'rss') {
		// Let the heap settle (setup hashes passwords with 19 MiB each) so the two readings compare.
		for (let i = 0; i < 3; i++) {
			global.gc?.();
			await new Promise((r) => setTimeout(r, 250));
		}
		const m = process.memoryUsage();
		send({ type: 'rss', rss: m.rss, heap: m.heapUsed + m.external });
	}
	if (m.type === 'emits') send({ type: 'emits', emits });
	if (m.type === 'stop') {
		await stop();
		process.exit(0);
	}
});
// The parent is gone (it crashed or was killed): do not linger as an orphan.
process.on('disconnect', () => process.exit(1));
send({ type: 'rss-baseline', rss: process.memoryUsage().rss });
