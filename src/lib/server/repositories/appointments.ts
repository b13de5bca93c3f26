import { BatchGetCommand, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../db/query';
import type { Ctx } from '../context';
import type { VersionStamp } from '../db/versioned';
import type { AppointmentStatus, Priority, Vitals } from '$lib/shared/appointments';

export type AppointmentItem = VersionStamp & {
	id: string;
	patient_id: string;
	patient_user_id?: string;
	patient_name: string;
	doctor_id: string;
	doctor_user_id: string;
	doctor_name: string;
	specialization: string;
	/** UTC ISO instants; `date` is the calendar day in the hospital's zone. */
	start: string;
	end: string;
	date: string;
	status: AppointmentStatus;
	/** Triage, set by staff; the queue orders by it. */
	priority: Priority;
	/** What the patient reported when booking (absent on appointments booked before triage was split out). */
	reported_urgency?: Priority;
	symptoms: string;
	notes?: string;
	checked_in_at?: string;
	consultation_started_at?: string;
	completed_at?: string;
	cancel_reason?: string;
	reschedule_request?: { preferredStart?: string; note: string; at: string };
	vitals?: Vitals & { recordedBy: string; recordedAt: string };
	medical_record_id?: string;
	reminder_sent_at?: string;
	created_at: string;
};

/** The lock row that makes a doctor's slot bookable once (`locks` table). */
export const slotLockId = (doctorId: string, startUtc: string) => `slot#${doctorId}#${startUtc}`;

export function slotLockPut(ctx: Ctx, doctorId: string, startUtc: string, appointmentId: string) {
	return {
		Put: {
			TableName: ctx.db.tables.locks,
			Item: { id: slotLockId(doctorId, startUtc), appointment_id: appointmentId, kind: 'slot' },
			ConditionExpression: 'attribute_not_exists(id)'
		}
	};
}

export function slotLockDelete(ctx: Ctx, doctorId: string, startUtc: string, appointmentId: string) {
	return {
		Delete: {
			TableName: ctx.db.tables.locks,
			Key: { id: slotLockId(doctorId, startUtc) },
			ConditionExpression: 'attribute_not_exists(id) OR appointment_id = :a',
			ExpressionAttributeValues: { ':a': appointmentId }
		}
	};
}

export async function getAppointment(ctx: Ctx, id: string): Promise<AppointmentItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.appointments, Key: { id }, ConsistentRead: true })
	);
	const item = res.Item as AppointmentItem | undefined;
	if (item) rememberAppointment(ctx, item);
	return item;
}

/**
 * The appointment a write is about to change, at the version the client says it read.
 * If this process last saw exactly that version, it is used without a read: the write is
 * conditioned on `version = :read` anyway, so a copy gone stale (another instance wrote
 * since) can only turn into the 409 the client deserves, never into a lost update.
 */
export async function getAppointmentForWrite(ctx: Ctx, id: string, clientVersion: number) {
	const cached = ctx.appointmentCache.get(id);
	if (cached && cached.version === clientVersion) return cached;
	return getAppointment(ctx, id);
}

export function rememberAppointment(ctx: Ctx, item: AppointmentItem): void {
	const cache = ctx.appointmentCache;
	cache.delete(item.id);
	cache.set(item.id, item);
	if (cache.size > 5_000) cache.delete(cache.keys().next().value!);
}

export const forgetAppointment = (ctx: Ctx, id: string) => void ctx.appointmentCache.delete(id);

/** Appointments by id; `consistent` reads each as last written (the queue's announcements need that). */
export async function batchGetAppointments(ctx: Ctx, ids: string[], opts: { consistent?: boolean } = {}): Promise<AppointmentItem[]> {
	const out: AppointmentItem[] = [];
	for (let i = 0; i < ids.length; i += 100) {
		let keys: Record<string, unknown>[] | undefined = [...new Set(ids.slice(i, i + 100))].map((id) => ({ id }));
		while (keys && keys.length) {
			const res = await ctx.db.doc.send(
				new BatchGetCommand({ RequestItems: { [ctx.db.tables.appointments]: { Keys: keys, ConsistentRead: opts.consistent } } })
			);
			out.push(...((res.Responses?.[ctx.db.tables.appointments] ?? []) as AppointmentItem[]));
			keys = res.UnprocessedKeys?.[ctx.db.tables.appointments]?.Keys as Record<string, unknown>[] | undefined;
		}
	}
	return out;
}

const queryAppointments = (ctx: Ctx, input: Omit<QueryCommandInput, 'TableName'>) =>
	queryAll<AppointmentItem>(ctx, { TableName: ctx.db.tables.appointments, ...input });

/** A doctor's appointments starting in [fromUtc, toUtc). */
export function appointmentsOfDoctor(ctx: Ctx, doctorId: string, fromUtc: string, toUtc: string) {
	return queryAppointments(ctx, {
		IndexName: 'doctor-start-index',
		KeyConditionExpression: 'doctor_id = :d AND #s BETWEEN :f AND :t',
		ExpressionAttributeNames: { '#s': 'start' },
		ExpressionAttributeValues: { ':d': doctorId, ':f': fromUtc, ':t': toUtc }
	}).then((xs) => xs.filter((a) => a.start < toUtc));
}

/** What decides care (auth/guard.ts): a patient's appointments, few attributes each. */
export type CareRow = Pick<AppointmentItem, 'patient_id' | 'doctor_id' | 'date' | 'status' | 'medical_record_id' | 'consultation_started_at'>;

