import crypto from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Actor, Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, pairInCare, refuse, requireActor } from '../auth/guard';
import { transact, type TransactItem } from '../db/versioned';
import { decodeCursor, encodeCursor, resumeQuery } from '../db/cursor';
import { z } from 'zod';
import { auditPut } from './audit';
import { announce, notificationPut } from './notifications';
import { outboxPut } from './outbox';
import { getDoctor } from '../repositories/doctors';
import { getPatient } from '../repositories/patients';
import { getUser } from '../repositories/users';
import {
	conversationCreatePut,
	conversationCursorUpdate,
	conversationMessageUpdate,
	conversationOfFailure,
	countIncomingAfter,
	getConversation,
	revOf,
	type ConversationItem
} from '../repositories/conversations';
import { rooms } from '../realtime/bus';
import {
	CHAT_PAGE_SIZE,
	chatSortKey,
	type ChatMessageView,
	type ChatReceiptEvent,
	type ChatSide,
	type ConversationEvent,
	type ConversationView
} from '$lib/shared/chat';

/**
 * Patient–doctor chat. A pair may talk only when the patient has (or had) an appointment
 * with the doctor; each pair has one conversation whose id is derived from the pair, so two
 * first messages racing create it once. A message's id is the client's `clientId`: a claim
 * row in `locks` makes a retried send store it once. Receipts are per-side cursors on the
 * conversation (delivered up to, read up to), so one write acknowledges many messages.
 * Every write carries its audit entry (never the text) in the same transaction.
 *
 * Unread counts stay equal to the messages from the other side placed after that side's
 * read cursor: a send adds one only while the recipient has not read past its place; a read
 * receipt sets the count it counted, conditioned on the conversation's `rev` being the one
 * it counted against (every change bumps it), and counts again if it lost that race.
 */
export type { ConversationItem };

export type ChatMessageItem = {
	conversation_id: string;
	sort_key: string;
	id: string;
	sender_user_id: string;
	sender_role: ChatSide;
	sender_name: string;
	text: string;
	created_at: string;
};

const other = (side: ChatSide): ChatSide => (side === 'patient' ? 'doctor' : 'patient');
const PREVIEW_CHARS = 140;
const preview = (text: string) => {
	const chars = [...text];
	return chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…` : text;
};

/** The pair's conversation id: the same for both sides, whoever opens it first. */
export function conversationIdOf(patientId: string, doctorId: string): string {
	return `c_${crypto.createHash('sha256').update(`${patientId}|${doctorId}`).digest('hex').slice(0, 40)}`;
}

const CLAIM_TTL_S = 30 * 86_400;
/** Tries of a send whose place the recipient read past, and of a read receipt that lost a race. */
const SEND_ATTEMPTS = 5;
const ACK_ATTEMPTS = 10;
const messageClaimId = (senderUserId: string, clientId: string) => `chat-msg#${senderUserId}#${clientId}`;
const notifyThrottleId = (conversationId: string, userId: string) => `chat-notify#${conversationId}#${userId}`;

// ---------------------------------------------------------------- views

function sideOf(c: ConversationItem, actor: Actor): ChatSide | undefined {
	if (actor.role === 'patient' && actor.patientId === c.patient_id) return 'patient';
	if (actor.role === 'doctor' && actor.doctorId === c.doctor_id) return 'doctor';
	return undefined;
}

export function conversationView(c: ConversationItem, you: ChatSide): ConversationView {
	return {
		id: c.id,
		patientId: c.patient_id,
		patientName: c.patient_name,
		patientUserId: c.patient_user_id,
		doctorId: c.doctor_id,
		doctorName: c.doctor_name,
		doctorUserId: c.doctor_user_id,
		you,
		withName: you === 'patient' ? c.doctor_name : c.patient_name,
		withUserId: you === 'patient' ? c.doctor_user_id : c.patient_user_id,
		createdAt: c.created_at,
		lastMessageAt: c.last_message_preview === undefined ? null : c.last_message_at,
		lastMessagePreview: c.last_message_preview ?? null,
		unread: Number(you === 'patient' ? c.unread_patient : c.unread_doctor) || 0,
		rev: revOf(c),
		readUpTo: { patient: c.patient_read_upto ?? null, doctor: c.doctor_read_upto ?? null },
		deliveredUpTo: { patient: c.patient_delivered_upto ?? null, doctor: c.doctor_delivered_upto ?? null }
	};
}

/** A message's receipt state, read from the recipient side's cursors. */
export function messageView(m: ChatMessageItem, c: Pick<ConversationItem, `${ChatSide}_${'read' | 'delivered'}_upto`>): ChatMessageView {
	const to = other(m.sender_role);
	const read = c[`${to}_read_upto`];
	const delivered = c[`${to}_delivered_upto`];
	const status = read && read >= m.sort_key ? 'read' : (delivered && delivered >= m.sort_key) ? 'delivered' : 'sent';
	return {
		id: m.id,
		conversationId: m.conversation_id,
		sortKey: m.sort_key,
		senderId: m.sender_user_id,
		senderRole: m.sender_role,
		senderName: m.sender_name,
		text: m.text,
		createdAt: m.created_at,
		status
	};
}

// ---------------------------------------------------------------- access

/** The conversation and the caller's side in it; 403 (audited) for anyone else. */
export async function conversationFor(
	ctx: Ctx,
	caller: Caller,
	id: string,
	mode: 'read' | 'write' = 'read'
): Promise<{ conversation: ConversationItem; side: ChatSide }> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'chat', mode, { id });
	const conversation = await getConversation(ctx, id);
	if (!conversation) throw notFound('This conversation');
	const side = sideOf(conversation, actor);
	if (!side) return refuse(ctx, caller, 'chat', mode, id, 'This conversation is between another patient and doctor.');
	if (!(await pairInCare(ctx, conversation.patient_id, conversation.doctor_id))) {
		return refuse(ctx, caller, 'chat', mode, id, 'This conversation is closed: there is no current or past visit between this patient and doctor.');
	}
	return { conversation, side };
}

