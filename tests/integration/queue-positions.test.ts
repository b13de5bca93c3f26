import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { QueuePlaces } from '../../src/lib/client/appointments';
import { queueSeqId } from '../../src/lib/server/repositories/queue';
import type { ClientToServerEvents, QueuePositionEvent, ServerToClientEvents } from '../../src/lib/shared/realtime';
import { getItem } from './helpers';

/**
 * Queue announcements race each other (each reads the queue on its own after its change);
 * each carries a per-queue sequence taken before its read, so a patient who keeps the
 * highest one ends on the true place however the announcements were delivered.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let app: TestApp;
let today: string;
let doctor: TestUser;
let nurse: TestUser;
let desk: TestUser;
let watcher: TestUser;
let others: TestUser[];
let socket: ClientSocket;
const heard: QueuePositionEvent[] = [];

beforeAll(async () => {
	const tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	doctor = await alwaysOpenDoctor(app);
	[nurse, desk, watcher, ...others] = await Promise.all([
		app.userOf('nurse'),
		app.userOf('front_desk'),
		app.userOf('patient', { name: 'Wanda Watcher' }),
		app.userOf('patient'),
		app.userOf('patient')
	]);
});
afterAll(async () => {
	socket?.close();
	await app?.close();
});

type Appt = { id: string; version: number };
let slotIndex = 0;
let slots: { start: string }[] = [];
/** The priority the nurse gives each booking when she checks it in (triage is staff's). */
const triage = new Map<string, 'normal' | 'high' | 'critical'>();
async function book(patientId: string, priority: 'normal' | 'high' | 'critical'): Promise<Appt> {
	if (!slots.length) slots = await freeSlots(desk, doctor.doctorId!, today);
	const slot = slots[slotIndex++];
	if (!slot) throw new Error('out of free slots today');
	const r = await desk.api.post('/api/appointments', { doctorId: doctor.doctorId, patientId, start: slot.start, symptoms: 'follow-up of a cough' });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	triage.set(r.body.appointment.id, priority);
	return r.body.appointment;
}
async function change(by: TestUser, a: Appt, body: Record<string, unknown>): Promise<Appt> {
	const priority = body.status === 'CHECKED_IN' ? triage.get(a.id) : undefined;
	const r = await by.api.patch(`/api/appointments/${a.id}`, { version: a.version, ...(priority ? { priority } : {}), ...body });
	expect(r.status, JSON.stringify(r.body)).toBe(200);
	return r.body.appointment;
}
const storedSeq = async () => Number((await getItem(app, 'locks', { id: queueSeqId(doctor.doctorId!, today) }))?.seq ?? 0);

/** The watcher's place as the doctor's queue shows it now (priority, then arrival). */
async function truePlace(appointmentId: string): Promise<number> {
	const q = await doctor.api.get(`/api/doctors/${doctor.doctorId}/queue`);
	const waiting = (q.body.queue as { id: string; status: string }[]).filter((x) => x.status === 'CHECKED_IN');
	return waiting.findIndex((x) => x.id === appointmentId) + 1;
}

describe('queue positions by sequence', () => {
	it('after bursts of concurrent queue changes, the place with the highest seq the patient heard is their true final place, and GET returns it with that seq', async () => {
		// A queue ahead of the watcher, then the watcher.
		const ahead: Appt[] = [];
		for (let i = 0; i < 3; i++) ahead.push(await change(nurse, await book(others[i % 2]!.patientId!, 'normal'), { status: 'CHECKED_IN' }));
		let mine = await change(nurse, await book(watcher.patientId!, 'normal'), { status: 'CHECKED_IN' });

		socket = io(app.url, { path: '/socket.io', transports: ['websocket'], auth: { token: watcher.token } });
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', () => resolve());
			socket.once('connect_error', reject);
		});
		const places = new QueuePlaces();
		socket.on('queue:position', (e) => {
			if (e.appointmentId !== mine.id) return;
			heard.push(e);
			places.offer(e.appointmentId, { position: e.position, seq: e.seq });
		});

		let outOfOrder = 0;
		let lastArrivedWrong = 0;
		for (let round = 0; round < 3; round++) {
			const newcomers = await Promise.all([book(others[0]!.patientId!, 'critical'), book(others[1]!.patientId!, 'high'), book(others[0]!.patientId!, 'normal')]);
			const before = await storedSeq();
			const from = heard.length;
			// Six changes at once: three arrivals (two of them ahead of the watcher), a consultation
			// starting, a cancellation ahead, and the watcher's own priority raised or lowered.
			const [consulting, cancelled] = [ahead.shift()!, ahead.shift()];
			const results = await Promise.all([
				...newcomers.map((a) => change(nurse, a, { status: 'CHECKED_IN' })),
				change(doctor, consulting, { status: 'CONSULTING' }),
				cancelled ? change(desk, cancelled, { status: 'CANCELLED', reason: 'left the clinic' }) : Promise.resolve(undefined),
				change(nurse, mine, { priority: round % 2 ? 'normal' : 'high' })
			]);
			mine = results[5]!;
			ahead.push(...results.slice(0, 3).filter((x): x is Appt => !!x));
			const moves = cancelled ? 6 : 5;

			// Every change was announced once, each with a number of its own.
			await expect.poll(storedSeq, { timeout: 5_000 }).toBe(before + moves);
			await expect.poll(() => places.get(mine.id)?.seq, { timeout: 5_000 }).toBe(before + moves);
			const round_ = heard.slice(from);
			expect(new Set(round_.map((e) => e.seq)).size).toBe(round_.length);
			for (let i = 1; i < round_.length; i++) if (round_[i]!.seq < round_[i - 1]!.seq) outOfOrder++;
			if (round_.at(-1)!.seq !== before + moves) lastArrivedWrong++;

			const expected = await truePlace(mine.id);
			expect(expected).toBeGreaterThan(0);
			expect(places.get(mine.id)).toEqual({ position: expected, seq: before + moves });
			const fetched = (await watcher.api.get(`/api/appointments/${mine.id}`)).body.appointment;
			expect(fetched.queuePosition).toBe(expected);
			expect(fetched.queueSeq).toBe(before + moves);
			// Finish the consultation so the next round has one to start.
			await change(doctor, (await doctor.api.get(`/api/appointments/${consulting.id}`)).body.appointment, { status: 'COMPLETED' });
			await expect.poll(() => places.get(mine.id)?.seq, { timeout: 5_000 }).toBe(before + moves + 1);
		}
		console.log(`${heard.length} places heard; ${outOfOrder} arrived after a higher seq; the last to arrive was not the newest in ${lastArrivedWrong} of 3 rounds`);
	});

	it('the sequence row is a counter per doctor and day in locks, with a kind and a ttl two days after the day', async () => {
		const row = await getItem(app, 'locks', { id: queueSeqId(doctor.doctorId!, today) });
		expect(row).toMatchObject({ kind: 'queue_seq' });
		expect(row!.seq).toBeGreaterThan(0);
		const dayStart = Date.parse(`${today}T00:00:00Z`) / 1000;
		expect(row!.ttl).toBeGreaterThanOrEqual(dayStart + 2 * 86_400);
		expect(row!.ttl).toBeLessThanOrEqual(dayStart + 4 * 86_400);
	});
});
