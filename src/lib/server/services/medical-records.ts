import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound, badRequest } from '../errors';
import { authorize, refuse, requireActor } from '../auth/guard';
import { recordAudit } from './audit';
import { conflictError, versionedUpdate } from '../db/versioned';
import { batchGetAppointments, getAppointment } from '../repositories/appointments';
import { getPatient } from '../repositories/patients';
import {
	amendmentPut,
	amendmentsOf,
	getMedicalRecord,
	medicalRecordsOfPatient,
	type AmendmentItem,
	type MedicalRecordItem,
	type RecordedVitals
} from '../repositories/medical-records';
import { allergyMatches, type Allergy } from '$lib/shared/allergies';
import { RECORD_FIELDS, type Amendment, type RecordField } from '$lib/shared/appointments';
import type { MedicalRecordView, Prescription } from '$lib/shared/views';
import { deniedAsNotFound, readsPrescriptionsOnly, writesVisitRecords } from '$lib/shared/policy';

/**
 * Visit records: written by the treating doctor, read by the patient, by doctors and nurses
 * caring for them (or with emergency access), by pharmacists (prescriptions only) and by
 * admins. Every read is audited. While the visit is open only the record's author edits it,
 * each save a versioned write; once the visit is completed the record is closed and a
 * change is an amendment with a reason, the values it replaced kept beside it.
 */
export type { Prescription, MedicalRecordView, MedicalRecordItem };

function view(r: MedicalRecordItem, vitals: RecordedVitals | undefined, stored: AmendmentItem[], prescriptionsOnly = false): MedicalRecordView {
	const amendments = stored.map((a) => ({ at: a.at, by: a.by, byName: a.by_name, reason: a.reason, previous: a.previous }));
	const base = {
		id: r.id,
		version: r.version,
		appointmentId: r.appointment_id,
		patientId: r.patient_id,
		doctorId: r.doctor_id,
		doctorName: r.doctor_name,
		date: r.date,
		prescriptions: r.prescriptions ?? [],
		locked: !!r.locked_at,
		lockedAt: r.locked_at,
		updatedAt: r.updated_at,
		updatedBy: r.updated_by_name
	};
	if (prescriptionsOnly) {
		// A pharmacist sees what was prescribed, and how prescriptions were amended; nothing else.
		const rx = amendments
			.filter((a) => 'prescriptions' in a.previous)
			.map((a) => ({ ...a, previous: { prescriptions: a.previous.prescriptions } }));
		return { ...base, amendments: rx };
	}
	return {
		...base,
		symptoms: r.symptoms,
		diagnosis: r.diagnosis,
		treatment: r.treatment,
		notes: r.notes,
		// A closed record carries its vitals; an open one shows the visit's current ones.
		vitals: r.vitals ?? vitals,
		amendments
	};
}

const ownRecord = (patientId: string) => (x: { patientId?: string }) => x.patientId === patientId;

export async function readMedicalRecord(ctx: Ctx, caller: Caller, id: string): Promise<MedicalRecordView> {
	const actor = requireActor(caller);
	const r = await getMedicalRecord(ctx, id);
	if (!r) {
		await authorize(ctx, caller, 'medical_record', 'read', { id, isOwn: () => !deniedAsNotFound(actor.role), hideExistence: true });
		throw notFound('This medical record');
	}
	await authorize(ctx, caller, 'medical_record', 'read', { id, isOwn: ownRecord(r.patient_id), patientId: r.patient_id, hideExistence: deniedAsNotFound(actor.role) });
	const [appt, amendments] = await Promise.all([r.vitals ? undefined : getAppointment(ctx, r.appointment_id), amendmentsFor(ctx, r)]);
	await recordAudit(ctx, caller, { action: 'read', resourceType: 'medical_record', resourceId: id });
	return view(r, appt?.vitals, amendments, readsPrescriptionsOnly(actor.role));
}

