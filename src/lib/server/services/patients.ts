import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { notFound } from '../errors';
import { decodeCursor, encodeCursor, isStartKey, resumeQuery } from '../db/cursor';
import { authorize, refuse, requireActor } from '../auth/guard';
import { recordAudit } from './audit';
import { versionedUpdate } from '../db/versioned';
import { getPatient, nameKeys, searchPatientsByName, type PatientItem } from '../repositories/patients';
import type { PatientUpdate, PatientView } from '$lib/shared/schemas';

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

/** Demographics of one patient, trimmed to the name for pharmacists; staff reads are audited. */
export async function readPatient(ctx: Ctx, caller: Caller, id: string): Promise<PatientView> {
	const actor = requireActor(caller);
	const scope = await authorize(ctx, caller, 'patient', 'read', {
		id,
		isOwn: isOwn(id),
		patientId: id,
		hideExistence: actor.role === 'patient'
	});
	const p = await getPatient(ctx, id);
	if (!p) throw notFound('This patient');
	if (actor.patientId !== id) {
		await recordAudit(ctx, caller, { action: 'read', resourceType: 'patient', resourceId: id });
	}
	if (scope === 'name') {
		return { id: p.id, version: p.version, name: p.name, updatedAt: p.updated_at, updatedBy: p.updated_by_name };
	}
	return patientView(p);
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
		hideExistence: actor.role === 'patient'
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
	const scope = await authorize(ctx, caller, 'patient', 'read');
	if (scope !== 'all' && scope !== 'name') {
		await refuse(ctx, caller, 'patient', 'read', undefined, 'Searching all patients is for front desk and administrators.');
	}
	const startKey = q.cursor ? decodeCursor<Record<string, unknown>>(q.cursor, isStartKey) : undefined;
	const page = await resumeQuery(startKey, () => searchPatientsByName(ctx, q.name, q.limit, startKey));
	await recordAudit(ctx, caller, { action: 'search', resourceType: 'patient' });
	return {
		items: page.items.map((p) =>
			scope === 'name'
				? { id: p.id, version: p.version, name: p.name, updatedAt: p.updated_at, updatedBy: p.updated_by_name }
				: patientView(p)
		),
		nextCursor: page.lastKey ? encodeCursor(page.lastKey) : null
	};
}