// ---------------------------------------------------------------- conversations

export async function openConversation(
	ctx: Ctx,
	caller: Caller,
	input: { doctorId: string } | { patientId: string }
): Promise<{ conversation: ConversationView; created: boolean }> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'chat', 'write');
	let patientId: string | undefined;
	let doctorId: string | undefined;
	if (actor.role === 'patient') {
		if (!('doctorId' in input)) throw badRequest('Name the doctor to write to.', [{ field: 'doctorId', message: 'is required' }]);
		patientId = actor.patientId;
		doctorId = input.doctorId;
	} else {
		if (!('patientId' in input)) throw badRequest('Name the patient to write to.', [{ field: 'patientId', message: 'is required' }]);
		patientId = input.patientId;
		doctorId = actor.doctorId;
	}
	if (!patientId || !doctorId || !(await pairInCare(ctx, patientId, doctorId))) {
		return refuse(
			ctx,
			caller,
			'chat',
			'write',
			undefined,
			actor.role === 'patient'
				? 'You can message a doctor once you have an appointment with them.'
				: 'You can message patients who have an appointment with you.'
		);
	}
	const id = conversationIdOf(patientId, doctorId);
	const you: ChatSide = actor.role === 'patient' ? 'patient' : 'doctor';
	const existing = await getConversation(ctx, id);
	if (existing) return { conversation: conversationView(existing, you), created: false };

	const [patient, doctor] = await Promise.all([getPatient(ctx, patientId), getDoctor(ctx, doctorId)]);
	if (!patient || !doctor) throw notFound(!patient ? 'This patient' : 'This doctor');
	if (!patient.user_id) {
		throw badRequest('This patient has no MedTrack account yet, so there is no one to chat with.', [
			{ field: 'patientId', message: 'has no account' }
		]);
	}
	const now = new Date().toISOString();
	const item: ConversationItem = {
		id,
		patient_id: patient.id,
		patient_user_id: patient.user_id,
		patient_name: patient.name,
		doctor_id: doctor.id,
		doctor_user_id: doctor.user_id,
		doctor_name: doctor.name,
		created_at: now,
		last_message_at: now,
		unread_patient: 0,
		unread_doctor: 0,
		rev: 1
	};
	const race = { lost: false };
	await transact(
		ctx,
		[
			conversationCreatePut(ctx, item),
			auditPut(ctx, caller, { action: 'create', resourceType: 'conversation', resourceId: id, changedFields: ['patient_id', 'doctor_id'] })
		],
		(reasons) => {
			if (reasons[0]?.Code !== 'ConditionalCheckFailed') return undefined;
			race.lost = true;
			return new AppError(409, 'ALREADY_EXISTS', 'exists');
		}
	).catch((err) => {
		if (!(err instanceof AppError && err.code === 'ALREADY_EXISTS')) throw err;
	});
	if (race.lost) {
		// The other side opened it at the same moment: theirs is the one.
		const winner = await getConversation(ctx, id);
		if (!winner) throw notFound('This conversation');
		return { conversation: conversationView(winner, you), created: false };
	}
	return { conversation: conversationView(item, you), created: true };
}

