import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Actor, Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, authorizeBooking, authorizeTriage, clinicalVisibility, pairInCare, refuse, requireActor } from '../auth/guard';
import { conversationIdOf } from './chat';
import { conflictError, createPut, stampNew, versionedUpdate, type TransactItem } from '../db/versioned';
import { transactNamed } from '../db/transaction';
import { auditPut } from './audit';
import { outboxPut } from './outbox';
import { announce, notificationPut } from './notifications';
import { CONSULTATION_SERVICE_ID, DEFAULT_SERVICES, getService } from './catalogue';
import { busyBetween, nearestFreeSlots, slotsOn } from './doctors';
import { doctorOnDutyCheck, getDoctor } from '../repositories/doctors';
import { getPatient } from '../repositories/patients';
import { closeRecordUpdate, getMedicalRecord } from '../repositories/medical-records';
import {
	appointmentsOfDoctor,
	appointmentsOfPatient,
	appointmentsOnDate,
	forgetAppointment,
	batchGetAppointments,
	getAppointment,
	getAppointmentForWrite,
	getPatientTimes,
	patientTimesPut,
	rememberAppointment,
	slotLockDelete,
	slotLockPut,
	type AppointmentItem
} from '../repositories/appointments';
import { currentQueueSeq, nextQueueSeq } from '../repositories/queue';
import { appointmentAggregates, revenueDelta, servedGuards, type Delta } from '../repositories/analytics';
import { announceAnalytics } from './analytics-live';
import {
	ACTIVE_STATUSES,
	CLOSED_STATUSES,
	PRIORITY_RANK,
	STATUS_LABEL,
	type AppointmentStatus,
	type AppointmentView,
	type Priority,
	type Vitals
} from '$lib/shared/appointments';
import type { AppointmentEvent } from '$lib/shared/realtime';
import { room } from '$lib/shared/rooms';
import { appointmentTransition, canBecomeMissed, canStillMove, type TransitionRefusal } from '$lib/shared/appointment-status';
import { asksToReschedule, deniedAsNotFound, movesAppointments, seesQueue, writesVisitNotes } from '$lib/shared/policy';
import { dateIn, isoWithOffset, zonedToUtc, addDays } from '$lib/shared/time';

/**
 * Appointments: booking without double booking (a conditional slot lock in the same
 * transaction as the appointment), the status machine, check-in and vitals, the live queue,
 * and completion with its invoice. Every change is a versioned write, notifies the patient
 * (in-app and outbox) in the same transaction, and is broadcast after commit.
 */

/**
 * An appointment as the API returns it. Without clinical access (see `readsClinical` in
 * auth/guard.ts) it carries names, times, status and triage only: no symptoms, notes or vitals.
 */
export function appointmentView(a: AppointmentItem, tz: string, opts: { clinical: boolean; queuePosition?: number }): AppointmentView {
	const view: AppointmentView = {
		id: a.id,
		version: a.version,
		patientId: a.patient_id,
		patientName: a.patient_name,
		doctorId: a.doctor_id,
		doctorName: a.doctor_name,
		specialization: a.specialization,
		start: isoWithOffset(new Date(a.start), tz),
		end: isoWithOffset(new Date(a.end), tz),
		date: a.date,
		status: a.status,
		priority: a.priority,
		reportedUrgency: a.reported_urgency ?? a.priority,
		clinical: opts.clinical,
		checkedInAt: a.checked_in_at,
		consultationStartedAt: a.consultation_started_at,
		completedAt: a.completed_at,
		cancelReason: a.cancel_reason,
		rescheduleRequest: a.reschedule_request,
		queuePosition: opts.queuePosition,
		updatedAt: a.updated_at,
		updatedBy: a.updated_by_name
	};
	if (opts.clinical) {
		view.symptoms = a.symptoms;
		view.notes = a.notes;
		view.vitals = a.vitals;
		view.medicalRecordId = a.medical_record_id;
	}
	return view;
}

/** Views of many appointments, clinical fields only where the caller may read them. */
async function viewsFor(ctx: Ctx, caller: Caller, items: AppointmentItem[], position?: (a: AppointmentItem) => number | undefined): Promise<AppointmentView[]> {
	const visible = await clinicalVisibility(ctx, requireActor(caller), items);
	return items.map((a) => appointmentView(a, ctx.config.timezone, { clinical: visible(a.patient_id), queuePosition: position?.(a) }));
}

/** The write's condition that the visit is still open (the completion may commit meanwhile). */
const stillOpen = (what: string) => ({
	expression: 'NOT (#st IN (:closed0, :closed1, :closed2))',
	names: { '#st': 'status' },
	values: Object.fromEntries(CLOSED_STATUSES.map((s, i) => [`:closed${i}`, s])),
	error: (current: Record<string, unknown>) => recordLocked(current as AppointmentItem, what)
});

const recordLocked = (a: AppointmentItem, what: string) =>
	new AppError(409, 'RECORD_LOCKED', `This appointment is ${STATUS_LABEL[a.status]}: its ${what} can no longer be changed.${a.status === 'COMPLETED' ? ' Amend the visit record instead, with a reason.' : ''}`, {
		status: a.status
	});

const isOwnAppointment = (a: AppointmentItem) => (x: Actor) =>
	x.role === 'patient' ? x.patientId === a.patient_id : x.role === 'doctor' ? x.doctorId === a.doctor_id : false;

