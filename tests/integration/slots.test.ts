import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots } from '../fixtures/clinic';
import { sleep } from './helpers';
import { getAppointment } from '../../src/lib/server/repositories/appointments';
import { markMissed } from '../../src/lib/server/services/appointments';
import { systemCaller } from '../../src/lib/server/actor';
import { addDays, todayIn } from '../../src/lib/shared/time';
import { slotsRoom, type ClientToServerEvents, type ServerToClientEvents, type SlotsEvent, type SubscribeAck } from '../../src/lib/shared/realtime';

/**
 * Free slots are live: every change that takes or frees a doctor's time (booking,
 * cancellation, a move, a missed mark) is announced as `slots:updated { doctorId, date }` to
 * `slots:<date>`, a room any signed-in user may join; a malformed slots room is refused.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
const TZ = 'America/New_York';
const INTERNAL_TOKEN = 'slots-test-internal-token-0123456789abcdef';

let app: TestApp;
let doctor: TestUser;
let watcher: TestUser;
let booker: TestUser;
let desk: TestUser;
let tomorrow: string;
let later: string;
const open: ClientSocket[] = [];

beforeAll(async () => {
	app = await startTestApp({ HOSPITAL_TIMEZONE: TZ, INTERNAL_TOKEN });
	doctor = await alwaysOpenDoctor(app);
	[watcher, booker, desk] = await Promise.all([
		app.userOf('patient', { name: 'Wendy Watcher' }),
		app.userOf('patient', { name: 'Boris Booker' }),
		app.userOf('front_desk')
	]);
	tomorrow = addDays(todayIn(TZ), 1);
	later = addDays(todayIn(TZ), 2);
});
afterEach(() => {
	for (const s of open.splice(0)) s.close();
});
afterAll(async () => app?.close());

async function socketOf(user: TestUser): Promise<ClientSocket> {
	const s: ClientSocket = io(app.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: user.api.cookie! } });
	open.push(s);
	await new Promise<void>((resolve, reject) => {
		s.once('connect', () => resolve());
		s.once('connect_error', reject);
	});
	return s;
}

const subscribe = (s: ClientSocket, room: string): Promise<SubscribeAck> => s.timeout(5_000).emitWithAck('subscribe', { room });

/** Every `slots:updated` the socket hears, and a way to wait for the next one. */
function recorder(s: ClientSocket) {
	const heard: SlotsEvent[] = [];
	let waiting: ((e: SlotsEvent) => void) | undefined;
	s.on('slots:updated', (e) => {
		heard.push(e);
		waiting?.(e);
	});
	return {
		heard,
		next(ms = 5_000): Promise<SlotsEvent> {
			const seen = heard.length;
			return new Promise((resolve, reject) => {
				const t = setTimeout(() => reject(new Error(`no slots:updated within ${ms} ms`)), ms);
				waiting = (e) => {
					if (heard.length <= seen) return;
					clearTimeout(t);
					waiting = undefined;
					resolve(e);
				};
			});
		}
	};
}

async function book(patient: TestUser, start: string) {
	const r = await patient.api.post('/api/appointments', { doctorId: doctor.doctorId, start, symptoms: 'recurring headaches' });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	return r.body.appointment as { id: string; version: number; start: string; date: string };
}