export async function readConversation(ctx: Ctx, caller: Caller, id: string): Promise<ConversationView> {
	const { conversation, side } = await conversationFor(ctx, caller, id);
	return conversationView(conversation, side);
}

export async function listConversations(
	ctx: Ctx,
	caller: Caller,
	q: { cursor?: string; limit: number }
): Promise<{ conversations: ConversationView[]; nextCursor: string | null }> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'chat', 'read');
	const side: ChatSide = actor.role === 'patient' ? 'patient' : 'doctor';
	const scope = `conversations:${actor.id}`;
	const cursor = q.cursor
		? decodeCursor(ctx.cursorKey, scope, q.cursor, z.object({ at: z.string().min(1), id: z.string().min(1) }).strict())
		: undefined;
	const userKey = `${side}_user_id`;
	const res = await resumeQuery(cursor, () => ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.conversations,
			IndexName: `${side}-user-index`,
			KeyConditionExpression: '#u = :u',
			ExpressionAttributeNames: { '#u': userKey },
			ExpressionAttributeValues: { ':u': actor.id },
			ScanIndexForward: false,
			Limit: q.limit,
			// The cursor names only positions inside the caller's own partition.
			ExclusiveStartKey: cursor ? { [userKey]: actor.id, last_message_at: cursor.at, id: cursor.id } : undefined
		})
	));
	const items = (res.Items ?? []) as ConversationItem[];
	const last = res.LastEvaluatedKey;
	return {
		conversations: items.map((c) => conversationView(c, side)),
		nextCursor: last ? encodeCursor(ctx.cursorKey, scope, { at: last.last_message_at, id: last.id }) : null
	};
}

// ---------------------------------------------------------------- messages

export async function listMessages(
	ctx: Ctx,
	caller: Caller,
	conversationId: string,
	q: { cursor?: string; limit?: number }
): Promise<{ messages: ChatMessageView[]; nextCursor: string | null }> {
	const { conversation } = await conversationFor(ctx, caller, conversationId);
	const limit = q.limit ?? CHAT_PAGE_SIZE;
	const before = q.cursor
		? decodeCursor(ctx.cursorKey, `messages:${conversationId}`, q.cursor, z.object({ before: chatSortKey }).strict()).before
		: undefined;
	// One more than a page tells whether an older page exists without an empty last page.
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.chat_messages,
			KeyConditionExpression: before ? 'conversation_id = :c AND sort_key < :b' : 'conversation_id = :c',
			ExpressionAttributeValues: before ? { ':c': conversationId, ':b': before } : { ':c': conversationId },
			ScanIndexForward: false,
			Limit: limit + 1,
			ConsistentRead: true
		})
	);
	const items = (res.Items ?? []) as ChatMessageItem[];
	const page = items.slice(0, limit);
	const more = items.length > limit;
	return {
		messages: page.map((m) => messageView(m, conversation)),
		nextCursor: more && page.length ? encodeCursor(ctx.cursorKey, `messages:${conversationId}`, { before: page[page.length - 1]!.sort_key }) : null
	};
}

async function storedMessage(ctx: Ctx, conversationId: string, sortKey: string): Promise<ChatMessageItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({
			TableName: ctx.db.tables.chat_messages,
			Key: { conversation_id: conversationId, sort_key: sortKey },
			ConsistentRead: true
		})
	);
	return res.Item as ChatMessageItem | undefined;
}

/** The message a clientId already stored, if any (a retry after a lost acknowledgement). */
async function alreadySent(ctx: Ctx, senderUserId: string, clientId: string, conversationId: string) {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.locks, Key: { id: messageClaimId(senderUserId, clientId) }, ConsistentRead: true })
	);
	const claim = res.Item as { conversation_id: string; sort_key: string } | undefined;
	if (!claim) return undefined;
	if (claim.conversation_id !== conversationId) {
		throw new AppError(409, 'ALREADY_EXISTS', 'This clientId was already used for a message in another conversation; generate a new one.', {
			field: 'clientId'
		});
	}
	return storedMessage(ctx, conversationId, claim.sort_key);
}

