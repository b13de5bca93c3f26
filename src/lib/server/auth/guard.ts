import type { Ctx } from '../context';
import { queryAll } from '../db/query';
import type { Actor, Caller } from '../actor';
import { AppError, forbidden, notFound, unauthenticated } from '../errors';
import { recordAudit } from '../services/audit';
import type { Role } from '$lib/shared/roles';
import { todayIn } from '$lib/shared/time';

/**
 * SPEC §2's access matrix, as data, and the one place that enforces it. A scope says how
 * far a grant reaches: every record, only the user's own, only patients in the user's
 * care, or (pharmacists on patients) the name alone.
 */
export type Scope = 'all' | 'own' | 'care' | 'name';
export type Grant = { read?: Scope; write?: Scope };
export type Resource =
	| 'patient'
	| 'appointment'
	| 'medical_record'
	| 'chat'
	| 'pharmacy'
	| 'blood_bank'
	| 'hospital_resources'
	| 'emergency'
	| 'billing'
	| 'users'
	| 'audit_log';

const RW: Grant = { read: 'all', write: 'all' };
const R: Grant = { read: 'all' };

export const ACCESS: Record<Resource, Partial<Record<Role, Grant>>> = {
	patient: {
		patient: { read: 'own', write: 'own' },
		doctor: { read: 'care' },
		nurse: { read: 'care' },
		front_desk: RW,
		pharmacist: { read: 'name' },
		admin: RW,
		super_admin: RW
	},
	appointment: {
		patient: { read: 'own', write: 'own' },
		doctor: { read: 'own', write: 'own' },
		nurse: RW,
		front_desk: RW,
		admin: R,
		super_admin: R
	},
	medical_record: {
		patient: { read: 'own' },
		doctor: { read: 'care', write: 'care' },
		nurse: { read: 'care', write: 'care' },
		pharmacist: { read: 'all' },
		admin: R,
		super_admin: R
	},
	chat: { patient: { read: 'own', write: 'own' }, doctor: { read: 'own', write: 'own' } },
	pharmacy: { doctor: R, nurse: R, pharmacist: RW, admin: RW, super_admin: RW },
	blood_bank: { patient: R, doctor: R, nurse: R, admin: RW, super_admin: RW },
	hospital_resources: {
		doctor: R,
		nurse: RW,
		front_desk: R,
		paramedic: R,
		admin: RW,
		super_admin: RW
	},
	emergency: {
		doctor: RW,
		nurse: RW,
		front_desk: R,
		paramedic: { read: 'own', write: 'own' },
		admin: RW,
		super_admin: RW
	},
	billing: {
		patient: { read: 'own', write: 'own' },
		front_desk: RW,
		admin: RW,
		super_admin: RW
	},
	users: { admin: RW, super_admin: RW },
	audit_log: { super_admin: R }
};

export function grantOf(role: Role, resource: Resource, mode: 'read' | 'write'): Scope | undefined {
	return ACCESS[resource][role]?.[mode];
}

export function requireActor(caller: Caller): Actor {
	if (!caller.actor) throw unauthenticated();
	return caller.actor;
}

async function deny(
	ctx: Ctx,
	caller: Caller,
	resource: Resource,
	mode: 'read' | 'write',
	resourceId: string | undefined,
	error: AppError
): Promise<never> {
	await recordAudit(ctx, caller, {
		action: `${mode}_denied`,
		resourceType: resource,
		resourceId,
		outcome: 'denied'
	});
	throw error;
}

export type Target = {
	id?: string;
	/** true when the record belongs to the actor (their own patient record, their appointment). */
	isOwn?: (actor: Actor) => boolean;
	/** the patient whose care relationship decides a `care` grant. */
	patientId?: string;
	/** answer 404 instead of 403 when the caller may not learn the record exists */
	hideExistence?: boolean;
};

/**
 * Allows the call or throws (401, 403 or 404), auditing every denial. Returns the scope
 * granted so a service can trim what it returns (`name` for pharmacists).
 */
export async function authorize(
	ctx: Ctx,
	caller: Caller,
	resource: Resource,
	mode: 'read' | 'write',
	target: Target = {}
): Promise<Scope> {
	const actor = requireActor(caller);
	const scope = grantOf(actor.role, resource, mode);
	if (!scope) return deny(ctx, caller, resource, mode, target.id, forbidden());
	if (scope === 'all' || scope === 'name') return scope;
	if (scope === 'own') {
		if (!target.isOwn || target.isOwn(actor)) return scope;
	} else if (scope === 'care') {
		if (!target.patientId || (await isInCare(ctx, actor, target.patientId))) return scope;
	}
	const error = target.hideExistence ? notFound(`This ${resource.replace(/_/g, ' ')}`) : forbidden();
	return deny(ctx, caller, resource, mode, target.id, error);
}

/** Denies a caller outright (for paths the matrix alone cannot express), with its audit entry. */
export function refuse(
	ctx: Ctx,
	caller: Caller,
	resource: Resource,
	mode: 'read' | 'write',
	resourceId: string | undefined,
	message: string
): Promise<never> {
	return deny(ctx, caller, resource, mode, resourceId, forbidden(message));
}

/**
 * Care (SPEC §2): a doctor cares for patients who have an appointment with them; a nurse
 * for patients with an appointment today (the arrivals they check in).
 */
export async function isInCare(ctx: Ctx, actor: Actor, patientId: string): Promise<boolean> {
	if (actor.role !== 'doctor' && actor.role !== 'nurse') return false;
	const today = todayIn(ctx.config.timezone);
	const rows = await queryAll<{ doctor_id: string; date: string }>(ctx, {
		TableName: ctx.db.tables.appointments,
		IndexName: 'patient-start-index',
		KeyConditionExpression: 'patient_id = :p',
		ExpressionAttributeValues: { ':p': patientId },
		ProjectionExpression: 'doctor_id, #d',
		ExpressionAttributeNames: { '#d': 'date' }
	});
	return rows.some((a) =>
		actor.role === 'doctor' ? !!actor.doctorId && a.doctor_id === actor.doctorId : a.date === today
	);
}