async function loadForAccess(
	ctx: Ctx,
	caller: Caller,
	id: string,
	mode: 'read' | 'write',
	clientVersion?: number
): Promise<AppointmentItem> {
	const actor = requireActor(caller);
	const a = clientVersion === undefined ? await getAppointment(ctx, id) : await getAppointmentForWrite(ctx, id, clientVersion);
	if (!a) {
		// Same answer as "not yours" for patients, so ids cannot be probed.
		await authorize(ctx, caller, 'appointment', mode, { id, isOwn: () => !deniedAsNotFound(actor.role), hideExistence: true });
		throw notFound('This appointment');
	}
	await authorize(ctx, caller, 'appointment', mode, { id, isOwn: isOwnAppointment(a), hideExistence: deniedAsNotFound(actor.role) });
	return a;
}

function when(a: Pick<AppointmentItem, 'start'>, tz: string) {
	return new Intl.DateTimeFormat('en-GB', { timeZone: tz, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(a.start));
}

const MESSAGES: Record<AppointmentStatus, (a: AppointmentItem, tz: string) => { title: string; body: string }> = {
	PENDING: (a, tz) => ({ title: 'Appointment requested', body: `Your appointment with ${a.doctor_name} on ${when(a, tz)} is booked and awaiting confirmation.` }),
	CONFIRMED: (a, tz) => ({ title: 'Appointment confirmed', body: `Your appointment with ${a.doctor_name} on ${when(a, tz)} is confirmed.` }),
	RESCHEDULED: (a, tz) => ({ title: 'Appointment moved', body: `Your appointment with ${a.doctor_name} is now on ${when(a, tz)}.` }),
	CHECKED_IN: (a) => ({ title: 'You are checked in', body: `You are in ${a.doctor_name}'s queue. We will call you shortly.` }),
	CONSULTING: (a) => ({ title: 'Your consultation has started', body: `${a.doctor_name} is ready for you.` }),
	COMPLETED: (a) => ({ title: 'Visit completed', body: `Your visit with ${a.doctor_name} is complete. Your invoice is available.` }),
	CANCELLED: (a, tz) => ({ title: 'Appointment cancelled', body: `Your appointment with ${a.doctor_name} on ${when(a, tz)} was cancelled.` }),
	MISSED: (a, tz) => ({ title: 'Missed appointment', body: `You missed your appointment with ${a.doctor_name} on ${when(a, tz)}. Please book again.` })
};

/** In-app notification and SMS for the patient, as items of the change's transaction. */
function patientNotice(ctx: Ctx, a: AppointmentItem) {
	const msg = MESSAGES[a.status](a, ctx.config.timezone);
	const items: TransactItem[] = [];
	let notice: ReturnType<typeof notificationPut> | undefined;
	if (a.patient_user_id) {
		notice = notificationPut(ctx, a.patient_user_id, { kind: `appointment_${a.status.toLowerCase()}`, ...msg, relatedType: 'appointment', relatedId: a.id });
		items.push(notice.item);
	}
	if (a.patient_user_id) {
		// The phone number is read at delivery, so a number changed meanwhile is the one used.
		items.push(outboxPut(ctx, { kind: `appointment_${a.status.toLowerCase()}`, channel: 'sms', userId: a.patient_user_id, relatedId: a.id, body: `MedTrack: ${msg.body}` }));
	}
	return { items, announce: () => notice && a.patient_user_id && announce(ctx, a.patient_user_id, notice.event) };
}

/** After commit: tell every screen that shows this appointment (and remember the new version). */
export function broadcastAppointment(ctx: Ctx, a: AppointmentItem, previousDate?: string) {
	rememberAppointment(ctx, a);
	const event: AppointmentEvent = {
		id: a.id,
		version: a.version,
		status: a.status,
		updatedBy: a.updated_by_name,
		updatedAt: a.updated_at,
		doctorId: a.doctor_id,
		patientId: a.patient_id,
		date: a.date
	};
	ctx.bus.emit(room.appointment(a.id), 'appointment:updated', event);
	ctx.bus.emit(room.doctorQueue(a.doctor_id), 'queue:updated', event);
	ctx.bus.emit(room.board(a.date), 'appointment:updated', event);
	if (previousDate && previousDate !== a.date) ctx.bus.emit(room.board(previousDate), 'appointment:updated', event);
	if (a.patient_user_id) ctx.bus.emit(room.user(a.patient_user_id), 'appointment:updated', event);
	ctx.bus.emit(room.user(a.doctor_user_id), 'appointment:updated', event);
	// Free slots change when a booking appears, moves, or stops holding its time.
	if (a.version === 1 || previousDate || a.status === 'CANCELLED' || a.status === 'MISSED') {
		ctx.bus.emit(room.slots(a.date), 'slots:updated', { doctorId: a.doctor_id, date: a.date });
		if (previousDate && previousDate !== a.date) ctx.bus.emit(room.slots(previousDate), 'slots:updated', { doctorId: a.doctor_id, date: previousDate });
	}
}

async function validSlot(ctx: Ctx, doctor: NonNullable<Awaited<ReturnType<typeof getDoctor>>>, startIso: string) {
	const startUtc = new Date(startIso).toISOString();
	const date = dateIn(ctx.config.timezone, new Date(startIso));
	const slot = slotsOn(doctor, date, ctx.config.timezone).find((s) => s.startUtc === startUtc);
	if (!slot) {
		throw badRequest(`${doctor.name} has no slot starting at ${isoWithOffset(new Date(startIso), ctx.config.timezone)}.`, [
			{ field: 'start', message: 'is not one of the doctor\'s slots; ask GET /api/doctors/:id/slots?date= for free ones' }
		]);
	}
	if (startUtc <= new Date().toISOString()) {
		throw badRequest('This slot is in the past.', [{ field: 'start', message: 'must be in the future' }]);
	}
	if (doctor.status === 'off') {
		throw new AppError(409, 'DOCTOR_OFF_DUTY', `${doctor.name} is off duty and cannot be booked. Choose another doctor or ask the front desk.`, { doctorId: doctor.id });
	}
	return { slot, date, startUtc, endUtc: new Date(slot.end).toISOString() };
}

/** Another appointment of the doctor's already holds part of this time (the schedule's slot length changed since it was booked). */
async function overlapsDoctor(ctx: Ctx, doctorId: string, appointmentId: string, startUtc: string, endUtc: string): Promise<boolean> {
	return (await busyBetween(ctx, doctorId, startUtc, endUtc)).some((a) => a.id !== appointmentId);
}

async function slotTaken(ctx: Ctx, doctor: NonNullable<Awaited<ReturnType<typeof getDoctor>>>, startUtc: string, date: string) {
	const alternatives = await nearestFreeSlots(ctx, doctor, startUtc, date);
	return new AppError(409, 'SLOT_TAKEN', 'Sorry, that slot was just taken. Here are the nearest free ones.', {
		alternatives: alternatives.map((s) => ({ start: s.start, end: s.end }))
	});
}

/**
 * The patient's other active appointments that overlap [startUtc, endUtc), read from the
 * patient's times row and confirmed against the appointments themselves. Returns the
 * Put that claims the new time, conditioned on nobody having changed the row meanwhile.
 */
async function claimPatientTime(ctx: Ctx, patientId: string, appointmentId: string, startUtc: string, endUtc: string, forSelf: boolean) {
	const times = await getPatientTimes(ctx, patientId);
	let slots = times?.slots;
	if (!slots) {
		// First booking since this row was introduced: build it from the patient's appointments.
		const now = new Date().toISOString();
		slots = Object.fromEntries(
			(await appointmentsOfPatient(ctx, patientId))
				.filter((a) => ACTIVE_STATUSES.includes(a.status) && a.end > now)
				.map((a) => [a.id, { start: a.start, end: a.end }])
		);
	}
	const overlapping = Object.entries(slots).filter(([id, t]) => id !== appointmentId && t.start < endUtc && startUtc < t.end).map(([id]) => id);
	const clashes = (await batchGetAppointments(ctx, overlapping, { consistent: true })).filter(
		(a) => ACTIVE_STATUSES.includes(a.status) && a.start < endUtc && startUtc < a.end
	);
	if (clashes.length) {
		const c = clashes[0]!;
		const at = when(c, ctx.config.timezone);
		throw new AppError(
			409,
			'PATIENT_BUSY',
			forSelf
				? `You already have an appointment with ${c.doctor_name} on ${at} that overlaps this time. Choose another time, or change that one in My appointments.`
				: `The patient already has an appointment with ${c.doctor_name} on ${at} that overlaps this time. Choose another time, or move that one first.`,
			{
			appointmentId: c.id,
			doctorName: c.doctor_name,
			start: isoWithOffset(new Date(c.start), ctx.config.timezone),
			end: isoWithOffset(new Date(c.end), ctx.config.timezone)
			}
		);
	}
	// Keep claims that are still ahead; past ones can no longer overlap anything.
	const cutoff = new Date(Date.now() - 86_400_000).toISOString();
	const next = Object.fromEntries(Object.entries(slots).filter(([id, t]) => id !== appointmentId && t.end > cutoff));
	next[appointmentId] = { start: startUtc, end: endUtc };
	return patientTimesPut(ctx, patientId, times?.seq, next);
}

const lostRace = () =>
	new AppError(409, 'VERSION_CONFLICT', 'The patient\'s appointments changed at the same moment. Please try again.');

export async function bookAppointment(
	ctx: Ctx,
	caller: Caller,
	input: { doctorId: string; start: string; symptoms: string; reportedUrgency: Priority; patientId?: string }
): Promise<AppointmentView> {
	const actor = requireActor(caller);
	const patientId = actor.role === 'patient' ? (input.patientId ?? actor.patientId) : input.patientId;
	if (!patientId) throw badRequest('Name the patient to book for.', [{ field: 'patientId', message: 'is required' }]);
	await authorizeBooking(ctx, caller, { patientId, doctorId: input.doctorId });
	const [doctor, patient] = await Promise.all([getDoctor(ctx, input.doctorId), getPatient(ctx, patientId)]);
	if (!doctor) throw badRequest('No such doctor.', [{ field: 'doctorId', message: 'not found' }]);
	if (!patient) throw badRequest('No such patient.', [{ field: 'patientId', message: 'not found' }]);
	const { date, startUtc, endUtc } = await validSlot(ctx, doctor, input.start);

	const id = crypto.randomUUID();
	const appt = stampNew(caller, {
		id,
		patient_id: patient.id,
		patient_user_id: patient.user_id,
		patient_name: patient.name,
		doctor_id: doctor.id,
		doctor_user_id: doctor.user_id,
		doctor_name: doctor.name,
		specialization: doctor.specialization,
		start: startUtc,
		end: endUtc,
		date,
		status: 'PENDING' as AppointmentStatus,
		// Triage starts neutral: staff set the queue priority; the patient's view is kept beside it.
		priority: 'normal' as Priority,
		reported_urgency: input.reportedUrgency,
		symptoms: input.symptoms
	}) as AppointmentItem;
	const notice = patientNotice(ctx, appt);
	if (await overlapsDoctor(ctx, doctor.id, id, startUtc, endUtc)) throw await slotTaken(ctx, doctor, startUtc, date);
	for (let attempt = 0; ; attempt++) {
		const patientTime = await claimPatientTime(ctx, patient.id, id, startUtc, endUtc, actor.role === 'patient');
		const outcome = await transactNamed(ctx, {
			slotLock: slotLockPut(ctx, doctor.id, startUtc, id),
			// Off duty is decided when the booking commits, not when it was read.
			onDuty: doctorOnDutyCheck(ctx, doctor.id),
			patientTime,
			appointment: createPut(ctx, 'appointments', 'id', appt),
			notices: notice.items,
			// The dashboards' daily counts move in the same transaction (repositories/analytics.ts).
			analytics: appointmentAggregates(ctx, undefined, appt),
			audit: auditPut(ctx, caller, {
				action: 'create',
				resourceType: 'appointment',
				resourceId: id,
				changedFields: ['doctor_id', 'patient_id', 'start', 'symptoms', 'reported_urgency']
			})
		});
		if (outcome.ok) break;
		if (outcome.failed === 'slotLock') throw await slotTaken(ctx, doctor, startUtc, date);
		if (outcome.failed === 'onDuty') {
			throw new AppError(409, 'DOCTOR_OFF_DUTY', `${doctor.name} has just gone off duty and cannot be booked. Choose another doctor.`, { doctorId: doctor.id });
		}
		if (outcome.failed === 'patientTime' && attempt < 4) continue;
		throw lostRace();
	}
	notice.announce();
	broadcastAppointment(ctx, appt);
	announceAnalytics(ctx, [appt.doctor_user_id]);
	const [view] = await viewsFor(ctx, caller, [appt]);
	return view!;
}

export async function readAppointment(ctx: Ctx, caller: Caller, id: string): Promise<AppointmentView> {
	const a = await loadForAccess(ctx, caller, id, 'read');
	if (a.status !== 'CHECKED_IN') return (await viewsFor(ctx, caller, [a]))[0]!;
	// The place with the sequence number it is as fresh as (see announceQueuePositionsNow).
	const { position, seq } = await queuePlaceOf(ctx, a);
	return { ...(await viewsFor(ctx, caller, [a], () => position))[0]!, queueSeq: seq };
}

export type AppointmentChange = {
	version: number;
	status?: AppointmentStatus;
	start?: string;
	priority?: Priority;
	symptoms?: string;
	notes?: string;
	reason?: string;
	rescheduleRequest?: { preferredStart?: string; note: string };
};

/** What a change writes: attributes to set (undefined = remove) and the transaction's other named items. */
type ChangePlan = {
	set: Record<string, unknown>;
	extra: Record<string, TransactItem | TransactItem[]>;
	/** The day the appointment left, when it moved to another one. */
	previousDate?: string;
	/** Aggregate changes beyond the appointment's own (revenue, patients served). */
	deltas?: Delta[];
};

/**
 * A status change, a move, triage, notes or a reschedule request, as one versioned write
 * with its notices and audit entry, then broadcast. The steps, in the order their refusals
 * are answered: the caller's access and version, the status machine, the role rules for the
 * other fields, then the plan of the write (move, status effects, fields) and the commit.
 */
export async function changeAppointment(ctx: Ctx, caller: Caller, id: string, change: AppointmentChange): Promise<AppointmentView> {
	// The consultation fee is read alongside the appointment when the visit is being completed.
	const servicePromise = change.status === 'COMPLETED' ? getService(ctx, CONSULTATION_SERVICE_ID) : undefined;
	servicePromise?.catch(() => {});
	const a = await loadForAccess(ctx, caller, id, 'write', change.version);
	// A stale client is told so first, whatever it asked for.
	if (change.version !== a.version) throw conflictError('appointment', id, change.version, a);

	const { status, dayRefusal } = await requestedStatus(ctx, caller, a, change);
	await checkFieldRights(ctx, caller, a, change);
	if (dayRefusal) throw transitionError(dayRefusal);

	const doctor = change.start ? await getDoctor(ctx, a.doctor_id) : undefined;
	const plan: ChangePlan = { set: {}, extra: {} };
	if (change.start) await planMove(ctx, caller, a, doctor!, change.start, plan);
	if (status) await planStatus(ctx, caller, a, status, change, servicePromise, plan);
	await planFields(ctx, caller, a, change, plan);

	const remove = Object.keys(plan.set).filter((k) => plan.set[k] === undefined);
	for (const k of remove) delete plan.set[k];
	if (!Object.keys(plan.set).length && !remove.length) return (await viewsFor(ctx, caller, [a]))[0]!;

	const saved = await commitChange(ctx, caller, a, change, status, plan, remove, doctor);
	afterChange(ctx, caller, a, saved, status, plan);
	return (await viewsFor(ctx, caller, [saved]))[0]!;
}

const transitionError = (r: TransitionRefusal) => new AppError(r.status, r.code, r.message, r.details);

/**
 * The status the change asks for, through the status machine: a move is always RESCHEDULED;
 * the same status again (not a move) is no change. A role that never sets the status is
 * refused (audited); a status that cannot follow is 409. A check-in on the wrong day is
 * answered after the other fields' rights are checked (`dayRefusal`), as it always was.
 */
async function requestedStatus(
	ctx: Ctx,
	caller: Caller,
	a: AppointmentItem,
	change: AppointmentChange
): Promise<{ status?: AppointmentStatus; dayRefusal?: TransitionRefusal }> {
	const actor = requireActor(caller);
	if (change.start && change.status && change.status !== 'RESCHEDULED') {
		throw badRequest('Moving an appointment makes it Rescheduled: send the new start without another status.', [
			{ field: 'status', message: 'must be RESCHEDULED (or left out) when start is given' }
		]);
	}
	const status = change.start ? ('RESCHEDULED' as const) : change.status;
	if (!status) return {};
	const verdict = appointmentTransition(a.status, status, actor.role, { moving: !!change.start, date: a.date, today: dateIn(ctx.config.timezone) });
	if (verdict.ok) return verdict.change ? { status } : {};
	if (verdict.kind === 'role') return refuse(ctx, caller, 'appointment', 'write', a.id, verdict.message);
	if (verdict.kind === 'day') return { status, dayRefusal: verdict };
	throw transitionError(verdict);
}

/** Who may change the other fields: the role rules (policy), closed visits, and triage (care). */
async function checkFieldRights(ctx: Ctx, caller: Caller, a: AppointmentItem, change: AppointmentChange): Promise<void> {
	const actor = requireActor(caller);
	if (asksToReschedule(actor.role) && (change.priority || change.notes || change.start)) {
		await refuse(ctx, caller, 'appointment', 'write', a.id, 'Patients can cancel or ask to reschedule; the front desk changes times.');
	}
	if (change.notes !== undefined && !writesVisitNotes(actor.role)) {
		await refuse(ctx, caller, 'appointment', 'write', a.id, 'Only the doctor writes visit notes.');
	}
	// A closed visit's facts stay as they were: a completed one is amended through its record.
	if (changesFacts(change) && CLOSED_STATUSES.includes(a.status)) throw recordLocked(a, 'symptoms, priority and notes');
	if (change.priority !== undefined && change.priority !== a.priority) await authorizeTriage(ctx, caller, a);
	if (change.symptoms !== undefined && change.symptoms !== a.symptoms && actor.role === 'nurse') await authorizeTriage(ctx, caller, a);
}

const changesFacts = (change: AppointmentChange) => change.symptoms !== undefined || change.priority !== undefined || change.notes !== undefined;

/** A move to another slot: the new slot's lock, the old one's release, the patient's time, the doctor on duty at commit. */
async function planMove(ctx: Ctx, caller: Caller, a: AppointmentItem, doctor: NonNullable<Awaited<ReturnType<typeof getDoctor>>>, start: string, plan: ChangePlan): Promise<void> {
	const actor = requireActor(caller);
	if (!movesAppointments(actor.role)) {
		await refuse(ctx, caller, 'appointment', 'write', a.id, 'Only the front desk or the doctor can move an appointment.');
	}
	const slot = await validSlot(ctx, doctor, start);
	if (slot.startUtc !== a.start) {
		if (await overlapsDoctor(ctx, a.doctor_id, a.id, slot.startUtc, slot.endUtc)) throw await slotTaken(ctx, doctor, slot.startUtc, slot.date);
		plan.extra.newSlot = slotLockPut(ctx, a.doctor_id, slot.startUtc, a.id);
		plan.extra.onDuty = doctorOnDutyCheck(ctx, a.doctor_id);
		plan.extra.oldSlot = slotLockDelete(ctx, a.doctor_id, a.start, a.id);
		plan.extra.patientTime = await claimPatientTime(ctx, a.patient_id, a.id, slot.startUtc, slot.endUtc, actor.role === 'patient');
		Object.assign(plan.set, { start: slot.startUtc, end: slot.endUtc, date: slot.date });
		plan.previousDate = a.date;
	}
	plan.set.reschedule_request = undefined;
}

/** What a new status brings with it: arrival time, the visit record, the invoice and the record's close, the slot's release. */
async function planStatus(
	ctx: Ctx,
	caller: Caller,
	a: AppointmentItem,
	status: AppointmentStatus,
	change: AppointmentChange,
	servicePromise: ReturnType<typeof getService> | undefined,
	plan: ChangePlan
): Promise<void> {
	const actor = requireActor(caller);
	const now = new Date().toISOString();
	const { set, extra } = plan;
	set.status = status;
	if (status === 'CHECKED_IN') set.checked_in_at = now;
	if (status === 'CONSULTING') {
		set.consultation_started_at = now;
		const recordId = `mr_${a.id}`;
		set.medical_record_id = recordId;
		extra.visitRecord = createPut(
			ctx,
			'medical_records',
			'id',
			stampNew(caller, {
				id: recordId,
				appointment_id: a.id,
				patient_id: a.patient_id,
				doctor_id: a.doctor_id,
				doctor_name: a.doctor_name,
				// The author: only they edit the record while the visit is open.
				author_user_id: actor.id,
				date: a.date,
				symptoms: change.symptoms ?? a.symptoms,
				diagnosis: '',
				treatment: '',
				notes: '',
				prescriptions: [],
				amendments: []
			})
		);
	}
	if (status === 'COMPLETED') {
		set.completed_at = now;
		const service = (await servicePromise) ?? DEFAULT_SERVICES[0]!;
		extra.invoice = createPut(ctx, 'invoices', 'id', stampNew(caller, {
			id: `inv_${a.id}`,
			patient_id: a.patient_id,
			appointment_id: a.id,
			doctor_name: a.doctor_name,
			date: a.date,
			items: [{ service_id: service.id, name: service.name, price_cents: service.price_cents }],
			total_cents: service.price_cents,
			currency: service.currency,
			status: 'unpaid'
		}));
		// The record closes with the visit: its vitals are kept with it, and later changes are amendments.
		if (a.medical_record_id) extra.closeRecord = closeRecordUpdate(ctx, caller, a.medical_record_id, a.vitals, now);
		// Revenue on the visit date, and the patient counted once as served by this doctor (ever, and this week).
		const served = await servedGuards(ctx, a.doctor_id, a.patient_id, a.date);
		Object.assign(extra, served.items);
		plan.deltas = [revenueDelta(a.date, service.price_cents), ...served.deltas];
	}
	if (status === 'CANCELLED') {
		extra.oldSlot = slotLockDelete(ctx, a.doctor_id, a.start, a.id);
		if (change.reason) set.cancel_reason = change.reason;
	}
}

/** Triage, symptoms, notes and the patient's reschedule request. */
async function planFields(ctx: Ctx, caller: Caller, a: AppointmentItem, change: AppointmentChange, plan: ChangePlan): Promise<void> {
	const actor = requireActor(caller);
	const { set } = plan;
	if (change.priority && change.priority !== a.priority) set.priority = change.priority;
	if (change.symptoms !== undefined && change.symptoms !== a.symptoms) set.symptoms = change.symptoms;
	if (change.notes !== undefined && change.notes !== a.notes) set.notes = change.notes;
	if (change.rescheduleRequest) {
		if (!asksToReschedule(actor.role) || !canStillMove(a.status)) {
			await refuse(ctx, caller, 'appointment', 'write', a.id, 'Only the patient asks to reschedule, and only an appointment that can still move.');
		}
		set.reschedule_request = { ...change.rescheduleRequest, at: new Date().toISOString() };
	}
}

/** The one versioned write, with the patient's notices; a lost slot, duty or patient-time race becomes its own answer. */
async function commitChange(
	ctx: Ctx,
	caller: Caller,
	a: AppointmentItem,
	change: AppointmentChange,
	status: AppointmentStatus | undefined,
	plan: ChangePlan,
	remove: string[],
	doctor: Awaited<ReturnType<typeof getDoctor>>
): Promise<AppointmentItem> {
	const { set, extra } = plan;
	const next = { ...a, ...set, version: a.version + 1 } as AppointmentItem;
	for (const k of remove) delete (next as Record<string, unknown>)[k];
	const notice = status ? patientNotice(ctx, next) : undefined;
	if (notice) extra.notices = notice.items;
	const aggregates = appointmentAggregates(ctx, a, next, plan.deltas);
	if (aggregates.length) extra.analytics = aggregates;

	const stamp = await versionedUpdate(ctx, caller, {
		table: 'appointments',
		pkName: 'id',
		id: a.id,
		expectedVersion: change.version,
		set,
		remove,
		resourceType: 'appointment',
		audit: { action: status ? `status_${status.toLowerCase()}` : set.priority ? 'triage' : 'update' },
		extra,
		...(changesFacts(change) && !status ? { guard: stillOpen('symptoms, priority and notes') } : {}),
		onFailed: (name) => {
			if (name === 'newSlot') return new AppError(409, 'SLOT_TAKEN', 'That slot was just taken.');
			if (name === 'onDuty') return new AppError(409, 'DOCTOR_OFF_DUTY', 'The doctor has just gone off duty; the appointment was not moved.');
			if (name === 'patientTime') return lostRace();
			if (name === 'servedEver' || name === 'servedWeek') {
				return new AppError(409, 'VERSION_CONFLICT', 'Another visit of this patient with this doctor was completed at the same moment. Please try again.');
			}
			return undefined;
		}
	}).catch(async (err) => {
		if (err instanceof AppError && err.code === 'VERSION_CONFLICT') forgetAppointment(ctx, a.id);
		if (err instanceof AppError && err.code === 'SLOT_TAKEN' && doctor && change.start) {
			throw await slotTaken(ctx, doctor, new Date(change.start).toISOString(), dateIn(ctx.config.timezone, new Date(change.start)));
		}
		throw err;
	});
	notice?.announce();
	return { ...next, ...stamp } as AppointmentItem;
}

/** After the commit: every screen that shows it, the closed record, lapsed care, and (a moment later) the queue's places. */
function afterChange(ctx: Ctx, caller: Caller, a: AppointmentItem, saved: AppointmentItem, status: AppointmentStatus | undefined, plan: ChangePlan): void {
	broadcastAppointment(ctx, saved, plan.previousDate);
	if (plan.extra.analytics) announceAnalytics(ctx, [saved.doctor_user_id]);
	if (plan.extra.closeRecord && a.medical_record_id) announceRecordClosed(ctx, caller, a.medical_record_id, saved.updated_at);
	if (status === 'CANCELLED') endLapsedCare(ctx, saved);
	const queueMoved = ['CHECKED_IN', 'CONSULTING', 'COMPLETED', 'CANCELLED'].includes(status ?? '') || (a.status === 'CHECKED_IN' && plan.set.priority !== undefined);
	if (queueMoved && saved.date === dateIn(ctx.config.timezone)) announceQueuePositions(ctx, saved);
}

export async function recordVitals(ctx: Ctx, caller: Caller, id: string, input: Vitals & { version: number }): Promise<AppointmentView> {
	const actor = requireActor(caller);
	const a = await getAppointmentForWrite(ctx, id, input.version);
	if (!a) throw notFound('This appointment');
	await authorize(ctx, caller, 'medical_record', 'write', { id, patientId: a.patient_id });
	if (actor.role === 'doctor' && actor.doctorId !== a.doctor_id) {
		await refuse(ctx, caller, 'medical_record', 'write', id, 'Only the treating doctor or a nurse records vitals here.');
	}
	// Vitals of a closed visit are never re-posted: a completed visit's are amended on its record.
	if (input.version !== a.version) throw conflictError('appointment', id, input.version, a);
	if (CLOSED_STATUSES.includes(a.status)) throw recordLocked(a, 'vitals');
	const { version, ...vitals } = input;
	const value = { ...vitals, recordedBy: actor.name, recordedAt: new Date().toISOString() };
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'appointments',
		pkName: 'id',
		id,
		expectedVersion: version,
		set: { vitals: value },
		resourceType: 'appointment',
		audit: { action: 'record_vitals', changedFields: Object.keys(vitals).map((k) => `vitals.${k}`) },
		guard: stillOpen('vitals')
	});
	const saved = { ...a, vitals: value, ...stamp } as AppointmentItem;
	broadcastAppointment(ctx, saved);
	return (await viewsFor(ctx, caller, [saved]))[0]!;
}

