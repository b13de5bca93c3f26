import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError } from '../errors';
import { authorize, careOf, refuse, requireActor } from '../auth/guard';
import { readAppointment } from '../services/appointments';
import { readMedicalRecord } from '../services/medical-records';
import { conversationFor } from '../services/chat';
import { isoDate } from '$lib/shared/schemas';

/**
 * Who may join which room (SPEC §6): a room is joinable only by someone the access matrix
 * lets read what it carries. Denials are audited like any other.
 */
export type Joined = { /** The membership ends then (emergency access runs out), epoch ms. */ until?: number };

/** A clinician's membership of a patient's rooms lasts as long as the emergency access it came from. */
async function accessUntil(ctx: Ctx, caller: Caller, patientId: string): Promise<Joined> {
	const actor = requireActor(caller);
	if (actor.role !== 'doctor' && actor.role !== 'nurse') return {};
	const care = await careOf(ctx, actor, patientId, { emergency: true });
	return care?.kind === 'emergency' ? { until: care.expiresAt } : {};
}

export async function canJoin(ctx: Ctx, caller: Caller, room: string): Promise<Joined | void> {
	const actor = requireActor(caller);
	const [kind, a, b] = room.split(':');
	if (kind === 'user' && a) {
		if (a === actor.id) return;
		return refuse(ctx, caller, 'users', 'read', a, 'You can only listen to your own notifications.');
	}
	if (kind === 'role' && a === 'admin') {
		await authorize(ctx, caller, 'users', 'read');
		return;
	}
	if (kind === 'pharmacy' && a === undefined) {
		// The dispensary's queue, stock and alerts: for those who run it (pharmacy write).
		await authorize(ctx, caller, 'pharmacy', 'write');
		return;
	}
	if (kind === 'record' && a === 'patient' && b) {
		await authorize(ctx, caller, 'patient', 'read', {
			id: b,
			isOwn: (x) => x.patientId === b,
			patientId: b,
			hideExistence: actor.role === 'patient'
		});
		return accessUntil(ctx, caller, b);
	}
	if (kind === 'record' && a === 'user' && b) {
		if (b === actor.id) return;
		await authorize(ctx, caller, 'users', 'read', { id: b });
		return;
	}
	if (kind === 'doctor-queue' && a) {
		if (['nurse', 'front_desk', 'admin', 'super_admin'].includes(actor.role)) return;
		if (actor.role === 'doctor' && actor.doctorId === a) return;
		return refuse(ctx, caller, 'appointment', 'read', a, 'This queue belongs to another doctor.');
	}
	if (kind === 'board' && a) {
		if (['nurse', 'front_desk', 'admin', 'super_admin'].includes(actor.role)) return;
		return refuse(ctx, caller, 'appointment', 'read', a, 'The day board is for front desk, nurses and administrators.');
	}
	if ((kind === 'appointment' && a) || (kind === 'record' && a === 'appointment' && b)) {
		await readAppointment(ctx, caller, kind === 'appointment' ? a! : b!);
		return;
	}
	if (kind === 'record' && a === 'medical_record' && b) {
		const record = await readMedicalRecord(ctx, caller, b);
		return accessUntil(ctx, caller, record.patientId);
	}
	if (kind === 'record' && a === 'doctor' && b) return;
	if (kind === 'slots') {
		// Free slots are public to every signed-in user (patients pick from them); only the
		// room's name is checked: `slots:` and a real calendar date, nothing more.
		if (room.split(':').length === 2 && isoDate.safeParse(a).success) return;
		throw new AppError(400, 'VALIDATION_FAILED', `Unknown room "${room}": a slots room is slots:YYYY-MM-DD.`, [
			{ field: 'room', message: 'must be slots:YYYY-MM-DD' }
		]);
	}
	if (kind === 'chat' && a && !b) {
		await conversationFor(ctx, caller, a);
		return;
	}
	throw new AppError(400, 'VALIDATION_FAILED', `Unknown room "${room}".`);
}
