import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError } from '../errors';
import { authorize } from '../auth/guard';
import { recordAudit } from './audit';
import { room } from '$lib/shared/rooms';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import type { TransactItem } from '../db/transaction';
import type { MedicalRecordItem } from '../repositories/medical-records';
import { getPatient } from '../repositories/patients';
import {
	batchGetPatientsById,
	batchGetPrescriptions,
	pendingPrescriptions,
	prescriptionPut,
	prescriptionSettleUpdate,
	type PrescriptionItem
} from '../repositories/prescriptions';
import type { Prescription } from '$lib/shared/views';
import type { PrescriptionEvent, PrescriptionStatusView, QueueEntry } from '$lib/shared/pharmacy';

/**
 * Prescriptions as the pharmacy sees them. A visit record keeps its list of prescriptions as
 * the doctor wrote it (`prescriptions`) and, beside it, the id of each one's row
 * (`prescription_ids`, same order). Every save or amendment that changes the list is diffed
 * against what the record held: a prescription kept exactly as it was (same medicine, dosage,
 * frequency and days) keeps its id and its state; a new or changed one gets a new row, pending;
 * one taken off the list (or changed) is withdrawn if still pending: its row becomes
 * `cancelled` and leaves the queue. One already dispensed stays dispensed (the medicine left
 * the pharmacy); a change racing its dispensing is a 409, never a silent loss. The rows are
 * written in the record's own transaction.
 */
const keyOf = (p: Prescription) => [p.medicine.trim().toLowerCase(), p.dosage.trim().toLowerCase(), p.frequency.trim().toLowerCase(), p.days].join('\u0000');

export type PrescriptionPlan = {
	/** The ids of `next`, in order: what the record stores as `prescription_ids`. */
	ids: string[];
	puts: TransactItem[];
	withdraws: TransactItem[];
	created: PrescriptionItem[];
	withdrawn: PrescriptionItem[];
	/** The patient's user (their own room hears withdrawals). */
	patientUserId?: string;
};

export async function planPrescriptions(ctx: Ctx, r: MedicalRecordItem, next: Prescription[]): Promise<PrescriptionPlan> {
	const before = r.prescriptions ?? [];
	const beforeIds = r.prescription_ids && r.prescription_ids.length === before.length ? r.prescription_ids : [];
	const rows = new Map((beforeIds.length ? await batchGetPrescriptions(ctx, beforeIds) : []).map((x) => [x.id, x]));
	const free = before.map((p, i) => ({ key: keyOf(p), id: beforeIds[i] })).filter((x) => x.id && rows.has(x.id));
	const now = new Date().toISOString();
	const plan: PrescriptionPlan = { ids: [], puts: [], withdraws: [], created: [], withdrawn: [] };
	for (const p of next) {
		const at = free.findIndex((f) => f.key === keyOf(p));
		if (at >= 0) {
			plan.ids.push(free[at]!.id!);
			free.splice(at, 1);
			continue;
		}
		const item: PrescriptionItem = {
			id: crypto.randomUUID(),
			record_id: r.id,
			appointment_id: r.appointment_id,
			patient_id: r.patient_id,
			patient_name: '',
			doctor_id: r.doctor_id,
			doctor_name: r.doctor_name,
			...(r.author_user_id ? { doctor_user_id: r.author_user_id } : {}),
			medicine: p.medicine,
			dosage: p.dosage,
			frequency: p.frequency,
			days: p.days,
			status: 'pending',
			queue: 'pending',
			created_at: now,
			updated_at: now
		};
		plan.ids.push(item.id);
		plan.created.push(item);
	}
	for (const f of free) {
		const row = rows.get(f.id!)!;
		if (row.status !== 'pending') continue;
		plan.withdraws.push(prescriptionSettleUpdate(ctx, row.id, 'cancelled', now));
		plan.withdrawn.push({ ...row, status: 'cancelled', updated_at: now });
	}
	if (plan.created.length || plan.withdrawn.length) {
		const patient = await getPatient(ctx, r.patient_id);
		plan.patientUserId = patient?.user_id;
		for (const item of plan.created) item.patient_name = patient?.name ?? 'Unknown patient';
		plan.puts = plan.created.map((item) => prescriptionPut(ctx, item));
	}
	return plan;
}