/**
 * After a cancellation or a missed mark: if it was the last thing putting the patient in this
 * doctor's care, the doctor's open screens stop hearing the patient's chart and chat.
 */
function endLapsedCare(ctx: Ctx, a: AppointmentItem) {
	void pairInCare(ctx, a.patient_id, a.doctor_id)
		.then((inCare) => {
			if (inCare) return;
			ctx.bus.leave(room.user(a.doctor_user_id), room.record('patient', a.patient_id));
			ctx.bus.leave(room.user(a.doctor_user_id), room.chat(conversationIdOf(a.patient_id, a.doctor_id)));
		})
		.catch((err: Error) => ctx.log.warn('lapsed care not applied to sockets', { error: err.name, appointmentId: a.id }));
}

/** After a completion commits: the record's new version reaches every open copy of it. */
function announceRecordClosed(ctx: Ctx, caller: Caller, recordId: string, at: string) {
	void getMedicalRecord(ctx, recordId)
		.then((r) => {
			if (!r) return;
			ctx.bus.emit(room.record('medical_record', recordId), 'record:updated', {
				type: 'medical_record',
				id: recordId,
				version: r.version,
				updatedBy: caller.actor?.name ?? 'MedTrack',
				updatedById: caller.actor?.id ?? 'system',
				updatedAt: at,
				changedFields: ['locked_at', 'vitals']
			});
		})
		.catch((err: Error) => ctx.log.warn('record close not announced', { error: err.name, recordId }));
}

