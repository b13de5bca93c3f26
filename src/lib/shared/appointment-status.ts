/**
 * The appointment status machine (SPEC §3) as one pure function, used by the server's
 * `changeAppointment` and by the browser to offer only the moves the server would accept.
 *
 *   PENDING → CONFIRMED → CHECKED_IN → CONSULTING → COMPLETED, plus CANCELLED, RESCHEDULED
 *   (a new time, same appointment) and MISSED (set by the worker, never through this path).
 *
 * Which statuses exist and which follow which is `TRANSITIONS` ($lib/shared/appointments);
 * which role may set which is `ROLE_STATUSES` ($lib/shared/policy). This adds the order the
 * checks are made in, the no-op, the check-in day, and the answers.
 */
import { STATUS_LABEL, TRANSITIONS, type AppointmentStatus } from './appointments';
import { maySetStatus } from './policy';
import type { Role } from './roles';

export type TransitionContext = {
	/** The change moves the appointment to a new time (a move is always RESCHEDULED). */
	moving?: boolean;
	/** The appointment's day and today's, both YYYY-MM-DD in the hospital's zone: check-in is on the day only. */
	date?: string;
	today?: string;
};

/**
 * Refusals: `role` (403, audited: this role never sets that status), `transition` (409
 * INVALID_TRANSITION: not from this status) and `day` (409 INVALID_TRANSITION: check-in on
 * another day than the appointment's).
 */
export type TransitionRefusal = {
	ok: false;
	kind: 'role' | 'transition' | 'day';
	status: 403 | 409;
	code: 'FORBIDDEN' | 'INVALID_TRANSITION';
	message: string;
	details?: { currentStatus: AppointmentStatus; requested: AppointmentStatus; allowed?: AppointmentStatus[] };
};
/** `change: false` when the request leaves the status as it is (the same status, not a move). */
export type TransitionVerdict = { ok: true; change: boolean } | TransitionRefusal;

const roleWords = (role: Role) => role.replace('_', ' ');

/** Whether `role` may take an appointment from `from` to `to` now, and if not, why. */
export function appointmentTransition(from: AppointmentStatus, to: AppointmentStatus, role: Role, context: TransitionContext = {}): TransitionVerdict {
	if (to === from && !context.moving) return { ok: true, change: false };
	if (!maySetStatus(role, to)) {
		return { ok: false, kind: 'role', status: 403, code: 'FORBIDDEN', message: `A ${roleWords(role)} cannot set an appointment to ${STATUS_LABEL[to]}.` };
	}
	if (!TRANSITIONS[from].includes(to)) {
		return {
			ok: false,
			kind: 'transition',
			status: 409,
			code: 'INVALID_TRANSITION',
			message: `This appointment is ${STATUS_LABEL[from]}; it cannot become ${STATUS_LABEL[to]}.`,
			details: { currentStatus: from, requested: to, allowed: TRANSITIONS[from] }
		};
	}
	if (to === 'CHECKED_IN' && context.date && context.today && context.date !== context.today) {
		return {
			ok: false,
			kind: 'day',
			status: 409,
			code: 'INVALID_TRANSITION',
			message: `Patients check in on the day of their appointment (${context.date}); today is ${context.today}.`,
			details: { currentStatus: from, requested: to }
		};
	}
	return { ok: true, change: true };
}

/** The statuses `role` can move an appointment in `from` to (a move counts as RESCHEDULED), in machine order. */
export function nextStatuses(from: AppointmentStatus, role: Role, context: Omit<TransitionContext, 'moving'> = {}): AppointmentStatus[] {
	return TRANSITIONS[from].filter((to) => {
		const v = appointmentTransition(from, to, role, { ...context, moving: to === 'RESCHEDULED' });
		return v.ok && v.change;
	});
}

/** The appointment can still be moved to another time (a patient may ask for one). */
export const canStillMove = (from: AppointmentStatus) => TRANSITIONS[from].includes('RESCHEDULED');

/** The worker may still mark the appointment MISSED (not attended, not already closed). */
export const canBecomeMissed = (from: AppointmentStatus) => TRANSITIONS[from].includes('MISSED');