/** Per-sender fixed window in `locks`, shared by every instance: CHAT_RATE_LIMIT per CHAT_RATE_WINDOW_SECONDS. */
async function assertSendAllowed(ctx: Ctx, userId: string): Promise<void> {
	const { rateLimit, rateWindowMs } = ctx.config.chat;
	const now = Date.now();
	const window = Math.floor(now / rateWindowMs);
	const res = await ctx.db.doc.send(
		new UpdateCommand({
			TableName: ctx.db.tables.locks,
			Key: { id: `rate#chat#${userId}#${window}` },
			UpdateExpression: 'ADD #n :one SET #ttl = :ttl, kind = :kind',
			ExpressionAttributeNames: { '#n': 'count', '#ttl': 'ttl' },
			ExpressionAttributeValues: { ':one': 1, ':ttl': Math.ceil(((window + 2) * rateWindowMs) / 1000), ':kind': 'chat_rate' },
			ReturnValues: 'UPDATED_NEW'
		})
	);
	if (Number(res.Attributes?.count ?? 0) > rateLimit) {
		const retryAfterS = Math.max(1, Math.ceil(((window + 1) * rateWindowMs - now) / 1000));
		throw new AppError(
			429,
			'TOO_MANY_REQUESTS',
			`You are sending messages too fast (at most ${rateLimit} every ${Math.round(rateWindowMs / 1000)} seconds). Try again in ${retryAfterS} s.`,
			{ retryAfterSeconds: retryAfterS },
			{ 'Retry-After': String(retryAfterS) }
		);
	}
}

type RecipientNotice = {
	items: TransactItem[];
	/** Index in the transaction of the throttle claim, when an SMS/e-mail goes with it. */
	throttleAt?: number;
	announce(): void;
};

/**
 * What an offline recipient gets: an in-app notification for every message, and an
 * SMS/e-mail at most once per conversation per CHAT_NOTIFY_THROTTLE_MINUTES, claimed by a
 * conditional write on a throttle row in the same transaction as the message. The SMS names
 * the sender only; the text stays inside MedTrack.
 */
async function recipientNotice(
	ctx: Ctx,
	c: ConversationItem,
	recipientUserId: string,
	senderName: string,
	text: string,
	baseIndex: number,
	withOutbox: boolean
): Promise<RecipientNotice> {
	const notice = notificationPut(ctx, recipientUserId, {
		kind: 'chat_message',
		title: `New message from ${senderName}`,
		body: preview(text),
		relatedType: 'conversation',
		relatedId: c.id
	});
	const items: TransactItem[] = [notice.item];
	const out: RecipientNotice = { items, announce: () => announce(ctx, recipientUserId, notice.event) };
	if (!withOutbox) return out;
	const now = Date.now();
	const throttleId = notifyThrottleId(c.id, recipientUserId);
	const [throttle, recipient] = await Promise.all([
		ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.locks, Key: { id: throttleId }, ConsistentRead: true })),
		getUser(ctx, recipientUserId)
	]);
	if (Number(throttle.Item?.until ?? 0) > now || !recipient) return out;
	const channel = recipient.phone ? 'sms' : 'email';
	const until = now + ctx.config.chat.notifyThrottleMs;
	out.throttleAt = baseIndex + items.length;
	items.push(
		{
			Update: {
				TableName: ctx.db.tables.locks,
				Key: { id: throttleId },
				UpdateExpression: 'SET #until = :until, #ttl = :ttl, kind = :kind',
				ConditionExpression: 'attribute_not_exists(id) OR #until <= :now',
				ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
				ExpressionAttributeValues: { ':until': until, ':now': now, ':ttl': Math.ceil(until / 1000) + 60, ':kind': 'chat_notify' }
			}
		},
		outboxPut(ctx, {
			kind: 'chat_message',
			channel,
			userId: recipientUserId,
			relatedId: c.id,
			subject: `New message from ${senderName}`,
			body: `MedTrack: ${senderName} sent you a message. Open MedTrack to read it.`
		})
	);
	return out;
}