/** Checked-in and in-consultation patients of a doctor's day: priority, then arrival. */
export async function doctorQueue(ctx: Ctx, doctorId: string, date: string): Promise<AppointmentItem[]> {
	const from = zonedToUtc(date, '00:00', ctx.config.timezone).toISOString();
	const to = zonedToUtc(addDays(date, 1), '00:00', ctx.config.timezone).toISOString();
	const all = await appointmentsOfDoctor(ctx, doctorId, from, to);
	return sortQueue(all.filter((a) => a.status === 'CHECKED_IN' || a.status === 'CONSULTING'));
}

/**
 * After a change that moves a doctor's queue (an arrival, a consultation starting or ending,
 * a cancellation, a new priority), each patient still waiting hears their new place. Runs
 * after the response and the change's own broadcast; a failure only costs the live update
 * (the page refetches on reconnect).
 */
function announceQueuePositions(ctx: Ctx, a: AppointmentItem) {
	// Secondary news: let the change's own broadcast go out first, then read the queue.
	setTimeout(() => {
		announceQueuePositionsNow(ctx, a).catch((err: Error) =>
			ctx.log.warn('queue positions not announced', { error: err.name, doctorId: a.doctor_id })
		);
	}, 25).unref();
}

/**
 * Announcements of one queue can overtake each other (each reads the queue on its own), so
 * each carries a number taken, atomically and across instances, *before* its read, and the
 * read is strongly consistent: an announcement numbered higher read the queue after every
 * change committed before it was numbered, and the highest number is the true queue.
 * Clients keep the highest number per appointment and ignore older places.
 */