export const prescriptionRaced = () =>
	new AppError(409, 'VERSION_CONFLICT', 'A prescription you took off this record was dispensed a moment ago. Reload: the dispensed medicine stays on record.', {
		resourceType: 'prescription'
	});

/** After the record's transaction committed: the queue and the record's watchers hear it. */
export function announcePlan(ctx: Ctx, plan: PrescriptionPlan): void {
	for (const p of plan.created) ctx.bus.emit(room.pharmacy(), 'pharmacy:queue', { prescriptionId: p.id, status: 'pending', patientId: p.patient_id, at: p.created_at });
	for (const p of plan.withdrawn) announcePrescription(ctx, p, plan.patientUserId);
}

export function statusView(p: PrescriptionItem): PrescriptionStatusView {
	return {
		id: p.id,
		medicine: p.medicine,
		status: p.status,
		...(p.dispensed_at ? { dispensedAt: p.dispensed_at } : {}),
		...(p.dispensed_by_name ? { dispensedBy: p.dispensed_by_name } : {})
	};
}

/** A prescription's new state, to the pharmacy, its record's room and the patient's and doctor's own room. */
export function announcePrescription(ctx: Ctx, p: PrescriptionItem, patientUserId?: string): void {
	const event: PrescriptionEvent = { ...statusView(p), recordId: p.record_id, appointmentId: p.appointment_id, patientId: p.patient_id };
	ctx.bus.emit(room.pharmacy(), 'pharmacy:queue', { prescriptionId: p.id, status: p.status, patientId: p.patient_id, at: p.updated_at });
	ctx.bus.emit(room.record('medical_record', p.record_id), 'prescription:updated', event);
	if (patientUserId) ctx.bus.emit(room.user(patientUserId), 'prescription:updated', event);
	if (p.doctor_user_id) ctx.bus.emit(room.user(p.doctor_user_id), 'prescription:updated', event);
}

/** The state of each prescription of these records, by record id, in the record's order. */
export async function statusesOf(ctx: Ctx, records: Pick<MedicalRecordItem, 'id' | 'prescription_ids'>[]): Promise<Map<string, PrescriptionStatusView[]>> {
	const ids = records.flatMap((r) => r.prescription_ids ?? []);
	const rows = ids.length ? new Map((await batchGetPrescriptions(ctx, ids)).map((x) => [x.id, x])) : new Map<string, PrescriptionItem>();
	return new Map(records.map((r) => [r.id, (r.prescription_ids ?? []).flatMap((id) => (rows.has(id) ? [statusView(rows.get(id)!)] : []))]));
}

/**
 * The pharmacist's queue: pending prescriptions, newest first, each with the patient's name
 * and allergies (shown wherever a medicine is dispensed). For those who dispense; audited,
 * since allergies are clinical data.
 */
export async function pharmacyQueue(ctx: Ctx, caller: Caller, q: { cursor?: string; limit: number }): Promise<{ items: QueueEntry[]; nextCursor: string | null }> {
	await authorize(ctx, caller, 'pharmacy', 'write');
	const scope = 'pharmacy-queue';
	const startKey = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, startKeySchema) : undefined;
	const page = await resumeQuery(startKey, () => pendingPrescriptions(ctx, q.limit, startKey));
	const patients = new Map((await batchGetPatientsById(ctx, page.items.map((p) => p.patient_id))).map((p) => [p.id, p]));
	await recordAudit(ctx, caller, { action: 'list', resourceType: 'prescription', resourceId: 'pharmacy-queue' });
	return {
		items: page.items.map((p) => ({
			id: p.id,
			recordId: p.record_id,
			appointmentId: p.appointment_id,
			patientId: p.patient_id,
			patientName: patients.get(p.patient_id)?.name ?? p.patient_name,
			allergies: patients.get(p.patient_id)?.allergies ?? [],
			doctorName: p.doctor_name,
			medicine: p.medicine,
			dosage: p.dosage,
			frequency: p.frequency,
			days: p.days,
			status: p.status,
			createdAt: p.created_at
		})),
		nextCursor: page.lastKey ? encodeCursor(ctx.cursorKey, scope, page.lastKey) : null
	};
}
