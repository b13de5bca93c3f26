/**
 * Ventilators tracked one by one (issue #10): each device's location, status and assigned
 * patient, and its movement log. The hospital row's `ventilators` counters always equal the
 * devices: a status belongs to one counter bucket (`bucketOf`), and every move that changes the
 * bucket moves the counter in the same transaction. Shared by the server and the browser.
 */
import { z } from 'zod';
import { id, version } from './schemas';
import { lineText } from './text';

export const VENTILATOR_STATUSES = ['available', 'in_use', 'cleaning', 'maintenance', 'out_of_service'] as const;
export type VentilatorStatus = (typeof VENTILATOR_STATUSES)[number];
export const VENTILATOR_STATUS_LABEL: Record<VentilatorStatus, string> = {
	available: 'Available',
	in_use: 'In use',
	cleaning: 'Cleaning',
	maintenance: 'Maintenance',
	out_of_service: 'Out of service'
};

/** The hospital counter a device in this status is counted in (reserved ones are available devices promised to an ambulance). */
export type CounterBucket = 'available' | 'occupied' | 'out_of_service';
export function bucketOf(status: VentilatorStatus): CounterBucket {
	return status === 'available' ? 'available' : status === 'in_use' ? 'occupied' : 'out_of_service';
}

export type VentilatorView = {
	id: string;
	hospitalId: string;
	serial: string;
	location: string;
	status: VentilatorStatus;
	/** Only while in use, and only for roles that see patients (never in the room broadcast). */
	patient?: { id: string; name: string };
	version: number;
	updatedAt: string;
	updatedBy: string;
};

export type VentilatorMoveView = {
	at: string;
	byName: string;
	byId: string;
	fromLocation: string;
	toLocation: string;
	fromStatus: VentilatorStatus | null;
	toStatus: VentilatorStatus;
	/** The patient the device was assigned to by this move, if any (hidden from roles that do not see patients). */
	patientName?: string;
	reason: string;
};

/** Serial numbers as printed on the device: letters, digits, dashes, dots and slashes. */
export const serial = z
	.string()
	.trim()
	.regex(/^[A-Za-z0-9][A-Za-z0-9./-]{0,39}$/, 'must be 1–40 letters, digits, dots, dashes or slashes (as printed on the device)');
export const ventilatorLocation = lineText(80, 1);

export const ventilatorCreateSchema = z.object({ serial, location: ventilatorLocation }).strict();
export type VentilatorCreate = z.infer<typeof ventilatorCreateSchema>;

export const ventilatorMoveSchema = z
	.object({
		version,
		location: ventilatorLocation.optional(),
		status: z.enum(VENTILATOR_STATUSES).optional(),
		patientId: id.optional(),
		reason: lineText(200, 2)
	})
	.strict();
export type VentilatorMove = z.infer<typeof ventilatorMoveSchema>;

export const movesQuerySchema = z
	.object({ cursor: z.string().max(2000).optional(), limit: z.coerce.number().int().min(1).max(100).default(20) })
	.strict();

/** What a device becomes after a move, or why the move cannot happen (field and sentence). */
export type MovePlan =
	| { ok: true; location: string; status: VentilatorStatus; patientId: string | undefined }
	| { ok: false; field: string; message: string };

/**
 * The move rules, pure: a patient is assigned only by putting the device in use (naming the
 * patient is enough); in use always names a patient; leaving in use frees the patient; a device
 * in use for one patient is freed before it goes to another; a move must change something.
 */
export function planMove(
	device: { location: string; status: VentilatorStatus; patientId?: string },
	move: Pick<VentilatorMove, 'location' | 'status' | 'patientId'>
): MovePlan {
	const status = move.status ?? (move.patientId ? 'in_use' : device.status);
	const location = move.location ?? device.location;
	if (move.patientId && status !== 'in_use') return { ok: false, field: 'patientId', message: 'a patient is assigned only by putting the device in use' };
	if (status === 'in_use' && device.status === 'in_use' && move.patientId && move.patientId !== device.patientId) {
		return { ok: false, field: 'patientId', message: 'this ventilator is in use for another patient: free it first' };
	}
	const patientId = status === 'in_use' ? (move.patientId ?? device.patientId) : undefined;
	if (status === 'in_use' && !patientId) return { ok: false, field: 'patientId', message: 'name the patient the ventilator is put on' };
	if (status === device.status && location === device.location && patientId === device.patientId) {
		return { ok: false, field: 'status', message: 'nothing changes: give a new location or status' };
	}
	return { ok: true, location, status, patientId };
}
