import { describe, expect, it } from 'vitest';
import { appointmentTransition, canBecomeMissed, canStillMove, nextStatuses } from './appointment-status';
import { STATUSES, type AppointmentStatus } from './appointments';
import { ROLES, type Role } from './roles';

/**
 * Every (from, to, role) the machine allows, written out by hand (not derived from the data it
 * checks): SPEC §3's flow with the roles of SPEC §2. RESCHEDULED means a move (a new time).
 */
const ALLOWED: [from: AppointmentStatus, to: AppointmentStatus, roles: Role[]][] = [
	['PENDING', 'CONFIRMED', ['doctor', 'front_desk']],
	['PENDING', 'CHECKED_IN', ['nurse', 'front_desk']],
	['PENDING', 'CANCELLED', ['patient', 'doctor', 'front_desk']],
	['PENDING', 'RESCHEDULED', ['doctor', 'front_desk']],
	['CONFIRMED', 'CHECKED_IN', ['nurse', 'front_desk']],
	['CONFIRMED', 'CANCELLED', ['patient', 'doctor', 'front_desk']],
	['CONFIRMED', 'RESCHEDULED', ['doctor', 'front_desk']],
	['RESCHEDULED', 'CONFIRMED', ['doctor', 'front_desk']],
	['RESCHEDULED', 'CHECKED_IN', ['nurse', 'front_desk']],
	['RESCHEDULED', 'CANCELLED', ['patient', 'doctor', 'front_desk']],
	['RESCHEDULED', 'RESCHEDULED', ['doctor', 'front_desk']],
	['CHECKED_IN', 'CONSULTING', ['doctor']],
	['CHECKED_IN', 'CANCELLED', ['patient', 'doctor', 'front_desk']],
	['CONSULTING', 'COMPLETED', ['doctor']]
];
const allowedPairs = ALLOWED.flatMap(([from, to, roles]) => roles.map((role) => [from, to, role] as const));
const isAllowed = (from: AppointmentStatus, to: AppointmentStatus, role: Role) =>
	allowedPairs.some(([f, t, r]) => f === from && t === to && r === role);

const TODAY = '2027-03-14';
const on = (date: string, moving = false) => ({ date, today: TODAY, moving });

describe('appointmentTransition: what the machine allows', () => {
	it.each(allowedPairs)('%s → %s by %s', (from, to, role) => {
		expect(appointmentTransition(from, to, role, on(TODAY, to === 'RESCHEDULED'))).toEqual({ ok: true, change: true });
	});

	it('holds 30 allowed moves, and refuses every other of the 8 × 8 × 8 (from, to, role)', () => {
		expect(allowedPairs).toHaveLength(30);
		let refused = 0;
		for (const from of STATUSES) {
			for (const to of STATUSES) {
				if (to === from && to !== 'RESCHEDULED') continue; // the same status again is no change (below)
				for (const role of ROLES) {
					const v = appointmentTransition(from, to, role, on(TODAY, to === 'RESCHEDULED'));
					expect(v.ok, `${from} → ${to} by ${role}`).toBe(isAllowed(from, to, role));
					if (!v.ok) refused++;
				}
			}
		}
		expect(refused).toBe(7 * 8 * 8 + 8 - 30);
	});

	it('nobody sets MISSED: the worker does, through canBecomeMissed', () => {
		for (const from of STATUSES.filter((s) => s !== 'MISSED')) for (const role of ROLES) expect(appointmentTransition(from, 'MISSED', role).ok).toBe(false);
		expect(STATUSES.filter(canBecomeMissed)).toEqual(['PENDING', 'CONFIRMED', 'RESCHEDULED']);
	});
});

