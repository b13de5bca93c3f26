import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { authorize, careOf, deny, refuse, requireActor } from '../auth/guard';
import { allergiesWeakened, type Allergy } from '$lib/shared/allergies';
import { recordAudit } from './audit';
import { conflictError, versionedUpdate } from '../db/versioned';
import { getPatient, nameKeys, searchPatientsByName, type PatientItem } from '../repositories/patients';
import type { PatientUpdate, PatientView } from '$lib/shared/schemas';
import { deniedAsNotFound, isAdmin, isClinician, weakensAllergies } from '$lib/shared/policy';

export function patientView(p: PatientItem): PatientView {
	return {
		id: p.id,
		version: p.version,
		name: p.name,
		email: p.email,
		phone: p.phone,
		dateOfBirth: p.date_of_birth,
		bloodGroup: p.blood_group,
		gender: p.gender,
		address: p.address,
		emergencyContactName: p.emergency_contact_name,
		emergencyContactPhone: p.emergency_contact_phone,
		updatedAt: p.updated_at,
		updatedBy: p.updated_by_name
	};
}

const isOwn = (id: string) => (a: { patientId?: string }) => a.patientId === id;

const nameOnly = (p: PatientItem): PatientView => ({ id: p.id, version: p.version, name: p.name, updatedAt: p.updated_at, updatedBy: p.updated_by_name });

/**
 * One patient's chart header: demographics, and allergies for those who read clinical data
 * (and pharmacists, who dispense against them). A doctor or nurse outside care is refused
 * with a 403 that offers emergency access. Staff reads are audited.
 */
export async function readPatient(ctx: Ctx, caller: Caller, id: string): Promise<PatientView> {
	const actor = requireActor(caller);
	let access: NonNullable<PatientView['access']>;
	if (isClinician(actor.role)) {
		const care = await careOf(ctx, actor, id, { emergency: true });
		if (!care) {
			// Enough to be sure of the person before breaking the glass (what the search shows), nothing more.
			const who = await getPatient(ctx, id);
			if (!who) throw notFound('This patient');
			await deny(ctx, caller, 'patient', 'read', id, new AppError(403, 'FORBIDDEN', 'This patient is not in your care. In an emergency, open the chart with emergency access and give the reason; it is audited and the super administrators are told.', {
				emergencyAccess: `/api/patients/${id}/emergency-access`,
				minutes: ctx.config.emergencyAccessMs / 60_000,
				patient: { name: who.name, dateOfBirth: who.date_of_birth }
			}));
		}
		access = care!.kind === 'emergency' ? { kind: 'emergency', expiresAt: new Date(care!.expiresAt!).toISOString() } : { kind: 'care' };
	} else {
		const scope = await authorize(ctx, caller, 'patient', 'read', { id, isOwn: isOwn(id), patientId: id, hideExistence: deniedAsNotFound(actor.role) });
		access = { kind: scope === 'own' ? 'own' : scope === 'name' ? 'name' : 'all' };
	}
	const p = await getPatient(ctx, id);
	if (!p) throw notFound('This patient');
	if (actor.patientId !== id) {
		await recordAudit(ctx, caller, { action: access.kind === 'emergency' ? 'read_emergency' : 'read', resourceType: 'patient', resourceId: id });
	}
	const allergies = access.kind !== 'all' || isAdmin(actor.role) ? (p.allergies ?? []) : undefined;
	const base = access.kind === 'name' ? nameOnly(p) : patientView(p);
	return { ...base, ...(allergies ? { allergies } : {}), access };
}

/**
 * The allergies on a chart, replaced as a whole by a doctor or nurse caring for the patient.
 * Removing an allergy or lowering its severity silences future warnings, so only a doctor
 * does it, with a reason; every change keeps the list it replaced (the last 50 changes).
 */
