import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { decodeCursor, encodeCursor } from '../db/cursor';
import { z } from 'zod';
import { authorize, careOf, deny, refuse, requireActor } from '../auth/guard';
import { allergiesWeakened, type Allergy } from '$lib/shared/allergies';
import { recordAudit } from './audit';
import { conflictError, versionedUpdate } from '../db/versioned';
import { getPatient, patientIndexWrites, searchPatientTerm, type PatientHit as StoredHit, type PatientItem } from '../repositories/patients';
import type { SearchFilter } from '../db/search-index';
import { planNameQuery, words } from '$lib/shared/search';
import type { PatientHit, PatientUpdate, PatientView } from '$lib/shared/schemas';
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
	if (Object.keys(set).length === 0 && change.version === current.version) return patientView(current);
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'patients',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		read: current,
		set,
		resourceType: 'patient',
		// The search index follows in the same transaction: the new name is found at once, the old one no more.
		extra: { search: patientIndexWrites(ctx, current, { ...current, ...set }) }
	});
	return patientView({ ...current, ...set, ...stamp } as PatientItem);
}

export type PatientSearch = { q?: string; phone?: string; bloodGroup?: string; cursor?: string; limit: number };

const cursorState = z.object({ after: z.string().min(1).max(1000) }).strict();

/**
 * Patients by any word of the name (prefix, accents and case ignored), by phone (E.164, as
 * stored) or blood group, or any combination, ordered by name; one Query on one index term
 * (the most selective the filters give: phone, else the longest name word, else blood group),
 * with the other filters applied to the attributes the index items carry. Front desk and
 * administrators see and filter on every field. Doctors and nurses find anyone by name to
 * identify them (name and date of birth, exactly what the emergency-access refusal of
 * `readPatient` shows); pharmacists by name, names only. Phone and blood-group filters are
 * for those who may see them: a filter is an answer ("this person has that number"). Each
 * search is audited with the names of the filters used, never their values.
 */
export async function findPatients(ctx: Ctx, caller: Caller, s: PatientSearch): Promise<{ patients: PatientHit[]; nextCursor: string | null }> {
	const actor = requireActor(caller);
	const grant = isClinician(actor.role) ? 'identify' : await authorize(ctx, caller, 'patient', 'read');
	if (grant !== 'all' && grant !== 'name' && grant !== 'identify') {
		await refuse(ctx, caller, 'patient', 'read', undefined, 'Patient search is for staff: front desk, administrators, doctors, nurses and pharmacists.');
	}
	const used = (['q', 'phone', 'bloodGroup'] as const).filter((k) => s[k] !== undefined);
	if (grant !== 'all' && (s.phone !== undefined || s.bloodGroup !== undefined)) {
		await refuse(ctx, caller, 'patient', 'read', undefined, grant === 'name' ? 'Pharmacy searches patients by name only.' : 'Doctors and nurses search patients by name; phone and blood group are for front desk and administrators.');
	}
	const qWords = s.q !== undefined ? words(s.q) : [];
	if (used.length === 0 || (s.q !== undefined && qWords.length === 0)) {
		throw badRequest('Say whom to find: a name, a phone number or a blood group.', [
			{ field: 'q', message: s.q !== undefined ? 'needs at least one letter or digit' : 'give q, phone or bloodGroup' }
		]);
	}
	let term: string;
	const filter: SearchFilter = {};
	if (s.phone) {
		term = `p:${s.phone}`;
		if (qWords.length) filter.nameWords = [...new Set(qWords)].sort();
	} else if (s.q !== undefined) {
		const plan = planNameQuery(s.q)!;
		term = `n:${plan.term}`;
		if (plan.also.length) filter.nameWords = plan.also;
	} else {
		term = `b:${s.bloodGroup}`;
	}
	if (s.bloodGroup && !term.startsWith('b:')) filter.equals = { blood_group: s.bloodGroup };
	// A cursor continues the query it came from and no other.
	const scope = `patients:search:${JSON.stringify([term, filter])}`;
	const after = s.cursor ? decodeCursor(ctx.cursorKey, scope, s.cursor, cursorState).after : undefined;
	// The audit entry is written beside the query, not after it: a search that cannot be audited
	// fails as a whole (no unaudited answer), and costs one round trip instead of two.
	const [page] = await Promise.all([
		searchPatientTerm(ctx, { term, filter, limit: s.limit, after }),
		recordAudit(ctx, caller, { action: 'search', resourceType: 'patient', changedFields: [...used] })
	]);
	const shown = (h: StoredHit): PatientHit =>
		grant === 'all'
			? { id: h.id, name: h.name, phone: h.phone, bloodGroup: h.blood_group, dateOfBirth: h.date_of_birth }
			: grant === 'identify'
				? { id: h.id, name: h.name, dateOfBirth: h.date_of_birth }
				: { id: h.id, name: h.name };
	return { patients: page.hits.map(shown), nextCursor: page.next ? encodeCursor(ctx.cursorKey, scope, { after: page.next }) : null };
}
