import { z } from 'zod';
import { id, isoDate } from './schemas';
import { lineText } from './text';
import type { Allergy } from './allergies';

/**
 * The pharmacy's shapes, shared by the API (which parses and builds them) and the pages.
 * Medicines have batches; stock is counted per batch and, as `onHand`, per medicine.
 */
export const MEDICINE_FORMS = ['tablet', 'capsule', 'syrup', 'injection', 'infusion', 'inhaler', 'cream', 'drops', 'patch', 'other'] as const;
export type MedicineForm = (typeof MEDICINE_FORMS)[number];

/** Days before a batch's expiry at which the pharmacists are told, once each. */
export const EXPIRY_THRESHOLDS = [30, 15, 7, 3, 1] as const;

const quantity = z.number({ message: 'must be a whole number' }).int('must be a whole number').positive('must be at least 1').max(1_000_000);

export const medicineCreateSchema = z
	.object({
		name: lineText(120, 2),
		form: z.enum(MEDICINE_FORMS),
		strength: lineText(60, 1),
		threshold: z.number({ message: 'must be a whole number' }).int('must be a whole number').min(0).max(1_000_000)
	})
	.strict();
export type MedicineCreate = z.infer<typeof medicineCreateSchema>;

export const batchNumber = lineText(40, 1).refine((s) => /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(s), 'letters, digits and . _ / - only');

export const batchCreateSchema = z
	.object({ batchNumber, quantity, expiresOn: isoDate })
	.strict();
export type BatchCreate = z.infer<typeof batchCreateSchema>;

export const dispenseSchema = z
	.object({ medicineId: id, quantity: quantity.max(10_000), prescriptionId: id.optional() })
	.strict();
export type DispenseInput = z.infer<typeof dispenseSchema>;

export const medicineSearchSchema = z
	.object({
		prefix: lineText(120).optional(),
		cursor: z.string().max(2000).optional(),
		limit: z.coerce.number().int().min(1).max(50).default(20)
	})
	.strict();

export const reportQuerySchema = z
	.object({ from: isoDate, to: isoDate })
	.strict()
	.refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] })
	.refine((q) => Date.parse(q.to) - Date.parse(q.from) <= 366 * 86_400_000, { message: 'a report covers at most a year', path: ['to'] });

export type BatchView = { batchNumber: string; quantity: number; expiresOn: string; receivedAt: string; expired: boolean };
export type MedicineView = {
	id: string;
	name: string;
	form: MedicineForm;
	strength: string;
	threshold: number;
	onHand: number;
	lowStock: boolean;
	version: number;
	updatedAt: string;
	updatedBy: string;
	batches?: BatchView[];
};

export type PrescriptionStatus = 'pending' | 'dispensed' | 'cancelled';
/** A prescription as the pharmacist's queue shows it: with whom it is for and what they react to. */
export type QueueEntry = {
	id: string;
	recordId: string;
	appointmentId: string;
	patientId: string;
	patientName: string;
	allergies: Allergy[];
	doctorName: string;
	medicine: string;
	dosage: string;
	frequency: string;
	days: number;
	status: PrescriptionStatus;
	createdAt: string;
};

/** How far a visit's prescription got, as the doctor and the patient see it beside the record. */
export type PrescriptionStatusView = {
	id: string;
	medicine: string;
	status: PrescriptionStatus;
	dispensedAt?: string;
	dispensedBy?: string;
};

export type DispensationView = {
	id: string;
	medicineId: string;
	medicineName: string;
	quantity: number;
	prescriptionId?: string;
	batches: { batchNumber: string; quantity: number; expiresOn: string }[];
	onHand: number;
	dispensedAt: string;
	dispensedBy: string;
};

/**
 * Whether stock of the medicine named `medicineName` may be dispensed against a prescription
 * that says `prescribed` (free text, as the doctor wrote it: "Amoxicillin 250 mg"). The
 * medicine's name must be the whole of the prescribed text or its first words: case, width
 * and spacing do not matter, but "Amox" is not "Amoxicillin" and "Amoxicillin" is not
 * "Amoxicillin/Clavulanate" or "Co-amoxiclav". The strength is the pharmacist's check.
 */
export function prescriptionNames(prescribed: string, medicineName: string): boolean {
	const norm = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
	const rx = norm(prescribed);
	const name = norm(medicineName);
	if (!name) return false;
	return rx === name || (rx.startsWith(name) && /^[\s(,]/.test(rx.slice(name.length)));
}

/** Details of a 409 MEDICINE_MISMATCH: the prescription is for another medicine. */
export type MedicineMismatchDetails = { prescriptionId: string; prescribed: string; medicineId: string; medicineName: string };

/** Details of a 409 INSUFFICIENT_STOCK: exactly what is missing. */
export type InsufficientStockDetails = { medicineId: string; requested: number; available: number; missing: number };

export type PharmacyAlert =
	| { kind: 'expiry'; medicineId: string; medicineName: string; batchNumber: string; expiresOn: string; daysLeft: number; quantity: number }
	| { kind: 'low_stock'; medicineId: string; medicineName: string; onHand: number; threshold: number };

export type ReportRow = { medicineId: string; name: string; strength: string; received: number; dispensed: number; expired: number; onHand: number };
export type InventoryReport = { from: string; to: string; rows: ReportRow[]; totals: Omit<ReportRow, 'medicineId' | 'name' | 'strength'> };

/** Events to the `pharmacy` room (pharmacists and administrators). */
export type PharmacyQueueEvent = { prescriptionId: string; status: PrescriptionStatus; patientId: string; at: string };
export type PharmacyStockEvent = { medicineId: string; onHand: number; version: number; at: string };
/** To the record's room and the patient's and doctor's own rooms when a prescription's status changes. */
export type PrescriptionEvent = PrescriptionStatusView & { recordId: string; appointmentId: string; patientId: string };

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; a cell a spreadsheet would
 * read as a formula (= + - @, tab, CR at the start) is prefixed with an apostrophe.
 */
export function csvCell(value: string | number): string {
	let s = String(value);
	if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
	return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}
export const csvLine = (cells: (string | number)[]) => cells.map(csvCell).join(',');