describe('slots:<date> rooms', () => {
	it('a patient subscribed to slots:<date> hears slots:updated when another patient books that day, and again when it is cancelled', async () => {
		const s = await socketOf(watcher);
		expect(await subscribe(s, slotsRoom(tomorrow))).toEqual({ ok: true });
		const events = recorder(s);
		const before = await freeSlots(watcher, doctor.doctorId!, tomorrow);
		const slot = before[10]!;

		const booked = events.next();
		const appt = await book(booker, slot.start);
		expect(await booked).toEqual({ doctorId: doctor.doctorId, date: tomorrow });
		// What the event announces is true when the watcher refetches.
		const afterBooking = await freeSlots(watcher, doctor.doctorId!, tomorrow);
		expect(afterBooking.map((x) => x.start)).not.toContain(slot.start);
		expect(afterBooking).toHaveLength(before.length - 1);

		const cancelled = events.next();
		const r = await booker.api.patch(`/api/appointments/${appt.id}`, { version: appt.version, status: 'CANCELLED', reason: 'feeling better' });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		expect(await cancelled).toEqual({ doctorId: doctor.doctorId, date: tomorrow });
		expect((await freeSlots(watcher, doctor.doctorId!, tomorrow)).map((x) => x.start)).toContain(slot.start);
		expect(events.heard).toHaveLength(2);
	});

	it('a booking is announced only to its own date’s room', async () => {
		const [onDay, otherDay] = await Promise.all([socketOf(watcher), socketOf(desk)]);
		expect(await subscribe(onDay, slotsRoom(tomorrow))).toEqual({ ok: true });
		expect(await subscribe(otherDay, slotsRoom(later))).toEqual({ ok: true });
		const [a, b] = [recorder(onDay), recorder(otherDay)];
		const heard = a.next();
		await book(booker, (await freeSlots(booker, doctor.doctorId!, tomorrow))[20]!.start);
		await heard;
		await sleep(300);
		expect(b.heard).toEqual([]);
	});

	it('moving an appointment to another day announces both days; a status change that keeps the slot announces nothing', async () => {
		const [onDay, onLater] = await Promise.all([socketOf(watcher), socketOf(watcher)]);
		expect(await subscribe(onDay, slotsRoom(tomorrow))).toEqual({ ok: true });
		expect(await subscribe(onLater, slotsRoom(later))).toEqual({ ok: true });
		const [a, b] = [recorder(onDay), recorder(onLater)];
		const firstBooking = a.next();
		const appt = await book(booker, (await freeSlots(booker, doctor.doctorId!, tomorrow))[30]!.start);
		await firstBooking;

		const confirmed = await desk.api.patch(`/api/appointments/${appt.id}`, { version: appt.version, status: 'CONFIRMED' });
		expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);

		const target = (await freeSlots(desk, doctor.doctorId!, later))[5]!;
		const [leftDay, reachedDay] = [a.next(), b.next()];
		const moved = await desk.api.patch(`/api/appointments/${appt.id}`, { version: confirmed.body.appointment.version, start: target.start });
		expect(moved.status, JSON.stringify(moved.body)).toBe(200);
		expect(await leftDay).toEqual({ doctorId: doctor.doctorId, date: tomorrow });
		expect(await reachedDay).toEqual({ doctorId: doctor.doctorId, date: later });
		// The booking and the move; the confirmation in between took no slot and freed none.
		expect(a.heard).toHaveLength(2);
		expect(b.heard).toHaveLength(1);
	});

	it('the worker’s missed mark announces the day, also when relayed from a separate worker process', async () => {
		const s = await socketOf(watcher);
		expect(await subscribe(s, slotsRoom(tomorrow))).toEqual({ ok: true });
		const events = recorder(s);
		const booked = events.next();
		const appt = await book(booker, (await freeSlots(booker, doctor.doctorId!, tomorrow))[40]!.start);
		await booked;

		const missed = events.next();
		const item = await getAppointment(app.ctx, appt.id);
		expect(await markMissed(app.ctx, systemCaller(), item!)).toMatchObject({ status: 'MISSED' });
		expect(await missed).toEqual({ doctorId: doctor.doctorId, date: tomorrow });

		// A worker without Redis posts its events to the web process; slots:updated is one it relays.
		const relayed = events.next();
		const res = await fetch(`${app.url}/api/internal/broadcast`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-internal-token': INTERNAL_TOKEN },
			body: JSON.stringify({ events: [{ room: slotsRoom(tomorrow), event: 'slots:updated', payload: { doctorId: doctor.doctorId, date: tomorrow } }] })
		});
		expect(res.status).toBe(202);
		expect(await relayed).toEqual({ doctorId: doctor.doctorId, date: tomorrow });
	});

	it('any signed-in role may join a real date’s room; a patient cannot join a malformed slots room', async () => {
		const [patient, staff] = await Promise.all([socketOf(watcher), socketOf(desk)]);
		expect(await subscribe(patient, slotsRoom('2027-03-14'))).toEqual({ ok: true });
		expect(await subscribe(staff, slotsRoom('2028-02-29'))).toEqual({ ok: true });
		for (const room of ['slots:tomorrow', 'slots:2027-02-30', 'slots:2027-13-01', 'slots:27-03-14', 'slots:2027-03-14:extra', 'slots:2027-03-14T00:00', 'slots:', 'slots']) {
			const ack = await subscribe(patient, room);
			expect(ack, room).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
		}
		// Refused means not joined: an event to a malformed room's name reaches nobody.
		const events = recorder(patient);
		app.ctx.bus.emit('slots:tomorrow', 'slots:updated', { doctorId: doctor.doctorId!, date: 'tomorrow' });
		await sleep(300);
		expect(events.heard).toEqual([]);
	});
});