async function announceQueuePositionsNow(ctx: Ctx, a: AppointmentItem): Promise<void> {
	const seq = await nextQueueSeq(ctx, a.doctor_id, a.date);
	const queue = await storedQueue(ctx, a.doctor_id, a.date, [a.id]);
	let position = 0;
	for (const x of queue) {
		if (x.status !== 'CHECKED_IN') continue;
		position++;
		if (x.patient_user_id) {
			ctx.bus.emit(room.user(x.patient_user_id), 'queue:position', { appointmentId: x.id, doctorId: x.doctor_id, position, seq });
		}
	}
}

/** A checked-in appointment's place among those waiting (not those in consultation), with the sequence it is as fresh as. */
async function queuePlaceOf(ctx: Ctx, a: AppointmentItem): Promise<{ position: number | undefined; seq: number }> {
	// Number first, then the read: the same order as an announcement, so the two compare.
	const seq = await currentQueueSeq(ctx, a.doctor_id, a.date);
	const waiting = (await storedQueue(ctx, a.doctor_id, a.date, [a.id])).filter((x) => x.status === 'CHECKED_IN');
	return { position: waiting.findIndex((x) => x.id === a.id) + 1 || undefined, seq };
}

/**
 * The doctor's day's queue as last written: the index names the day's appointments (it may
 * lag a write by a moment, so `include` adds the one just changed), then each is re-read
 * with a strongly consistent BatchGet, and only what is still that doctor's that day counts.
 */