const careRows = (ctx: Ctx, index: 'patient-start-index' | 'date-start-index', key: 'patient_id' | 'date', value: string) =>
	queryAll<CareRow>(ctx, {
		TableName: ctx.db.tables.appointments,
		IndexName: index,
		KeyConditionExpression: '#k = :v',
		ExpressionAttributeValues: { ':v': value },
		ProjectionExpression: 'patient_id, doctor_id, #d, #s, medical_record_id, consultation_started_at',
		ExpressionAttributeNames: { '#k': key, '#d': 'date', '#s': 'status' }
	});

export const careRowsOfPatient = (ctx: Ctx, patientId: string) => careRows(ctx, 'patient-start-index', 'patient_id', patientId);
export const careRowsOnDate = (ctx: Ctx, date: string) => careRows(ctx, 'date-start-index', 'date', date);

export function appointmentsOfPatient(ctx: Ctx, patientId: string) {
	return queryAppointments(ctx, {
		IndexName: 'patient-start-index',
		KeyConditionExpression: 'patient_id = :p',
		ExpressionAttributeValues: { ':p': patientId },
		ScanIndexForward: false
	});
}

export function appointmentsOnDate(ctx: Ctx, date: string) {
	return queryAppointments(ctx, {
		IndexName: 'date-start-index',
		KeyConditionExpression: '#d = :d',
		ExpressionAttributeNames: { '#d': 'date' },
		ExpressionAttributeValues: { ':d': date }
	});
}

export function appointmentsByStatus(ctx: Ctx, status: AppointmentStatus, fromDate: string, toDate: string) {
	return queryAppointments(ctx, {
		IndexName: 'status-date-index',
		KeyConditionExpression: '#st = :s AND #d BETWEEN :f AND :t',
		ExpressionAttributeNames: { '#st': 'status', '#d': 'date' },
		ExpressionAttributeValues: { ':s': status, ':f': fromDate, ':t': toDate }
	});
}

/**
 * A patient's booked times, one row per patient in `locks` (`patient-times#<patientId>`):
 * `{ seq, slots: { <appointmentId>: { start, end } } }`. Every booking or move of that
 * patient rewrites it conditioned on the `seq` it read, so two bookings of one patient can
 * never both pass the overlap check (services/appointments.ts). Entries are claims, not
 * truth: the appointments they name are re-read before an overlap is reported.
 */
export type PatientTimes = { seq: number; slots: Record<string, { start: string; end: string }> };
const patientTimesId = (patientId: string) => `patient-times#${patientId}`;

export async function getPatientTimes(ctx: Ctx, patientId: string): Promise<PatientTimes | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.locks, Key: { id: patientTimesId(patientId) }, ConsistentRead: true })
	);
	return res.Item ? { seq: Number(res.Item.seq ?? 0), slots: (res.Item.slots ?? {}) as PatientTimes['slots'] } : undefined;
}

/** The rewrite of a patient's times, valid only if nobody rewrote them since `readSeq` (undefined: the row did not exist). */
export function patientTimesPut(ctx: Ctx, patientId: string, readSeq: number | undefined, slots: PatientTimes['slots']) {
	return {
		Put: {
			TableName: ctx.db.tables.locks,
			Item: { id: patientTimesId(patientId), kind: 'patient_times', seq: (readSeq ?? 0) + 1, slots },
			ConditionExpression: readSeq === undefined ? 'attribute_not_exists(id)' : 'seq = :seq',
			...(readSeq === undefined ? {} : { ExpressionAttributeValues: { ':seq': readSeq } })
		}
	};
}

/**
 * The 24-hour reminder's claim on an appointment: set once (`attribute_not_exists(
 * reminder_sent_at)`), only while it still waits at the start it was found with. No version
 * bump: it is bookkeeping, not an edit.
 */
export function reminderClaimUpdate(ctx: Ctx, a: Pick<AppointmentItem, 'id' | 'start'>, claim: { outboxId: string; by: string; at: string }) {
	return {
		Update: {
			TableName: ctx.db.tables.appointments,
			Key: { id: a.id },
			UpdateExpression: 'SET reminder_sent_at = :now, reminder_outbox_id = :oid, reminder_by = :by',
			ConditionExpression: 'attribute_not_exists(reminder_sent_at) AND #s IN (:p, :c, :r) AND #start = :start',
			ExpressionAttributeNames: { '#s': 'status', '#start': 'start' },
			ExpressionAttributeValues: {
				':now': claim.at,
				':oid': claim.outboxId,
				':by': claim.by,
				':p': 'PENDING',
				':c': 'CONFIRMED',
				':r': 'RESCHEDULED',
				':start': a.start
			}
		}
	};
}

/** One page of a day's appointments in one status (status-date-index), for the dashboard's drill-down. */
export async function appointmentsByStatusPage(
	ctx: Ctx,
	status: AppointmentStatus,
	date: string,
	limit: number,
	startKey?: Record<string, unknown>
): Promise<{ items: AppointmentItem[]; lastKey?: Record<string, unknown> }> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.appointments,
			IndexName: 'status-date-index',
			KeyConditionExpression: '#st = :s AND #d = :d',
			ExpressionAttributeNames: { '#st': 'status', '#d': 'date' },
			ExpressionAttributeValues: { ':s': status, ':d': date },
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as AppointmentItem[], lastKey: res.LastEvaluatedKey };
}
