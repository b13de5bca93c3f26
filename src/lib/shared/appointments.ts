import { z } from 'zod';
import { id, version } from './schemas';

export const STATUSES = [
	'PENDING',
	'CONFIRMED',
	'RESCHEDULED',
	'CHECKED_IN',
	'CONSULTING',
	'COMPLETED',
	'CANCELLED',
	'MISSED'
] as const;
export type AppointmentStatus = (typeof STATUSES)[number];

export const PRIORITIES = ['normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2 };

/** The status machine (SPEC §3). Anything not listed is an INVALID_TRANSITION. */
export const TRANSITIONS: Record<AppointmentStatus, AppointmentStatus[]> = {
	PENDING: ['CONFIRMED', 'CHECKED_IN', 'CANCELLED', 'RESCHEDULED', 'MISSED'],
	CONFIRMED: ['CHECKED_IN', 'CANCELLED', 'RESCHEDULED', 'MISSED'],
	RESCHEDULED: ['CONFIRMED', 'CHECKED_IN', 'CANCELLED', 'RESCHEDULED', 'MISSED'],
	CHECKED_IN: ['CONSULTING', 'CANCELLED'],
	CONSULTING: ['COMPLETED'],
	COMPLETED: [],
	CANCELLED: [],
	MISSED: []
};

/** Statuses that still hold their slot. */
export const ACTIVE_STATUSES: AppointmentStatus[] = ['PENDING', 'CONFIRMED', 'RESCHEDULED', 'CHECKED_IN', 'CONSULTING'];

export const STATUS_LABEL: Record<AppointmentStatus, string> = {
	PENDING: 'Pending',
	CONFIRMED: 'Confirmed',
	RESCHEDULED: 'Rescheduled',
	CHECKED_IN: 'Checked in',
	CONSULTING: 'In consultation',
	COMPLETED: 'Completed',
	CANCELLED: 'Cancelled',
	MISSED: 'Missed'
};

const isoInstant = z
	.string()
	.datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset, e.g. 2026-11-24T09:00:00+00:00' });
const text = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`);

export const bookingSchema = z
	.object({
		doctorId: id,
		start: isoInstant,
		symptoms: text(2000).min(3, 'describe the symptoms in a few words'),
		priority: z.enum(PRIORITIES).default('normal'),
		/** Front desk books for a patient; a patient books for themself. */
		patientId: id.optional()
	})
	.strict();

export const appointmentPatchSchema = z
	.object({
		version,
		status: z.enum(STATUSES).optional(),
		start: isoInstant.optional(),
		priority: z.enum(PRIORITIES).optional(),
		symptoms: text(2000).optional(),
		notes: text(4000).optional(),
		reason: text(500).optional(),
		/** A patient asks for another time; front desk decides. */
		rescheduleRequest: z.object({ preferredStart: isoInstant.optional(), note: text(500) }).strict().optional()
	})
	.strict()
	.refine((p) => Object.keys(p).some((k) => k !== 'version'), { message: 'name something to change' });

export const vitalsSchema = z
	.object({
		version,
		temperatureC: z.number().min(30).max(45).optional(),
		pulseBpm: z.number().int().min(20).max(250).optional(),
		systolic: z.number().int().min(50).max(260).optional(),
		diastolic: z.number().int().min(30).max(160).optional(),
		spo2: z.number().int().min(50).max(100).optional(),
		weightKg: z.number().min(0.3).max(400).optional()
	})
	.strict()
	.refine((v) => Object.keys(v).some((k) => k !== 'version'), { message: 'record at least one vital sign' });
export type Vitals = Omit<z.infer<typeof vitalsSchema>, 'version'>;

export const prescriptionSchema = z
	.object({
		medicine: text(120).min(2),
		dosage: text(60).min(1),
		frequency: text(60).min(1),
		days: z.number().int().min(1).max(365)
	})
	.strict();

export const medicalRecordPatchSchema = z
	.object({
		version,
		symptoms: text(4000).optional(),
		diagnosis: text(4000).optional(),
		treatment: text(4000).optional(),
		notes: text(8000).optional(),
		prescriptions: z.array(prescriptionSchema).max(30).optional()
	})
	.strict()
	.refine((v) => Object.keys(v).some((k) => k !== 'version'), { message: 'name something to change' });

export type AppointmentView = {
	id: string;
	version: number;
	patientId: string;
	patientName: string;
	doctorId: string;
	doctorName: string;
	specialization: string;
	start: string;
	end: string;
	date: string;
	status: AppointmentStatus;
	priority: Priority;
	symptoms: string;
	notes?: string;
	checkedInAt?: string;
	consultationStartedAt?: string;
	completedAt?: string;
	cancelReason?: string;
	rescheduleRequest?: { preferredStart?: string; note: string; at: string };
	vitals?: Vitals & { recordedBy: string; recordedAt: string };
	medicalRecordId?: string;
	queuePosition?: number;
	/**
	 * With `queuePosition` (GET /api/appointments/:id): the queue's announcement sequence the
	 * place is as fresh as. Compare with `queue:position`'s `seq`: the higher one wins.
	 */
	queueSeq?: number;
	updatedAt: string;
	updatedBy: string;
};
