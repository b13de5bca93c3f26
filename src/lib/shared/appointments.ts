import { z } from 'zod';
import { id, version } from './schemas';
import { lineText, multilineText } from './text';

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
/** Statuses after which the visit's facts (symptoms, priority, vitals, record) are closed. */
export const CLOSED_STATUSES: AppointmentStatus[] = ['COMPLETED', 'CANCELLED', 'MISSED'];

export const bookingSchema = z
	.object({
		doctorId: id,
		start: isoInstant,
		symptoms: multilineText(2000, 3, 'describe the symptoms in a few words'),
		/**
		 * How urgent the patient (or the front desk, for them) thinks it is. Kept as reported;
		 * the queue orders by `priority`, which staff set at triage.
		 */
		reportedUrgency: z.enum(PRIORITIES).default('normal'),
		/** Front desk or an admin books for a patient; a patient books for themself; a doctor books a follow-up. */
		patientId: id.optional()
	})
	.strict();

export const appointmentPatchSchema = z
	.object({
		version,
		status: z.enum(STATUSES).optional(),
		start: isoInstant.optional(),
		/** Triage: set by a nurse or the treating doctor. */
		priority: z.enum(PRIORITIES).optional(),
		symptoms: multilineText(2000).optional(),
		notes: multilineText(4000).optional(),
		reason: lineText(500).optional(),
		/** A patient asks for another time; front desk decides. */
		rescheduleRequest: z.object({ preferredStart: isoInstant.optional(), note: lineText(500) }).strict().optional()
	})
	.strict()
	.refine((p) => Object.keys(p).some((k) => k !== 'version'), { message: 'name something to change' });

const vitalsFields = {
	temperatureC: z.number().min(30).max(45).optional(),
	pulseBpm: z.number().int().min(20).max(250).optional(),
	systolic: z.number().int().min(50).max(260).optional(),
	diastolic: z.number().int().min(30).max(160).optional(),
	spo2: z.number().int().min(50).max(100).optional(),
	weightKg: z.number().min(0.3).max(400).optional()
};
const someVital = (v: Record<string, unknown>) => Object.keys(v).some((k) => k !== 'version' && v[k] !== undefined);

/** Blood pressure is a pair: both numbers or neither, systolic above diastolic. */
const pressurePair = (v: { systolic?: number; diastolic?: number }, ctx: z.RefinementCtx) => {
	if ((v.systolic === undefined) !== (v.diastolic === undefined)) {
		ctx.addIssue({ code: 'custom', path: [v.systolic === undefined ? 'systolic' : 'diastolic'], message: 'blood pressure needs both systolic and diastolic' });
	} else if (v.systolic !== undefined && v.diastolic !== undefined && v.systolic <= v.diastolic) {
		ctx.addIssue({ code: 'custom', path: ['systolic'], message: 'must be higher than diastolic' });
	}
};

export const vitalsSchema = z
	.object({ version, ...vitalsFields })
	.strict()
	.refine(someVital, { message: 'record at least one vital sign' })
	.superRefine(pressurePair);
export type Vitals = Omit<z.infer<typeof vitalsSchema>, 'version'>;
export const VITAL_FIELDS = Object.keys(vitalsFields) as (keyof Vitals)[];

export const prescriptionSchema = z
	.object({
		medicine: lineText(120, 2),
		dosage: lineText(60, 1),
		frequency: lineText(60, 1),
		days: z.number().int().min(1).max(365)
	})
	.strict();

const recordFields = {
	symptoms: multilineText(4000).optional(),
	diagnosis: multilineText(4000).optional(),
	treatment: multilineText(4000).optional(),
	notes: multilineText(8000).optional(),
	prescriptions: z.array(prescriptionSchema).max(30).optional()
};
/** The fields of a visit record a doctor writes; amendments may also correct its vitals. */
export const RECORD_FIELDS = ['symptoms', 'diagnosis', 'treatment', 'notes', 'prescriptions'] as const;
export type RecordField = (typeof RECORD_FIELDS)[number];

/**
 * Prescribing a medicine that matches a recorded allergy is refused with 409
 * ALLERGY_WARNING until the prescriber confirms it with `acknowledgeAllergies: true`.
 */
const acknowledgeAllergies = z.boolean().optional();

export const medicalRecordPatchSchema = z
	.object({ version, ...recordFields, acknowledgeAllergies })
	.strict()
	.refine((v) => RECORD_FIELDS.some((k) => v[k] !== undefined), { message: 'name something to change' });

/** A change to a completed visit's record: the previous values stay readable beside it. */
export const amendmentSchema = z
	.object({
		version,
		reason: lineText(500, 10, 'say why the record is amended, in at least 10 characters'),
		changes: z
			.object({ ...recordFields, vitals: z.object(vitalsFields).strict().refine(someVital, { message: 'correct at least one vital sign' }).optional() })
			.strict()
			.refine((c) => Object.values(c).some((v) => v !== undefined), { message: 'name at least one field to amend' }),
		acknowledgeAllergies
	})
	.strict();
export type Amendment = z.infer<typeof amendmentSchema>;

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
	/** Triage set by staff; the queue orders by it. */
	priority: Priority;
	/** What the patient reported when booking. */
	reportedUrgency: Priority;
	/**
	 * Clinical fields are present only for a caller who may read this patient's clinical
	 * data (their own, in care, emergency access, or an administrator); otherwise the view
	 * holds names and times only and `clinical` is false.
	 */
	clinical: boolean;
	symptoms?: string;
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