export async function listMedicalRecords(ctx: Ctx, caller: Caller, patientId: string): Promise<MedicalRecordView[]> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'medical_record', 'read', { isOwn: ownRecord(patientId), patientId, hideExistence: deniedAsNotFound(actor.role) });
	const items = await medicalRecordsOfPatient(ctx, patientId);
	const open = items.filter((r) => !r.vitals).map((r) => r.appointment_id);
	const [appts, amendments] = await Promise.all([
		batchGetAppointments(ctx, open).then((xs) => new Map(xs.map((a) => [a.id, a]))),
		Promise.all(items.map((r) => amendmentsFor(ctx, r)))
	]);
	await recordAudit(ctx, caller, { action: 'list', resourceType: 'medical_record', resourceId: `patient:${patientId}` });
	return items.map((r, i) => view(r, appts.get(r.appointment_id)?.vitals, amendments[i]!, readsPrescriptionsOnly(actor.role)));
}

const amendmentsFor = (ctx: Ctx, r: MedicalRecordItem): Promise<AmendmentItem[]> =>
	r.amendment_count ? amendmentsOf(ctx, r.id) : Promise.resolve([]);

const recordClosed = (id: string) =>
	new AppError(409, 'RECORD_LOCKED', 'This visit is completed, so its record is closed. Amend it with a reason; the original stays readable.', {
		recordId: id,
		amend: `/api/medical-records/${id}/amendments`
	});

const sameMedicine = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Newly prescribed medicines that match one of the patient's allergies: a 409
 * ALLERGY_WARNING listing them, unless the prescriber has confirmed (then the override is
 * named in the audit entry). Medicines already on the record were checked when added.
 */
async function checkAllergies(ctx: Ctx, r: MedicalRecordItem, prescriptions: Prescription[] | undefined, acknowledged: boolean) {
	if (!prescriptions) return false;
	const added = prescriptions.filter((p) => !(r.prescriptions ?? []).some((q) => sameMedicine(p.medicine, q.medicine)));
	if (!added.length) return false;
	const patient = await getPatient(ctx, r.patient_id);
	const allergies: Allergy[] = patient?.allergies ?? [];
	const matches = allergyMatches(added.map((p) => p.medicine), allergies);
	if (!matches.length) return false;
	if (acknowledged) return true;
	const first = matches[0]!;
	throw new AppError(
		409,
		'ALLERGY_WARNING',
		`Allergy warning: ${first.why} (recorded allergy: ${first.substance}, ${first.severity.replace('_', '-')}${first.reaction ? `, ${first.reaction}` : ''}). Confirm to prescribe anyway.`,
		{ matches }
	);
}

export async function updateMedicalRecord(
	ctx: Ctx,
	caller: Caller,
	id: string,
	change: { version: number; acknowledgeAllergies?: boolean } & Partial<Record<RecordField, unknown>> & { prescriptions?: Prescription[] }
): Promise<MedicalRecordView> {
	const actor = requireActor(caller);
	const r = await getMedicalRecord(ctx, id);
	if (!r) throw notFound('This medical record');
	await authorize(ctx, caller, 'medical_record', 'write', { id, patientId: r.patient_id });
	const isAuthor = writesVisitRecords(actor.role) && (r.author_user_id ? r.author_user_id === actor.id : r.doctor_id === actor.doctorId);
	if (!isAuthor) {
		await refuse(
			ctx,
			caller,
			'medical_record',
			'write',
			id,
			actor.role === 'doctor'
				? `Only ${r.doctor_name}, who wrote this record, edits it while the visit is open; after it is completed, a doctor caring for the patient can amend it.`
				: 'Visit records are written by doctors; nurses record vitals on the appointment.'
		);
	}
	if (change.version !== r.version) throw conflictError('medical_record', id, change.version, r);
	// Closed: its visit completed (records closed before `locked_at` existed count too).
	const appt = await getAppointment(ctx, r.appointment_id);
	if (r.locked_at || appt?.status === 'COMPLETED') throw recordClosed(id);
	const set: Record<string, unknown> = {};
	for (const k of RECORD_FIELDS) if (change[k] !== undefined) set[k] = change[k];
	if (!Object.keys(set).length) throw badRequest('Nothing to change.', [{ field: '(body)', message: 'name a field to change' }]);
	const overridden = await checkAllergies(ctx, r, change.prescriptions, change.acknowledgeAllergies === true);
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'medical_records',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		set,
		resourceType: 'medical_record',
		audit: overridden ? { action: 'update_allergy_override' } : undefined,
		// The visit may complete between the read above and this write: the close wins.
		guard: { expression: 'attribute_not_exists(locked_at)', error: () => recordClosed(id) }
	});
	// An open record has no amendments yet: those start once it is closed.
	return view({ ...r, ...set, ...stamp } as MedicalRecordItem, appt?.vitals, []);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * A change to a completed visit's record, by its author or another doctor caring for the
 * patient: the record shows the new values and keeps, in `amendments`, who changed what,
 * when, why and what each field said before.
 */