export async function sendMessage(
	ctx: Ctx,
	caller: Caller,
	conversationId: string,
	input: { clientId: string; text: string }
): Promise<{ message: ChatMessageView; created: boolean }> {
	const actor = requireActor(caller);
	const clientId = input.clientId.toLowerCase();
	// Independent reads side by side: a message costs few round trips.
	const [{ conversation: c, side }, earlier] = await Promise.all([
		conversationFor(ctx, caller, conversationId, 'write'),
		alreadySent(ctx, actor.id, clientId, conversationId)
	]);
	if (earlier) return { message: messageView(earlier, await freshCursors(ctx, c)), created: false };
	const to = other(side);
	const recipientUserId = to === 'patient' ? c.patient_user_id : c.doctor_user_id;
	// Not looking at this conversation: an in-app notification. Not connected at all: also SMS/e-mail.
	const [, recipientOnline, recipientViewing] = await Promise.all([
		assertSendAllowed(ctx, actor.id),
		ctx.bus.online(rooms.user(recipientUserId)),
		ctx.bus.online(rooms.chat(c.id), recipientUserId)
	]);

	let withOutbox = !recipientOnline;
	let message: ChatMessageItem | undefined;
	for (let attempt = 0; !message; attempt++) {
		// The message's place is the time it is stored; a retry below takes a fresh one.
		const createdAt = new Date().toISOString();
		const candidate: ChatMessageItem = {
			conversation_id: c.id,
			sort_key: `${createdAt}#${clientId}`,
			id: clientId,
			sender_user_id: actor.id,
			sender_role: side,
			sender_name: actor.name,
			text: input.text,
			created_at: createdAt
		};
		const base: TransactItem[] = [
			{
				Put: {
					TableName: ctx.db.tables.locks,
					Item: {
						id: messageClaimId(actor.id, clientId),
						kind: 'chat_message',
						conversation_id: c.id,
						sort_key: candidate.sort_key,
						// a retry is recognised for 30 days; housekeeping drops the claim after that
						ttl: Math.ceil(Date.now() / 1000) + CLAIM_TTL_S
					},
					ConditionExpression: 'attribute_not_exists(id)'
				}
			},
			{
				Put: {
					TableName: ctx.db.tables.chat_messages,
					Item: candidate,
					ConditionExpression: 'attribute_not_exists(sort_key)'
				}
			},
			conversationMessageUpdate(ctx, c.id, { to, sortKey: candidate.sort_key, createdAt, preview: preview(input.text), senderUserId: actor.id }),
			auditPut(ctx, caller, { action: 'send_message', resourceType: 'conversation', resourceId: c.id, changedFields: ['message'] })
		];
		const notice = recipientViewing ? undefined : await recipientNotice(ctx, c, recipientUserId, actor.name, input.text, base.length, withOutbox);
		const result: { outcome: 'stored' | 'duplicate' | 'throttled' | 'passed' } = { outcome: 'stored' };
		await transact(ctx, [...base, ...(notice?.items ?? [])], (reasons) => {
			if (reasons[0]?.Code === 'ConditionalCheckFailed') result.outcome = 'duplicate';
			else if (reasons[2]?.Code === 'ConditionalCheckFailed') result.outcome = 'passed';
			else if (notice?.throttleAt !== undefined && reasons[notice.throttleAt]?.Code === 'ConditionalCheckFailed') result.outcome = 'throttled';
			else return undefined;
			return new AppError(409, 'ALREADY_EXISTS', result.outcome);
		}).catch((err) => {
			if (!(err instanceof AppError && err.code === 'ALREADY_EXISTS' && result.outcome !== 'stored')) throw err;
		});
		const { outcome } = result;
		if (outcome === 'throttled' && withOutbox) {
			// Another message claimed this quarter hour's SMS a moment ago: send without one.
			withOutbox = false;
			continue;
		}
		if (outcome === 'passed' && attempt < SEND_ATTEMPTS - 1) {
			// The recipient read past this place while it was being stored (a message written
			// after it was): it would count as read unseen. Store it at a fresh place.
			await new Promise((r) => setTimeout(r, 1 + attempt * 5));
			continue;
		}
		if (outcome === 'duplicate') {
			// The same clientId arrived twice at once; the first one stored it.
			const stored = await alreadySent(ctx, actor.id, clientId, c.id);
			if (!stored) throw new AppError(409, 'ALREADY_EXISTS', 'This message is being stored; retry in a moment.');
			return { message: messageView(stored, await freshCursors(ctx, c)), created: false };
		}
		if (outcome === 'passed') throw new AppError(503, 'SERVICE_UNAVAILABLE', 'This conversation is busy right now; your message was not sent. Try again.');
		if (outcome !== 'stored') throw new AppError(409, 'ALREADY_EXISTS', 'Could not store the message; retry.');
		notice?.announce();
		message = candidate;
	}

	const view = messageView(message, c);
	ctx.bus.emit(rooms.chat(c.id), 'chat:message', view);
	// Both sides' lists, with the counts as stored now (other sends and reads may have landed
	// too) and the rev they belong to; after the response, like every broadcast.
	void getConversation(ctx, c.id)
		.then((now) => {
			if (!now) return;
			ctx.bus.emit(rooms.user(recipientUserId), 'chat:conversation', conversationEvent(now, to));
			ctx.bus.emit(rooms.user(actor.id), 'chat:conversation', conversationEvent(now, side));
		})
		.catch((err: Error) => ctx.log.warn('chat: conversation counts not broadcast', { error: err.name, conversationId: c.id }));
	return { message: view, created: true };
}

