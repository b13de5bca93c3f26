import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../db/query';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { notFound, badRequest } from '../errors';
import { authorize, refuse, requireActor } from '../auth/guard';
import { recordAudit } from './audit';
import { versionedUpdate } from '../db/versioned';
import { batchGetAppointments, getAppointment } from '../repositories/appointments';
import type { VersionStamp } from '../db/versioned';
import type { MedicalRecordView, Prescription } from '$lib/shared/views';

/**
 * Visit records: written by the treating doctor, read by the patient, by doctors and nurses
 * caring for them, by pharmacists (prescriptions only) and by admins. Every read is audited;
 * every change is a versioned write, so a newer diagnosis is never overwritten.
 */
export type { Prescription, MedicalRecordView };
export type MedicalRecordItem = VersionStamp & {
	id: string;
	appointment_id: string;
	patient_id: string;
	doctor_id: string;
	doctor_name: string;
	date: string;
	symptoms: string;
	diagnosis: string;
	treatment: string;
	notes: string;
	prescriptions: Prescription[];
	created_at: string;
};

function view(r: MedicalRecordItem, vitals?: MedicalRecordView['vitals'], prescriptionsOnly = false): MedicalRecordView {
	const base = {
		id: r.id,
		version: r.version,
		appointmentId: r.appointment_id,
		patientId: r.patient_id,
		doctorId: r.doctor_id,
		doctorName: r.doctor_name,
		date: r.date,
		prescriptions: r.prescriptions ?? [],
		updatedAt: r.updated_at,
		updatedBy: r.updated_by_name
	};
	if (prescriptionsOnly) return base;
	return { ...base, symptoms: r.symptoms, diagnosis: r.diagnosis, treatment: r.treatment, notes: r.notes, vitals };
}

async function getRecord(ctx: Ctx, id: string): Promise<MedicalRecordItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.medical_records, Key: { id }, ConsistentRead: true }));
	return res.Item as MedicalRecordItem | undefined;
}

const ownRecord = (patientId: string) => (x: { patientId?: string }) => x.patientId === patientId;

export async function readMedicalRecord(ctx: Ctx, caller: Caller, id: string): Promise<MedicalRecordView> {
	const actor = requireActor(caller);
	const r = await getRecord(ctx, id);
	if (!r) {
		await authorize(ctx, caller, 'medical_record', 'read', { id, isOwn: () => actor.role !== 'patient', hideExistence: true });
		throw notFound('This medical record');
	}
	await authorize(ctx, caller, 'medical_record', 'read', { id, isOwn: ownRecord(r.patient_id), patientId: r.patient_id, hideExistence: actor.role === 'patient' });
	const appt = await getAppointment(ctx, r.appointment_id);
	await recordAudit(ctx, caller, { action: 'read', resourceType: 'medical_record', resourceId: id });
	return view(r, appt?.vitals, actor.role === 'pharmacist');
}

export async function listMedicalRecords(ctx: Ctx, caller: Caller, patientId: string): Promise<MedicalRecordView[]> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'medical_record', 'read', { isOwn: ownRecord(patientId), patientId, hideExistence: actor.role === 'patient' });
	const items = await queryAll<MedicalRecordItem>(ctx, {
		TableName: ctx.db.tables.medical_records,
		IndexName: 'patient-index',
		KeyConditionExpression: 'patient_id = :p',
		ExpressionAttributeValues: { ':p': patientId },
		ScanIndexForward: false
	});
	const appts = new Map((await batchGetAppointments(ctx, items.map((r) => r.appointment_id))).map((a) => [a.id, a]));
	await recordAudit(ctx, caller, { action: 'list', resourceType: 'medical_record', resourceId: `patient:${patientId}` });
	return items.map((r) => view(r, appts.get(r.appointment_id)?.vitals, actor.role === 'pharmacist'));
}

export async function updateMedicalRecord(
	ctx: Ctx,
	caller: Caller,
	id: string,
	change: { version: number; symptoms?: string; diagnosis?: string; treatment?: string; notes?: string; prescriptions?: Prescription[] }
): Promise<MedicalRecordView> {
	const actor = requireActor(caller);
	const r = await getRecord(ctx, id);
	if (!r) throw notFound('This medical record');
	await authorize(ctx, caller, 'medical_record', 'write', { id, patientId: r.patient_id });
	if (actor.role !== 'doctor') {
		await refuse(ctx, caller, 'medical_record', 'write', id, 'Visit records are written by doctors; nurses record vitals on the appointment.');
	}
	const { version, ...fields } = change;
	const set: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(fields)) if (v !== undefined) set[k] = v;
	if (!Object.keys(set).length) throw badRequest('Nothing to change.', [{ field: '(body)', message: 'name a field to change' }]);
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'medical_records',
		pkName: 'id',
		id,
		expectedVersion: version,
		set,
		resourceType: 'medical_record'
	});
	const appt = await getAppointment(ctx, r.appointment_id);
	return view({ ...r, ...set, ...stamp } as MedicalRecordItem, appt?.vitals);
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
