import type { Role } from './roles';
import type { Vitals } from './appointments';
import type { PrescriptionStatusView } from './pharmacy';

/**
 * The shapes the API answers with, shared by the server (which builds them) and the browser
 * (which shows them): one definition each.
 */

export type PublicUser = {
	id: string;
	email: string;
	name: string;
	role: Role;
	patientId?: string;
	doctorId?: string;
	/** The hospital a staff member works at. */
	hospitalId?: string;
};

/** An account as `/api/me` and `/api/admin/users` return it (never the password hash). */
export type UserView = PublicUser & {
	version: number;
	active: boolean;
	phone?: string;
	department?: string;
	lastLogin?: string;
	notifyEmail: boolean;
	createdAt: string;
	updatedAt: string;
	updatedBy: string;
};

/** One entry of the audit log (SPEC §5), as stored and as `/api/audit-logs` returns it. */
export type AuditEntry = {
	log_id: string;
	user: string;
	user_id: string;
	role: string;
	action: string;
	resource_type: string;
	resource_id: string;
	/** `<resource_type>#<resource_id>`, the key of the resource index. */
	resource_key: string;
	timestamp: string;
	/** Calendar day (UTC) of `timestamp`, the key of the by-date index. */
	log_date: string;
	ip_hash: string;
	request_id: string;
	outcome: 'success' | 'denied' | 'failure';
	changed_fields: string[];
	/** The stated reason, for actions that require one (emergency access). */
	reason?: string;
};

export type DoctorStatus = 'available' | 'busy' | 'off';
export type WeeklySlot = { day: number; start: string; end: string };
export type DoctorView = {
	id: string;
	version: number;
	userId: string;
	name: string;
	specialization: string;
	licenceNumber: string;
	status: DoctorStatus;
	slotMinutes: number;
	weekly: WeeklySlot[];
	updatedAt: string;
	updatedBy: string;
	/** With `?date=`: free slots that day. */
	freeSlots?: number;
};
export type Slot = { start: string; end: string };

export type Prescription = { medicine: string; dosage: string; frequency: string; days: number };
export type RecordedVitals = Vitals & { recordedBy: string; recordedAt: string };
export type MedicalRecordView = {
	id: string;
	version: number;
	appointmentId: string;
	patientId: string;
	doctorId: string;
	doctorName: string;
	date: string;
	symptoms?: string;
	diagnosis?: string;
	treatment?: string;
	notes?: string;
	prescriptions: Prescription[];
	/** How far each prescription got at the pharmacy (pending, dispensed, withdrawn). */
	prescriptionStatus?: PrescriptionStatusView[];
	vitals?: RecordedVitals;
	/** Closed when its visit completed: changes since are amendments. */
	locked: boolean;
	lockedAt?: string;
	/** Oldest first; `previous` holds each changed field's value before that amendment. */
	amendments: AmendmentView[];
	updatedAt: string;
	updatedBy: string;
};

export type AmendmentView = {
	at: string;
	by: string;
	byName: string;
	reason: string;
	previous: Record<string, unknown>;
};

export type InvoiceView = {
	id: string;
	version: number;
	patientId: string;
	appointmentId: string;
	doctorName: string;
	date: string;
	items: { serviceId: string; name: string; priceCents: number }[];
	totalCents: number;
	currency: string;
	status: 'paid' | 'unpaid';
	createdAt: string;
};

/** Outbox rows (SMS/e-mail waiting for, or done with, delivery) as admins see them. */
export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'logged', 'dead', 'skipped'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];
export type OutboxEntryView = {
	id: string;
	kind: string;
	channel: 'sms' | 'email';
	/** Masked; null when the worker reads the user's current contact at delivery. */
	recipient: string | null;
	userId: string;
	relatedId: string | null;
	status: OutboxStatus;
	attempts: number;
	lastError: string | null;
	subject: string | null;
	body: string;
	createdAt: string;
	nextAttemptAt: string | null;
	sentAt: string | null;
};
