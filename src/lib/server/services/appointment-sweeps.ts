import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError } from '../errors';
import { transactNamed } from '../db/transaction';
import { announce, notificationPut } from './notifications';
import { outboxPut } from './outbox';
import { markMissed } from './appointments';
import { getPatient } from '../repositories/patients';
import { appointmentsByStatus, reminderClaimUpdate, type AppointmentItem } from '../repositories/appointments';
import type { AppointmentStatus } from '$lib/shared/appointments';
import { dateIn } from '$lib/shared/time';

/**
 * The worker's appointment sweeps. Both are safe to run in several processes at once and
 * again at any time: each appointment is claimed by a conditional write before anything is
 * sent, so a crash or a second worker never sends twice and never skips one.
 */
const WAITING: AppointmentStatus[] = ['PENDING', 'CONFIRMED', 'RESCHEDULED'];
const HOUR = 3_600_000;

export type SweepOptions = { now?: number; signal?: AbortSignal; concurrency?: number; workerId?: string };

/** Runs `work` over `items` with a few lanes in parallel, stopping early when aborted. */
async function inLanes<T>(items: T[], lanes: number, signal: AbortSignal | undefined, work: (item: T) => Promise<void>) {
	const queue = [...items];
	await Promise.all(
		Array.from({ length: Math.min(lanes, queue.length) }, async () => {
			while (queue.length && !signal?.aborted) await work(queue.shift()!);
		})
	);
}

/** Fisher–Yates: two workers sweeping the same list start at different places and collide less. */
function shuffled<T>(xs: T[]): T[] {
	const out = [...xs];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

/** Appointments in a waiting status on hospital dates [from, to], one index query per status. */
async function waitingBetween(ctx: Ctx, fromDate: string, toDate: string): Promise<AppointmentItem[]> {
	return (await Promise.all(WAITING.map((s) => appointmentsByStatus(ctx, s, fromDate, toDate)))).flat();
}

function reminderText(ctx: Ctx, a: AppointmentItem) {
	const when = new Intl.DateTimeFormat('en-GB', { timeZone: ctx.config.timezone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' }).format(
		new Date(a.start)
	);
	return { title: 'Appointment tomorrow', body: `Reminder: your appointment with ${a.doctor_name} is on ${when}.` };
}

export type ReminderReport = { due: number; sent: number; alreadySent: number; failed: number };

/**
 * The 24-hour reminder: every waiting appointment starting 24–25 hours from now gets one
 * in-app notification and one SMS (outbox row). The claim, a conditional
 * `attribute_not_exists(reminder_sent_at)` update that does not bump the version (it is
 * bookkeeping, not an edit), commits in the same transaction as the notification and the
 * outbox row: either all three exist or none does.
 */
export async function sendDueReminders(ctx: Ctx, opts: SweepOptions = {}): Promise<ReminderReport> {
	const now = opts.now ?? Date.now();
	const from = new Date(now + 24 * HOUR).toISOString();
	const to = new Date(now + 25 * HOUR).toISOString();
	const tz = ctx.config.timezone;
	const candidates = (await waitingBetween(ctx, dateIn(tz, new Date(from)), dateIn(tz, new Date(to)))).filter(
		(a) => a.start >= from && a.start < to && !a.reminder_sent_at
	);
	const report: ReminderReport = { due: candidates.length, sent: 0, alreadySent: 0, failed: 0 };

	await inLanes(shuffled(candidates), opts.concurrency ?? 8, opts.signal, async (a) => {
		const msg = reminderText(ctx, a);
		let notice: ReturnType<typeof notificationPut> | undefined;
		let sms: ReturnType<typeof outboxPut> | undefined;
		if (a.patient_user_id) {
			notice = notificationPut(ctx, a.patient_user_id, { kind: 'appointment_reminder', ...msg, relatedType: 'appointment', relatedId: a.id });
			// The phone number is read at delivery, so a number changed meanwhile is the one used.
			sms = outboxPut(ctx, { kind: 'appointment_reminder', channel: 'sms', userId: a.patient_user_id, relatedId: a.id, body: `MedTrack: ${msg.body}` });
		} else {
			const patient = await getPatient(ctx, a.patient_id);
			if (patient?.phone) {
				sms = outboxPut(ctx, { kind: 'appointment_reminder', channel: 'sms', recipient: patient.phone, userId: `patient#${a.patient_id}`, relatedId: a.id, body: `MedTrack: ${msg.body}` });
			}
		}
		let outcome;
		try {
			outcome = await transactNamed(ctx, {
				claim: reminderClaimUpdate(ctx, a, { outboxId: sms?.Put.Item.id ?? '-', by: opts.workerId ?? 'unknown', at: new Date().toISOString() }),
				notice: notice?.item,
				sms
			});
		} catch (err) {
			report.failed++;
			ctx.log.warn('reminders: could not claim an appointment', { appointmentId: a.id, error: (err as Error).name });
			return;
		}
		if (!outcome.ok) {
			if (outcome.failed === 'claim') {
				// Another worker (or an earlier run) sent it, or the appointment moved or ended.
				report.alreadySent++;
			} else {
				report.failed++;
				ctx.log.warn('reminders: could not claim an appointment', { appointmentId: a.id, error: `ConditionFailed:${outcome.failed}` });
			}
			return;
		}
		report.sent++;
		if (notice && a.patient_user_id) announce(ctx, a.patient_user_id, notice.event);
	});
	return report;
}

export type MissedReport = { overdue: number; marked: number; changedMeanwhile: number; failed: number };

/** Waiting appointments more than MISSED_GRACE_HOURS past their start become MISSED. */
export async function markOverdueAsMissed(ctx: Ctx, caller: Caller, opts: SweepOptions = {}): Promise<MissedReport> {
	const now = opts.now ?? Date.now();
	const cutoff = new Date(now - ctx.config.scheduler.missedGraceMs).toISOString();
	const overdue = (await waitingBetween(ctx, '0000-01-01', dateIn(ctx.config.timezone, new Date(cutoff)))).filter((a) => a.start <= cutoff);
	const report: MissedReport = { overdue: overdue.length, marked: 0, changedMeanwhile: 0, failed: 0 };
	await inLanes(overdue, opts.concurrency ?? 4, opts.signal, async (a) => {
		try {
			if (await markMissed(ctx, caller, a)) report.marked++;
			else report.changedMeanwhile++;
		} catch (err) {
			if (err instanceof AppError && (err.code === 'VERSION_CONFLICT' || err.code === 'NOT_FOUND')) {
				report.changedMeanwhile++;
				return;
			}
			report.failed++;
			ctx.log.warn('missed: could not mark an appointment', { appointmentId: a.id, error: (err as Error).name });
		}
	});
	return report;
}