/** A side's view of the conversation's list row, as of `c.rev`. */
function conversationEvent(c: ConversationItem, side: ChatSide): ConversationEvent {
	return {
		conversationId: c.id,
		lastMessageAt: c.last_message_at,
		lastMessagePreview: c.last_message_preview ?? '',
		unread: Number(c[`unread_${side}`]) || 0,
		rev: revOf(c)
	};
}

async function freshCursors(ctx: Ctx, c: ConversationItem): Promise<ConversationItem> {
	return (await getConversation(ctx, c.id)) ?? c;
}

// ---------------------------------------------------------------- receipts and typing

/**
 * Moves the caller's delivered or read cursor forward to `upTo` (never back), with its
 * audit entry, and tells the conversation's room. Reading also sets what is left unread:
 * counted against the conversation's rev and written only if the rev is still that, so a
 * message stored meanwhile is never overwritten; a lost race counts again (bounded).
 * Returns false when the cursor was already there or further.
 */
export async function acknowledge(
	ctx: Ctx,
	caller: Caller,
	conversationId: string,
	kind: 'delivered' | 'read',
	upTo: string
): Promise<boolean> {
	const actor = requireActor(caller);
	const found = await conversationFor(ctx, caller, conversationId);
	const side = found.side;
	let c = found.conversation;
	if (!(await storedMessage(ctx, c.id, upTo))) {
		throw badRequest('There is no such message in this conversation.', [{ field: 'upTo', message: 'not a message of this conversation' }]);
	}
	const cursor = `${side}_${kind}_upto` as const;
	for (let attempt = 0; ; attempt++) {
		if ((c[cursor] ?? '') >= upTo) return false;
		const counted = kind === 'read' ? { unread: await countIncomingAfter(ctx, c.id, actor.id, upTo), rev: revOf(c) } : undefined;
		const at = new Date().toISOString();
		const failed: { row?: ConversationItem; lost: boolean } = { lost: false };
		await transact(
			ctx,
			[
				conversationCursorUpdate(ctx, c.id, { side, kind, upTo, at, counted }),
				auditPut(ctx, caller, { action: `chat_${kind}`, resourceType: 'conversation', resourceId: c.id, changedFields: [cursor] })
			],
			(reasons) => {
				if (reasons[0]?.Code !== 'ConditionalCheckFailed') return undefined;
				failed.lost = true;
				failed.row = conversationOfFailure(reasons[0].Item);
				return new AppError(409, 'ALREADY_EXISTS', 'condition failed');
			}
		).catch((err) => {
			if (!failed.lost || !(err instanceof AppError)) throw err;
		});
		if (failed.lost) {
			if (!failed.row) throw notFound('This conversation');
			// Either the cursor is already there (checked at the top) or the rev moved on: count again.
			c = failed.row;
			if ((c[cursor] ?? '') < upTo) {
				if (attempt >= ACK_ATTEMPTS - 1) {
					throw new AppError(503, 'SERVICE_UNAVAILABLE', 'This conversation is busy right now; the read receipt was not saved. Try again.');
				}
				// Messages are arriving right now: let the burst pass, then count again.
				await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** attempt, 250) * (0.5 + Math.random())));
			}
			continue;
		}
		const event: ChatReceiptEvent = { conversationId: c.id, userId: actor.id, side, upTo, at };
		ctx.bus.emit(rooms.chat(c.id), kind === 'read' ? 'chat:read' : 'chat:delivered', event);
		if (counted && c.last_message_preview !== undefined) {
			// Exactly the row that was written: the one counted against, one rev on.
			ctx.bus.emit(rooms.user(actor.id), 'chat:conversation', {
				conversationId: c.id,
				lastMessageAt: c.last_message_at,
				lastMessagePreview: c.last_message_preview,
				unread: counted.unread,
				rev: counted.rev + 1
			});
		}
		return true;
	}
}

/** Typing indicators are ephemeral: relayed to the room, never stored. */
export function relayTyping(ctx: Ctx, actor: Actor, conversationId: string, typing: boolean): void {
	ctx.bus.emit(rooms.chat(conversationId), 'chat:typing', { conversationId, userId: actor.id, name: actor.name, typing });
}