export async function amendMedicalRecord(ctx: Ctx, caller: Caller, id: string, input: Amendment): Promise<MedicalRecordView> {
	const actor = requireActor(caller);
	const r = await getMedicalRecord(ctx, id);
	if (!r) throw notFound('This medical record');
	await authorize(ctx, caller, 'medical_record', 'write', { id, patientId: r.patient_id });
	if (!writesVisitRecords(actor.role)) {
		await refuse(ctx, caller, 'medical_record', 'write', id, 'Visit records are amended by doctors caring for the patient.');
	}
	const appt = await getAppointment(ctx, r.appointment_id);
	if (!r.locked_at && appt?.status !== 'COMPLETED') {
		throw new AppError(409, 'RECORD_OPEN', 'This visit is still open: its author edits the record directly until it is completed.', { recordId: id });
	}
	if (input.version !== r.version) throw conflictError('medical_record', id, input.version, r);

	const now = new Date().toISOString();
	const set: Record<string, unknown> = {};
	const previous: Record<string, unknown> = {};
	const { vitals: vitalsChange, ...fields } = input.changes;
	for (const k of RECORD_FIELDS) {
		const v = fields[k];
		if (v === undefined || same(v, r[k])) continue;
		previous[k] = r[k];
		set[k] = v;
	}
	if (vitalsChange) {
		const before = r.vitals ?? appt?.vitals;
		const merged = { ...(before ?? {}), ...vitalsChange };
		delete (merged as Partial<RecordedVitals>).recordedBy;
		delete (merged as Partial<RecordedVitals>).recordedAt;
		const { recordedBy: _b, recordedAt: _a, ...beforeValues } = before ?? ({} as Partial<RecordedVitals>);
		if (!same(merged, beforeValues)) {
			previous.vitals = before ?? null;
			set.vitals = { ...merged, recordedBy: actor.name, recordedAt: now };
		}
	}
	if (!Object.keys(set).length) {
		throw badRequest('The amendment changes nothing: every value is the one already on the record.', [
			{ field: 'changes', message: 'no value differs from the record' }
		]);
	}
	const overridden = await checkAllergies(ctx, r, input.changes.prescriptions, input.acknowledgeAllergies === true);
	const amendment: AmendmentItem = { at: now, by: actor.id, by_name: actor.name, reason: input.reason, previous };
	const earlier = await amendmentsFor(ctx, r);
	const count = (r.amendment_count ?? 0) + 1;
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'medical_records',
		pkName: 'id',
		id,
		expectedVersion: input.version,
		// A record closed before `locked_at` existed is marked closed by its first amendment.
		set: { ...set, amendment_count: count, ...(r.locked_at ? {} : { locked_at: appt?.completed_at ?? now }) },
		resourceType: 'medical_record',
		audit: { action: overridden ? 'amend_allergy_override' : 'amend', changedFields: Object.keys(set) },
		extra: { amendment: amendmentPut(ctx, id, amendment) }
	});
	return view({ ...r, ...set, amendment_count: count, locked_at: r.locked_at ?? now, ...stamp } as MedicalRecordItem, appt?.vitals, [...earlier, amendment]);
}

/** Opens the visit record of an appointment (the doctor's "start writing"); idempotent. */
export async function recordForAppointment(ctx: Ctx, caller: Caller, appointmentId: string): Promise<MedicalRecordView> {
	const a = await getAppointment(ctx, appointmentId);
	if (!a) throw badRequest('No such appointment.', [{ field: 'appointmentId', message: 'not found' }]);
	if (!a.medical_record_id) {
		throw badRequest('Start the consultation first: the visit record opens when the appointment becomes In consultation.', [
			{ field: 'appointmentId', message: `appointment is ${a.status}` }
		]);
	}
	return readMedicalRecord(ctx, caller, a.medical_record_id);
}