export async function updateAllergies(
	ctx: Ctx,
	caller: Caller,
	id: string,
	change: { version: number; allergies: Allergy[]; reason?: string }
): Promise<PatientView> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'medical_record', 'write', { id, patientId: id });
	const current = await getPatient(ctx, id);
	if (!current) throw notFound('This patient');
	if (change.version !== current.version) throw conflictError('patient', id, change.version, current);
	const before = current.allergies ?? [];
	const weakened = allergiesWeakened(before, change.allergies);
	if (weakened.length && !weakensAllergies(actor.role)) {
		await refuse(ctx, caller, 'medical_record', 'write', id, `Only a doctor removes an allergy or lowers its severity (${weakened.join(', ')}); you can add allergies and raise severities.`);
	}
	if (weakened.length && !change.reason) {
		throw badRequest(`Say why (${weakened.join(', ')}): it stops the allergy warning for this patient.`, [{ field: 'reason', message: 'is required when an allergy is removed or lowered' }]);
	}
	const entry = { at: new Date().toISOString(), by: actor.id, by_name: actor.name, ...(change.reason ? { reason: change.reason } : {}), previous: before };
	await versionedUpdate(ctx, caller, {
		table: 'patients',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		set: { allergies: change.allergies, allergy_history: [...(current.allergy_history ?? []), entry].slice(-50) },
		resourceType: 'patient',
		audit: { action: weakened.length ? 'remove_allergies' : 'update_allergies', changedFields: ['allergies'], ...(change.reason ? { reason: change.reason } : {}) }
	});
	return readPatient(ctx, caller, id);
}

const FIELD: Record<Exclude<keyof PatientUpdate, 'version'>, keyof PatientItem> = {
	name: 'name',
	phone: 'phone',
	dateOfBirth: 'date_of_birth',
	bloodGroup: 'blood_group',
	gender: 'gender',
	address: 'address',
	emergencyContactName: 'emergency_contact_name',
	emergencyContactPhone: 'emergency_contact_phone'
};

/** Changes demographics if the caller still holds the current version (else 409). */
export async function updatePatient(
	ctx: Ctx,
	caller: Caller,
	id: string,
	change: PatientUpdate
): Promise<PatientView> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'patient', 'write', {
		id,
		isOwn: isOwn(id),
		hideExistence: deniedAsNotFound(actor.role)
	});
	const current = await getPatient(ctx, id);
	if (!current) throw notFound('This patient');
	const set: Record<string, unknown> = {};
	for (const [k, field] of Object.entries(FIELD) as [keyof typeof FIELD, keyof PatientItem][]) {
		const v = change[k];
		if (v !== undefined && v !== current[field]) set[field] = v;
	}
	if (typeof set.name === 'string') Object.assign(set, nameKeys(set.name));
	if (Object.keys(set).length === 0 && change.version === current.version) return patientView(current);
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'patients',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		set,
		resourceType: 'patient'
	});
	return patientView({ ...current, ...set, ...stamp } as PatientItem);
}

export async function searchPatients(
	ctx: Ctx,
	caller: Caller,
	q: { name: string; cursor?: string; limit: number }
): Promise<{ items: PatientView[]; nextCursor: string | null }> {
	const actor = requireActor(caller);
	// Clinicians find a patient outside their care to identify them (name and date of birth)
	// before breaking the glass; nothing else about them.
	const clinician = isClinician(actor.role);
	const grant = clinician ? 'identify' : await authorize(ctx, caller, 'patient', 'read');
	if (grant !== 'all' && grant !== 'name' && grant !== 'identify') {
		await refuse(ctx, caller, 'patient', 'read', undefined, 'Searching all patients is for front desk and administrators.');
	}
	const scope = `patients:name:${q.name.trim().toLowerCase()}`;
	const startKey = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, startKeySchema) : undefined;
	const page = await resumeQuery(startKey, () => searchPatientsByName(ctx, q.name, q.limit, startKey));
	await recordAudit(ctx, caller, { action: 'search', resourceType: 'patient' });
	return {
		items: page.items.map((p) =>
			grant === 'name' ? nameOnly(p) : grant === 'identify' ? { ...nameOnly(p), dateOfBirth: p.date_of_birth } : patientView(p)
		),
		nextCursor: page.lastKey ? encodeCursor(ctx.cursorKey, scope, page.lastKey) : null
	};
}
