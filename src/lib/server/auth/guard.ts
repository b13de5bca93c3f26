import type { Ctx } from '../context';
import { careRowsOfPatient, careRowsOnDate, type CareRow } from '../repositories/appointments';
import { activeGrantsOf, getAccessGrant } from '../repositories/access-grants';
import type { Actor, Caller } from '../actor';
import { AppError, forbidden, notFound, unauthenticated } from '../errors';
import { recordAudit } from '../services/audit';
import { todayIn } from '$lib/shared/time';
import { booksForAnyone, grantOf, isClinician, readsAllClinical, type Resource, type Scope } from '$lib/shared/policy';

/**
 * The one place that enforces SPEC §2's access matrix. The matrix itself (resource × role →
 * scope) is data in `$lib/shared/policy`, shared with the browser; here are the lookups it
 * needs (own, care, emergency access) and the audit of every denial.
 */
export { ACCESS, grantOf, type Grant, type Resource, type Scope } from '$lib/shared/policy';

export function requireActor(caller: Caller): Actor {
	if (!caller.actor) throw unauthenticated();
	return caller.actor;
}

export async function deny(
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
		// Emergency access opens a chart for reading only.
		if (!target.patientId || (await careOf(ctx, actor, target.patientId, { emergency: mode === 'read' }))) return scope;
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
 * Care (SPEC §2), defined here and nowhere else. A doctor has care of a patient who has an
 * appointment with that doctor that is not cancelled or missed, or at which a visit took
 * place (a visit keeps care for good). A nurse has care of patients with such an appointment
 * today. Care is never self-granted: only a patient (for themselves), the front desk and
 * administrators create appointments; a doctor books follow-ups only for patients already in
 * care, a nurse books nothing (services/appointments.ts).
 *
 * Outside care, a doctor or nurse may "break the glass" (services/emergency-access.ts): a
 * time-limited grant of read access to one patient. It counts for reading, never for writing.
 */
export type CareKind = 'care' | 'emergency';

/** The visit of this appointment took place (a consultation was started). */
export const visitTookPlace = (a: Pick<CareRow, 'status' | 'medical_record_id' | 'consultation_started_at'>) =>
	!!a.consultation_started_at || !!a.medical_record_id || a.status === 'CONSULTING' || a.status === 'COMPLETED';

/** An appointment grants care unless it was cancelled or missed with no visit. */
export const grantsCare = (a: Pick<CareRow, 'status' | 'medical_record_id' | 'consultation_started_at'>) =>
	(a.status !== 'CANCELLED' && a.status !== 'MISSED') || visitTookPlace(a);

/** Whether one appointment row puts its patient in this clinician's care. */
export function rowGivesCare(actor: Actor, row: CareRow, today: string): boolean {
	if (!grantsCare(row)) return false;
	if (actor.role === 'doctor') return !!actor.doctorId && row.doctor_id === actor.doctorId;
	if (actor.role === 'nurse') return row.date === today;
	return false;
}

/**
 * How a clinician reaches a patient: through care, through an unexpired emergency grant
 * (only when `emergency` is allowed: reads), or not at all.
 */
export async function careOf(
	ctx: Ctx,
	actor: Actor,
	patientId: string,
	opts: { emergency: boolean }
): Promise<{ kind: CareKind; expiresAt?: number } | null> {
	if (!isClinician(actor.role)) return null;
	const today = todayIn(ctx.config.timezone);
	const [rows, grant] = await Promise.all([
		careRowsOfPatient(ctx, patientId),
		opts.emergency ? getAccessGrant(ctx, actor.id, patientId) : Promise.resolve(undefined)
	]);
	if (rows.some((r) => rowGivesCare(actor, r, today))) return { kind: 'care' };
	if (grant && grant.expires_at > Date.now()) return { kind: 'emergency', expiresAt: grant.expires_at };
	return null;
}

/**
 * A patient and a doctor may chat while the doctor has care of the patient (never through
 * emergency access): a cancelled booking with no visit ends it.
 */
export async function pairInCare(ctx: Ctx, patientId: string, doctorId: string): Promise<boolean> {
	return (await careRowsOfPatient(ctx, patientId)).some((r) => r.doctor_id === doctorId && grantsCare(r));
}

/** Care for writing (no emergency access). */
export async function isInCare(ctx: Ctx, actor: Actor, patientId: string): Promise<boolean> {
	return (await careOf(ctx, actor, patientId, { emergency: false })) !== null;
}

/**
 * Who may read a patient's clinical data (symptoms, vitals, notes, diagnosis, allergies):
 * the patient, clinicians in care or with emergency access, and administrators (SPEC §2's
 * medical-records row). Everyone else sees names and times only.
 */
export async function readsClinical(ctx: Ctx, actor: Actor, patientId: string): Promise<boolean> {
	if (actor.role === 'patient') return actor.patientId === patientId;
	if (readsAllClinical(actor.role)) return true;
	return (await careOf(ctx, actor, patientId, { emergency: true })) !== null;
}

/**
 * The same decision for a list of appointment rows at once, in at most a few queries:
 * rows the caller's care follows from directly, then today's appointments (nurses) or the
 * remaining patients one by one (doctors), then the caller's emergency grants.
 */
export async function clinicalVisibility(ctx: Ctx, actor: Actor, rows: CareRow[]): Promise<(patientId: string) => boolean> {
	if (readsAllClinical(actor.role)) return () => true;
	if (actor.role === 'patient') return (p) => p === actor.patientId;
	if (!isClinician(actor.role)) return () => false;
	const today = todayIn(ctx.config.timezone);
	const visible = new Set(rows.filter((r) => rowGivesCare(actor, r, today)).map((r) => r.patient_id));
	const rest = [...new Set(rows.map((r) => r.patient_id))].filter((p) => !visible.has(p));
	if (rest.length) {
		const grants = await activeGrantsOf(ctx, actor.id);
		for (const g of grants) visible.add(g.patient_id);
		const unknown = rest.filter((p) => !visible.has(p));
		if (actor.role === 'nurse' && unknown.length) {
			for (const r of await careRowsOnDate(ctx, today)) if (rowGivesCare(actor, r, today)) visible.add(r.patient_id);
		} else {
			for (let i = 0; i < unknown.length; i += 10) {
				const batch = unknown.slice(i, i + 10);
				const cared = await Promise.all(batch.map((p) => isInCare(ctx, actor, p)));
				batch.forEach((p, j) => cared[j] && visible.add(p));
			}
		}
	}
	return (p) => visible.has(p);
}

/**
 * Who creates appointments (and so who can create care): a patient for themselves, the
 * front desk and administrators for anyone, a doctor only a follow-up with themselves for a
 * patient already in their care. A nurse books nothing. Every refusal is audited.
 */
export async function authorizeBooking(ctx: Ctx, caller: Caller, target: { patientId: string; doctorId: string }): Promise<void> {
	const actor = requireActor(caller);
	if (booksForAnyone(actor.role)) return;
	switch (actor.role) {
		case 'patient':
			if (actor.patientId === target.patientId) return;
			return refuse(ctx, caller, 'appointment', 'write', undefined, 'Patients book appointments for themselves only.');
		case 'doctor':
			if (actor.doctorId !== target.doctorId) {
				return refuse(ctx, caller, 'appointment', 'write', undefined, 'A doctor books follow-ups with themselves only; the front desk books with other doctors.');
			}
			if (await isInCare(ctx, actor, target.patientId)) return;
			return refuse(ctx, caller, 'appointment', 'write', undefined, 'A doctor books follow-ups only for patients already in their care; the front desk books new patients.');
		default:
			return refuse(ctx, caller, 'appointment', 'write', undefined, 'Appointments are booked by the patient, the front desk or an administrator.');
	}
}

/**
 * Triage: the queue priority is set by a nurse caring for the patient today or by the
 * treating doctor, never by the patient or the front desk.
 */
export async function authorizeTriage(ctx: Ctx, caller: Caller, a: CareRow & { id: string }): Promise<void> {
	const actor = requireActor(caller);
	if (actor.role === 'doctor' && actor.doctorId === a.doctor_id) return;
	if (actor.role === 'nurse' && rowGivesCare(actor, a, todayIn(ctx.config.timezone))) return;
	return refuse(ctx, caller, 'appointment', 'write', a.id, 'Triage priority is set by the nurse at check-in or by the treating doctor.');
}
