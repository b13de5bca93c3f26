/** Socket.IO event maps shared by the server and the browser (SPEC §6). */

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

export type SubscribeAck =
	| { ok: true }
	| { ok: false; error: { code: string; message: string } };

export type ServerToClientEvents = {
	'record:updated': (event: RecordVersionEvent) => void;
	'session:ended': (event: { reason: 'logout' | 'deactivated' | 'expired' }) => void;
};

export type ClientToServerEvents = {
	subscribe: (payload: { room: string }, ack: (res: SubscribeAck) => void) => void;
	unsubscribe: (payload: { room: string }, ack?: (res: SubscribeAck) => void) => void;
};