describe('DST days through the API (America/New_York)', () => {
	let night: TestUser;
	beforeAll(async () => {
		night = await app.userOf('doctor', { name: 'Nadia Night' });
		const d = await night.api.get(`/api/doctors/${night.doctorId}`);
		const r = await night.api.request('PUT', `/api/doctors/${night.doctorId}/availability`, {
			version: d.body.doctor.version,
			slotMinutes: 30,
			weekly: [{ day: 7, start: '01:00', end: '04:00' }]
		});
		expect(r.status, JSON.stringify(r.body)).toBe(200);
	});

	it('a Sunday 01:00–04:00 schedule offers 4 slots on spring-forward day and 8 distinct ones on fall-back day', async () => {
		expect((await freeSlots(watcher, night.doctorId!, '2027-03-14')).map((s) => s.start)).toEqual([
			'2027-03-14T01:00:00-05:00',
			'2027-03-14T01:30:00-05:00',
			'2027-03-14T03:00:00-04:00',
			'2027-03-14T03:30:00-04:00'
		]);
		expect((await freeSlots(watcher, night.doctorId!, '2027-11-07')).map((s) => s.start)).toEqual([
			'2027-11-07T01:00:00-04:00',
			'2027-11-07T01:30:00-04:00',
			'2027-11-07T01:00:00-05:00',
			'2027-11-07T01:30:00-05:00',
			'2027-11-07T02:00:00-05:00',
			'2027-11-07T02:30:00-05:00',
			'2027-11-07T03:00:00-05:00',
			'2027-11-07T03:30:00-05:00'
		]);
	});

	it('both 01:30s of fall-back day can be booked, by different patients, and the day’s lists count them right', async () => {
		const book = (p: TestUser, start: string) =>
			p.api.post('/api/appointments', { doctorId: night.doctorId, start, symptoms: 'night shift check' });
		const second = await book(booker, '2027-11-07T01:30:00-05:00');
		expect(second.status, JSON.stringify(second.body)).toBe(201);
		expect(second.body.appointment).toMatchObject({ start: '2027-11-07T01:30:00-05:00', end: '2027-11-07T02:00:00-05:00', date: '2027-11-07' });
		const left = (await freeSlots(watcher, night.doctorId!, '2027-11-07')).map((s) => s.start);
		expect(left).toHaveLength(7);
		expect(left).toContain('2027-11-07T01:30:00-04:00');

		const first = await book(watcher, '2027-11-07T01:30:00-04:00');
		expect(first.status, JSON.stringify(first.body)).toBe(201);
		expect(first.body.appointment).toMatchObject({ start: '2027-11-07T01:30:00-04:00', end: '2027-11-07T01:00:00-05:00' });

		const listed = await desk.api.get(`/api/doctors?date=2027-11-07`);
		expect(listed.body.doctors.find((d: { id: string }) => d.id === night.doctorId).freeSlots).toBe(6);
		const day = await night.api.get(`/api/appointments?doctorId=${night.doctorId}&date=2027-11-07`);
		expect(day.status, JSON.stringify(day.body)).toBe(200);
		expect(day.body.appointments.map((a: { start: string }) => a.start)).toEqual(['2027-11-07T01:30:00-04:00', '2027-11-07T01:30:00-05:00']);
	});

	it('a start is an instant whatever offset it is written with: 02:30-05:00 on spring-forward day is the 03:30-04:00 slot', async () => {
		const r = await watcher.api.post('/api/appointments', { doctorId: night.doctorId, start: '2027-03-14T02:30:00-05:00', symptoms: 'night shift check' });
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(r.body.appointment).toMatchObject({ start: '2027-03-14T03:30:00-04:00', end: '2027-03-14T04:00:00-04:00', date: '2027-03-14' });
		expect((await freeSlots(watcher, night.doctorId!, '2027-03-14')).map((s) => s.start)).not.toContain('2027-03-14T03:30:00-04:00');
	});
});