async function storedQueue(ctx: Ctx, doctorId: string, date: string, include: string[]): Promise<AppointmentItem[]> {
	const from = zonedToUtc(date, '00:00', ctx.config.timezone).toISOString();
	const to = zonedToUtc(addDays(date, 1), '00:00', ctx.config.timezone).toISOString();
	const listed = await appointmentsOfDoctor(ctx, doctorId, from, to);
	const rows = await batchGetAppointments(ctx, [...new Set([...listed.map((x) => x.id), ...include])], { consistent: true });
	return sortQueue(rows.filter((x) => x.doctor_id === doctorId && x.date === date && (x.status === 'CHECKED_IN' || x.status === 'CONSULTING')));
}

/** In consultation first, then by priority, then by arrival. */
function sortQueue(items: AppointmentItem[]): AppointmentItem[] {
	return items.sort(
		(x, y) =>
			(x.status === 'CONSULTING' ? -1 : 0) - (y.status === 'CONSULTING' ? -1 : 0) ||
			PRIORITY_RANK[x.priority] - PRIORITY_RANK[y.priority] ||
			(x.checked_in_at ?? '').localeCompare(y.checked_in_at ?? '') ||
			x.id.localeCompare(y.id)
	);
}

async function assertSeesQueue(ctx: Ctx, caller: Caller, doctorId: string) {
	if (seesQueue(requireActor(caller), doctorId)) return;
	await refuse(ctx, caller, 'appointment', 'read', doctorId, 'This queue belongs to another doctor.');
}