describe('appointmentTransition: the refusals', () => {
	it.each([
		['CONFIRMED', 'CANCELLED', 'nurse', 'A nurse cannot set an appointment to Cancelled.'],
		['CONFIRMED', 'CHECKED_IN', 'patient', 'A patient cannot set an appointment to Checked in.'],
		['CHECKED_IN', 'CONSULTING', 'front_desk', 'A front desk cannot set an appointment to In consultation.'],
		['CONSULTING', 'COMPLETED', 'super_admin', 'A super admin cannot set an appointment to Completed.'],
		['PENDING', 'CONFIRMED', 'admin', 'A admin cannot set an appointment to Confirmed.'],
		['PENDING', 'CANCELLED', 'pharmacist', 'A pharmacist cannot set an appointment to Cancelled.'],
		['PENDING', 'CHECKED_IN', 'paramedic', 'A paramedic cannot set an appointment to Checked in.']
	] as const)('%s → %s by %s: 403, the role never sets it', (from, to, role, message) => {
		expect(appointmentTransition(from, to, role, on(TODAY))).toEqual({ ok: false, kind: 'role', status: 403, code: 'FORBIDDEN', message });
	});

	it.each([
		['COMPLETED', 'CONFIRMED', 'doctor', []],
		['CANCELLED', 'CHECKED_IN', 'front_desk', []],
		['MISSED', 'RESCHEDULED', 'front_desk', []],
		['CONSULTING', 'CANCELLED', 'doctor', ['COMPLETED']],
		['CHECKED_IN', 'CONFIRMED', 'front_desk', ['CONSULTING', 'CANCELLED']],
		['PENDING', 'COMPLETED', 'doctor', ['CONFIRMED', 'CHECKED_IN', 'CANCELLED', 'RESCHEDULED', 'MISSED']],
		['CHECKED_IN', 'RESCHEDULED', 'doctor', ['CONSULTING', 'CANCELLED']]
	] as const)('%s → %s by %s: 409 INVALID_TRANSITION, naming what may follow', (from, to, role, allowed) => {
		const v = appointmentTransition(from, to, role, on(TODAY, to === 'RESCHEDULED'));
		expect(v).toMatchObject({ ok: false, kind: 'transition', status: 409, code: 'INVALID_TRANSITION', details: { currentStatus: from, requested: to, allowed } });
		expect(!v.ok && v.message).toMatch(/^This appointment is .+; it cannot become .+\.$/);
	});

	it('the role is answered before the machine (a patient asking to confirm a completed visit is 403, not 409)', () => {
		expect(appointmentTransition('COMPLETED', 'CONFIRMED', 'patient')).toMatchObject({ kind: 'role', status: 403 });
	});

	it('check-in is on the appointment’s day only; the machine is answered first', () => {
		expect(appointmentTransition('CONFIRMED', 'CHECKED_IN', 'nurse', on('2027-03-15'))).toEqual({
			ok: false,
			kind: 'day',
			status: 409,
			code: 'INVALID_TRANSITION',
			message: 'Patients check in on the day of their appointment (2027-03-15); today is 2027-03-14.',
			details: { currentStatus: 'CONFIRMED', requested: 'CHECKED_IN' }
		});
		expect(appointmentTransition('CONFIRMED', 'CHECKED_IN', 'front_desk', on('2027-03-13')).ok).toBe(false);
		expect(appointmentTransition('COMPLETED', 'CHECKED_IN', 'nurse', on('2027-03-15'))).toMatchObject({ kind: 'transition' });
		// Without both days known, the day is not judged (the server always knows both).
		expect(appointmentTransition('CONFIRMED', 'CHECKED_IN', 'nurse', { date: '2027-03-15' })).toEqual({ ok: true, change: true });
		// Other statuses do not care about the day: a move or a cancellation of tomorrow's visit.
		expect(appointmentTransition('CONFIRMED', 'CANCELLED', 'patient', on('2027-03-15')).ok).toBe(true);
	});

	it('the same status again is no change, for anyone; the same RESCHEDULED with a new time is a move', () => {
		for (const s of STATUSES) for (const role of ROLES) expect(appointmentTransition(s, s, role)).toEqual({ ok: true, change: false });
		expect(appointmentTransition('RESCHEDULED', 'RESCHEDULED', 'front_desk', { moving: true })).toEqual({ ok: true, change: true });
		expect(appointmentTransition('RESCHEDULED', 'RESCHEDULED', 'patient', { moving: true })).toMatchObject({ kind: 'role' });
		expect(appointmentTransition('COMPLETED', 'COMPLETED', 'doctor', { moving: true })).toMatchObject({ ok: false });
	});
});

describe('nextStatuses and canStillMove', () => {
	it.each([
		['PENDING', 'front_desk', ['CONFIRMED', 'CHECKED_IN', 'CANCELLED', 'RESCHEDULED']],
		['PENDING', 'doctor', ['CONFIRMED', 'CANCELLED', 'RESCHEDULED']],
		['CONFIRMED', 'nurse', ['CHECKED_IN']],
		['RESCHEDULED', 'patient', ['CANCELLED']],
		['CHECKED_IN', 'doctor', ['CONSULTING', 'CANCELLED']],
		['CONSULTING', 'doctor', ['COMPLETED']],
		['CONSULTING', 'front_desk', []],
		['COMPLETED', 'doctor', []],
		['PENDING', 'admin', []]
	] as const)('from %s, a %s may choose %j', (from, role, expected) => {
		expect(nextStatuses(from, role, { date: TODAY, today: TODAY })).toEqual(expected);
	});

	it('not on another day: no check-in offered', () => {
		expect(nextStatuses('CONFIRMED', 'front_desk', on('2027-03-15'))).toEqual(['CANCELLED', 'RESCHEDULED']);
	});

	it('only an appointment still ahead can move', () => {
		expect(STATUSES.filter(canStillMove)).toEqual(['PENDING', 'CONFIRMED', 'RESCHEDULED']);
	});
});
