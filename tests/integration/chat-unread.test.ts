import crypto from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { getItem, putAppointment, sleep } from './helpers';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/realtime';
import type { ChatSide, ConversationEvent, ConversationView } from '../../src/lib/shared/chat';
import { applyConversationEvent } from '../../src/lib/client/chat.svelte';

/**
 * Unread counters under load: sends and read receipts from both sides, all at once. The
 * stored count of each side, what GET answers, and the count a browser ends on (keeping the
 * `chat:conversation` event with the highest rev) all equal the true number of unread
 * messages: those from the other side placed after that side's read cursor.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let app: TestApp;
let patient: TestUser;
let doctor: TestUser;
let conversationId: string;
const open: ClientSocket[] = [];

beforeAll(async () => {
	// The load below is far over the per-sender chat rate limit, which is not what is tested.
	app = await startTestApp({ CHAT_RATE_LIMIT: '1000' });
	[patient, doctor] = await Promise.all([app.userOf('patient'), app.userOf('doctor')]);
	await putAppointment(app, { patientId: patient.patientId!, doctorId: doctor.doctorId!, status: 'COMPLETED' });
	const r = await patient.api.post('/api/conversations', { doctorId: doctor.doctorId });
	expect(r.status, JSON.stringify(r.body)).toBe(201);
	conversationId = r.body.conversation.id;
});
afterAll(async () => {
	for (const s of open.splice(0)) s.close();
	await app?.close();
});

function socketOf(user: TestUser): Promise<ClientSocket> {
	const s: ClientSocket = io(app.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: user.token } });
	open.push(s);
	return new Promise((resolve, reject) => {
		s.once('connect', () => resolve(s));
		s.once('connect_error', reject);
	});
}

/** A conversation list of one row kept as the chat page keeps it: by rev, events out of order or not. */
function listOf(s: ClientSocket, start: ConversationView) {
	const state = { row: start, heard: 0, dropped: 0 };
	s.on('chat:conversation', (e: ConversationEvent) => {
		if (e.conversationId !== start.id) return;
		state.heard++;
		const next = applyConversationEvent(state.row, e);
		if (next) state.row = next;
		else state.dropped++;
	});
	return state;
}

async function storedConversation() {
	return (await getItem(app, 'conversations', { id: conversationId }))!;
}

/** The true count for a side: messages not sent by that side placed after its read cursor. */
async function trueUnread(side: ChatSide, readerUserId: string): Promise<number> {
	const c = await storedConversation();
	const cursor = (c[`${side}_read_upto`] as string | undefined) ?? '';
	const res = await app.ctx.db.doc.send(
		new QueryCommand({
			TableName: app.ctx.db.tables.chat_messages,
			KeyConditionExpression: 'conversation_id = :c',
			ExpressionAttributeValues: { ':c': conversationId },
			ConsistentRead: true
		})
	);
	return (res.Items ?? []).filter((m) => m.sender_user_id !== readerUserId && m.sort_key > cursor).length;
}