export async function readQueue(ctx: Ctx, caller: Caller, doctorId: string, date?: string): Promise<AppointmentView[]> {
	await assertSeesQueue(ctx, caller, doctorId);
	const day = date ?? dateIn(ctx.config.timezone);
	const q = await doctorQueue(ctx, doctorId, day);
	let position = 0;
	const positions = new Map(q.map((a) => [a.id, a.status === 'CHECKED_IN' ? ++position : undefined]));
	return viewsFor(ctx, caller, q, (a) => positions.get(a.id));
}

export async function listAppointments(
	ctx: Ctx,
	caller: Caller,
	q: { patientId?: string; doctorId?: string; date?: string }
): Promise<AppointmentView[]> {
	const actor = requireActor(caller);
	const tz = ctx.config.timezone;
	let items: AppointmentItem[];
	if (q.patientId) {
		await authorize(ctx, caller, 'appointment', 'read', {
			// a doctor sees the patient's appointments with them only (filtered below)
			isOwn: (x) => (x.role === 'patient' ? x.patientId === q.patientId : true),
			hideExistence: deniedAsNotFound(actor.role)
		});
		if (actor.role === 'doctor') {
			items = (await appointmentsOfPatient(ctx, q.patientId)).filter((a) => a.doctor_id === actor.doctorId);
		} else items = await appointmentsOfPatient(ctx, q.patientId);
		if (q.date) items = items.filter((a) => a.date === q.date);
	} else if (q.doctorId) {
		await authorize(ctx, caller, 'appointment', 'read', {
			isOwn: (x) => x.role === 'doctor' && x.doctorId === q.doctorId
		});
		const date = q.date ?? dateIn(tz);
		items = await appointmentsOfDoctor(
			ctx,
			q.doctorId,
			zonedToUtc(date, '00:00', tz).toISOString(),
			zonedToUtc(addDays(date, 1), '00:00', tz).toISOString()
		);
	} else {
		const scope = await authorize(ctx, caller, 'appointment', 'read');
		if (scope !== 'all') {
			await refuse(ctx, caller, 'appointment', 'read', undefined, 'Name a patientId or doctorId you may see.');
		}
		items = await appointmentsOnDate(ctx, q.date ?? dateIn(tz));
	}
	return viewsFor(ctx, caller, items.sort((x, y) => x.start.localeCompare(y.start)));
}


