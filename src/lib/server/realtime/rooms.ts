import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError } from '../errors';
import { authorize, careOf, refuse, requireActor } from '../auth/guard';
import { readAppointment } from '../services/appointments';
import { readMedicalRecord } from '../services/medical-records';
import { conversationFor } from '../services/chat';
import { joinDepartment } from '../services/emergencies';
import { joinHospitalAlerts } from '../services/hospital-staff';
import { parseRoom, roomName, type ParsedRoom, type RoomKind } from '$lib/shared/rooms';
import { deniedAsNotFound, isClinician, type Resource, roomAccess } from '$lib/shared/policy';

/**
 * Who may join which room (SPEC §6): a room is joinable only by someone the access matrix
 * lets read what it carries. Denials are audited like any other.
 */
export type Joined = { /** The membership ends then (emergency access runs out), epoch ms. */ until?: number };

/** A clinician's membership of a patient's rooms lasts as long as the emergency access it came from. */
async function accessUntil(ctx: Ctx, caller: Caller, patientId: string): Promise<Joined> {
	const actor = requireActor(caller);
	if (!isClinician(actor.role)) return {};
	const care = await careOf(ctx, actor, patientId, { emergency: true });
	return care?.kind === 'emergency' ? { until: care.expiresAt } : {};
}

/** The denial of a room the caller's role may not join: what the audit entry names, and the sentence. */
const DENIED: Partial<Record<RoomKind, { resource: Resource; message: string }>> = {
	user: { resource: 'users', message: 'You can only listen to your own notifications.' },
	role: { resource: 'users', message: 'You do not have access to this.' },
	'doctor-queue': { resource: 'appointment', message: 'This queue belongs to another doctor.' },
	board: { resource: 'appointment', message: 'The day board is for front desk, nurses and administrators.' },
	record: { resource: 'users', message: 'You do not have access to this.' },
	pharmacy: { resource: 'pharmacy', message: 'The pharmacy queue is for pharmacists and administrators.' },
	hospital: { resource: 'hospital_resources', message: 'Hospital capacity is for hospital staff and paramedics.' },
	'hospital-alerts': { resource: 'emergency', message: 'A hospital’s ambulance alerts are for its staff.' },
	dept: { resource: 'emergency', message: 'Department emergencies are for that department’s staff at that hospital.' }
};

const idOf = (r: ParsedRoom): string | undefined =>
	r.kind === 'user' ? r.userId : r.kind === 'doctor-queue' ? r.doctorId : r.kind === 'board' ? r.date : r.kind === 'record' ? r.id : r.kind === 'hospital' || r.kind === 'hospital-alerts' ? r.hospitalId : r.kind === 'dept' ? roomName(r) : undefined;

function unknownRoom(name: string): AppError {
	if (name.startsWith('slots')) {
		// Free slots rooms are open to everyone, so only the name is checked: `slots:` and a real calendar date.
		return new AppError(400, 'VALIDATION_FAILED', `Unknown room "${name}": a slots room is slots:YYYY-MM-DD.`, [
			{ field: 'room', message: 'must be slots:YYYY-MM-DD' }
		]);
	}
	return new AppError(400, 'VALIDATION_FAILED', `Unknown room "${name}".`);
}

/**
 * Whether the caller may join the room named `name`: the name is parsed (`$lib/shared/rooms`;
 * anything else is 400), roles decide what they can (`roomAccess` in `$lib/shared/policy`), and
 * the record a room carries decides the rest through the same reads the API makes.
 */
export async function canJoin(ctx: Ctx, caller: Caller, name: string): Promise<Joined | void> {
	const actor = requireActor(caller);
	const r = parseRoom(name);
	// A session's room is joined by the server at connect, never asked for.
	if (!r || r.kind === 'session') throw unknownRoom(name);
	const access = roomAccess(actor, r);
	if (access === 'deny') {
		const denied = DENIED[r.kind]!;
		return refuse(ctx, caller, denied.resource, 'read', idOf(r), denied.message);
	}
	if (access === 'allow') return;
	switch (r.kind) {
		case 'record':
			if (r.type === 'patient') {
				await authorize(ctx, caller, 'patient', 'read', {
					id: r.id,
					isOwn: (x) => x.patientId === r.id,
					patientId: r.id,
					hideExistence: deniedAsNotFound(actor.role)
				});
				return accessUntil(ctx, caller, r.id);
			}
			if (r.type === 'appointment') {
				await readAppointment(ctx, caller, r.id);
				return;
			}
			if (r.type === 'medical_record') {
				const record = await readMedicalRecord(ctx, caller, r.id);
				return accessUntil(ctx, caller, record.patientId);
			}
			break;
		case 'appointment':
			await readAppointment(ctx, caller, r.appointmentId);
			return;
		case 'chat':
			await conversationFor(ctx, caller, r.conversationId);
			return;
		case 'dept':
			await joinDepartment(ctx, caller, r.hospitalId, r.department);
			return;
		case 'hospital-alerts':
			await joinHospitalAlerts(ctx, caller, r.hospitalId);
			return;
	}
	throw unknownRoom(name);
}
