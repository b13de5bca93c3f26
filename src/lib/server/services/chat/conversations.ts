import crypto from 'node:crypto';
import { z } from 'zod';
import type { Ctx } from '../../context';
import type { Actor, Caller } from '../../actor';
import { badRequest, notFound } from '../../errors';
import { authorize, pairInCare, refuse, requireActor } from '../../auth/guard';
import { transactNamed, unexpectedFailure } from '../../db/transaction';
import { decodeCursor, encodeCursor } from '../../db/cursor';
import { auditPut } from '../audit';
import { getDoctor } from '../../repositories/doctors';
import { getPatient } from '../../repositories/patients';
import { conversationCreatePut, conversationsOfUser, getConversation, revOf, type ConversationItem } from '../../repositories/conversations';
import type { ChatSide, ConversationEvent, ConversationView } from '$lib/shared/chat';

/**
 * Conversations: one per patient–doctor pair, allowed only while the patient has (or had) an
 * appointment with the doctor. The id is derived from the pair, so two first messages racing
 * create it once. Who may read or write one is decided here (`conversationFor`).
 */
export type { ConversationItem };

export const otherSide = (side: ChatSide): ChatSide => (side === 'patient' ? 'doctor' : 'patient');

/** The pair's conversation id: the same for both sides, whoever opens it first. */
export function conversationIdOf(patientId: string, doctorId: string): string {
	return `c_${crypto.createHash('sha256').update(`${patientId}|${doctorId}`).digest('hex').slice(0, 40)}`;
}

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

/** A side's view of the conversation's list row, as of `c.rev`. */
export function conversationEvent(c: ConversationItem, side: ChatSide): ConversationEvent {
	return {
		conversationId: c.id,
		lastMessageAt: c.last_message_at,
		lastMessagePreview: c.last_message_preview ?? '',
		unread: Number(c[`unread_${side}`]) || 0,
		rev: revOf(c)
	};
}

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
	const outcome = await transactNamed(ctx, {
		conversation: conversationCreatePut(ctx, item),
		audit: auditPut(ctx, caller, { action: 'create', resourceType: 'conversation', resourceId: id, changedFields: ['patient_id', 'doctor_id'] })
	});
	if (!outcome.ok) {
		if (outcome.failed !== 'conversation') throw unexpectedFailure(outcome);
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
	// The cursor names only positions inside the caller's own partition.
	const page = await conversationsOfUser(ctx, side, actor.id, q.limit, cursor ? { last_message_at: cursor.at, id: cursor.id } : undefined);
	const last = page.lastKey;
	return {
		conversations: page.items.map((c) => conversationView(c, side)),
		nextCursor: last ? encodeCursor(ctx.cursorKey, scope, { at: last.last_message_at, id: last.id }) : null
	};
}