/** Who the audit log names for the worker's own changes. */
const SCHEDULER_SUBJECT = { id: 'system', email: 'medtrack-worker', role: 'system' };

/**
 * The worker's sweep: an appointment still PENDING, CONFIRMED or RESCHEDULED well past its
 * time becomes MISSED, through the same versioned write, patient notice and broadcast as any
 * other change. Returns undefined when it is no longer missable (changed meanwhile: a
 * VERSION_CONFLICT is left to the caller, which reads it again next sweep).
 */
export async function markMissed(ctx: Ctx, caller: Caller, a: AppointmentItem): Promise<AppointmentItem | undefined> {
	if (!canBecomeMissed(a.status)) return undefined;
	const missedAt = new Date().toISOString();
	const next = { ...a, status: 'MISSED' as AppointmentStatus, missed_at: missedAt, version: a.version + 1 } as AppointmentItem;
	const notice = patientNotice(ctx, next);
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'appointments',
		pkName: 'id',
		id: a.id,
		expectedVersion: a.version,
		set: { status: 'MISSED', missed_at: missedAt },
		resourceType: 'appointment',
		audit: { action: 'status_missed', subject: SCHEDULER_SUBJECT },
		extra: { notices: notice.items, analytics: appointmentAggregates(ctx, a, next) }
	});
	const saved = { ...next, ...stamp } as AppointmentItem;
	notice.announce();
	broadcastAppointment(ctx, saved);
	announceAnalytics(ctx, [saved.doctor_user_id]);
	endLapsedCare(ctx, saved);
	return saved;
}
