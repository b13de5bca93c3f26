/** Socket.IO event maps shared by the server and the browser (SPEC §6). */
import type { AppointmentStatus } from './appointments';

export type RecordType = 'patient' | 'user' | 'appointment' | 'medical_record' | 'doctor';

/** Emitted to `record:<type>:<id>` after every versioned write. */
export type RecordVersionEvent = {
	type: RecordType;
	id: string;
	version: number;
	updatedBy: string;
	updatedById: string;
	updatedAt: string;
	changedFields: string[];
};

/** `appointment:updated` / `queue:updated`: apply only when `version` is newer than what you hold. */
export type AppointmentEvent = {
	id: string;
	version: number;
	status: AppointmentStatus;
	updatedBy: string;
	updatedAt: string;
	doctorId: string;
	patientId: string;
	date: string;
};

export type NotificationEvent = {
	id: string;
	kind: string;
	title: string;
	body: string;
	relatedType?: string;
	relatedId?: string;
	createdAt: string;
};

export type SubscribeAck =
	| { ok: true }
	| { ok: false; error: { code: string; message: string } };

export type ServerToClientEvents = {
	'record:updated': (event: RecordVersionEvent) => void;
	'appointment:updated': (event: AppointmentEvent) => void;
	'queue:updated': (event: AppointmentEvent) => void;
	'notification:new': (event: NotificationEvent) => void;
	'session:ended': (event: { reason: 'logout' | 'deactivated' | 'expired' }) => void;
};

export type ClientToServerEvents = {
	subscribe: (payload: { room: string }, ack: (res: SubscribeAck) => void) => void;
	unsubscribe: (payload: { room: string }, ack?: (res: SubscribeAck) => void) => void;
};