describe('chat unread counters under concurrent sends and reads', () => {
	it('after rounds of parallel sends and read receipts from both sides, the stored, fetched and last broadcast unread counts equal the true number of unread messages', async () => {
		const [ps, ds] = await Promise.all([socketOf(patient), socketOf(doctor)]);
		const initial = async (u: TestUser) => (await u.api.get(`/api/conversations/${conversationId}`)).body.conversation as ConversationView;
		const patientList = listOf(ps, await initial(patient));
		const doctorList = listOf(ds, await initial(doctor));

		const sent: Record<ChatSide, string[]> = { patient: [], doctor: [] };
		const send = async (u: TestUser, side: ChatSide, i: number) => {
			const r = await u.api.post(`/api/conversations/${conversationId}/messages`, { clientId: crypto.randomUUID(), text: `${side} message ${i}` });
			expect(r.status, JSON.stringify(r.body)).toBe(201);
			sent[side].push(r.body.message.sortKey);
		};
		/** Reads up to the newest message of the other side this reader has been answered about so far. */
		const read = async (u: TestUser, side: ChatSide) => {
			const theirs = sent[side === 'patient' ? 'doctor' : 'patient'];
			const upTo = [...theirs].sort().at(-1);
			if (!upTo) return;
			const r = await u.api.post(`/api/conversations/${conversationId}/read`, { upTo });
			expect(r.status, JSON.stringify(r.body)).toBe(200);
		};

		let n = 0;
		for (let round = 0; round < 4; round++) {
			const jobs: Promise<void>[] = [];
			for (let i = 0; i < 12; i++) {
				jobs.push(send(patient, 'patient', n++));
				if (i % 2 === 0) jobs.push(send(doctor, 'doctor', n++));
				if (i % 3 === 1) jobs.push(read(doctor, 'doctor'));
				if (i % 4 === 2) jobs.push(read(patient, 'patient'));
				// Staggered a little so reads land among sends still in flight.
				if (i % 4 === 3) await sleep(3);
			}
			// A read of the newest message while the round's last sends are still being stored.
			jobs.push(sleep(10).then(() => read(doctor, 'doctor')));
			await Promise.all(jobs);

			for (const [side, user, list] of [
				['doctor', doctor, doctorList],
				['patient', patient, patientList]
			] as const) {
				const truth = await trueUnread(side, user.id);
				const stored = await storedConversation();
				expect(Number(stored[`unread_${side}`]), `stored unread_${side} in round ${round}`).toBe(truth);
				const fetched = (await user.api.get(`/api/conversations/${conversationId}`)).body.conversation as ConversationView;
				expect(fetched.unread, `GET unread for the ${side} in round ${round}`).toBe(truth);
				// Broadcasts go out after the responses: wait until the list holds the newest row.
				await expect.poll(() => list.row.unread, { timeout: 5_000, message: `broadcast unread for the ${side} in round ${round}` }).toBe(truth);
			}
		}
		// Nothing later changes it back.
		await sleep(500);
		expect(doctorList.row.unread).toBe(await trueUnread('doctor', doctor.id));
		expect(patientList.row.unread).toBe(await trueUnread('patient', patient.id));
		const stored = await storedConversation();
		expect(Math.max(doctorList.row.rev, patientList.row.rev)).toBeLessThanOrEqual(Number(stored.rev));
		console.log(
			`${n} messages; rev ${stored.rev}; doctor heard ${doctorList.heard} list events (${doctorList.dropped} older than held), ` +
				`patient ${patientList.heard} (${patientList.dropped}); final unread doctor ${doctorList.row.unread}, patient ${patientList.row.unread}`
		);
	});

	it('a read receipt up to the newest message leaves nothing unread, and the reader’s list hears 0 with a newer rev', async () => {
		const ds = await socketOf(doctor);
		const r = await patient.api.post(`/api/conversations/${conversationId}/messages`, { clientId: crypto.randomUUID(), text: 'one more' });
		const before = (await doctor.api.get(`/api/conversations/${conversationId}`)).body.conversation as ConversationView;
		expect(before.unread).toBeGreaterThan(0);
		const heard = new Promise<ConversationEvent>((resolve) => ds.on('chat:conversation', (e) => e.unread === 0 && resolve(e)));
		expect((await doctor.api.post(`/api/conversations/${conversationId}/read`, { upTo: r.body.message.sortKey })).body).toEqual({ moved: true });
		const e = await heard;
		expect(e.rev).toBeGreaterThan(before.rev);
		expect(Number((await storedConversation()).unread_doctor)).toBe(0);
		expect(applyConversationEvent(before, e)).toMatchObject({ unread: 0, rev: e.rev });
		expect(applyConversationEvent({ ...before, rev: e.rev }, e)).toBeNull();
	});
});
