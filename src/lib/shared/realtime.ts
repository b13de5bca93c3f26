/** Socket.IO event maps shared by the server and the browser (SPEC §6). */
import type { AppointmentStatus } from './appointments';
import type { PharmacyAlert, PharmacyQueueEvent, PharmacyStockEvent, PrescriptionEvent } from './pharmacy';
import type { StockRow } from './blood';
import type { ChatAck, ChatMessageView, ChatReceiptEvent, ChatTypingEvent, ConversationEvent } from './chat';
import type { RecordType } from './rooms';
import type { AlertCandidatesEvent, AlertView, HospitalView } from './hospitals';
import type { VentilatorView } from './ventilators';
import type { EmergencyView } from './emergencies';
import type { AnalyticsEvent } from './analytics';
export type { RecordType, SlotsRoom } from './rooms';
export { slotsRoom } from './rooms';

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

/**
 * `slots:updated`, to `slots:<date>` after a booking, a cancellation, a move (both dates) or a
 * missed mark: that doctor's free slots on that date may have changed, so refetch them.
 */
export type SlotsEvent = { doctorId: string; date: string };



/**
 * To a checked-in patient's own room when their place in the doctor's queue changes.
 * `seq` numbers the announcements of that doctor's day (across instances); announcements
 * can arrive out of order, so keep the place with the highest `seq` (a fetched place carries
 * it as `queueSeq`) and ignore an older one.
 */
export type QueuePositionEvent = { appointmentId: string; doctorId: string; position: number; seq: number };

export type NotificationEvent = {
	id: string;
	kind: string;
	title: string;
	body: string;
	relatedType?: string;
	relatedId?: string;
	createdAt: string;
	/** Its key in the user's list: what `POST /api/notifications/read` takes. */
	sortKey?: string;
};

/**
 * Blood stock, to `role:admin`. `stock:critical` once when a group × component drops below
 * its threshold (not again while it stays low), `stock:recovered` once when it is back at or
 * above it; `stock:updated` after every change of a counter or threshold (apply only a
 * newer `version` than the one you hold).
 */
export type StockAlertEvent = { bloodGroup: StockRow['bloodGroup']; component: StockRow['component']; available: number; threshold: number; at: string };

export type SubscribeAck =
	| { ok: true }
	| { ok: false; error: { code: string; message: string } };

export type ServerToClientEvents = {
	'record:updated': (event: RecordVersionEvent) => void;
	'appointment:updated': (event: AppointmentEvent) => void;
	'queue:updated': (event: AppointmentEvent) => void;
	'queue:position': (event: QueuePositionEvent) => void;
	'slots:updated': (event: SlotsEvent) => void;
	'notification:new': (event: NotificationEvent) => void;
	'session:ended': (event: { reason: 'logout' | 'deactivated' | 'expired' }) => void;
	/** Chat, to `chat:<conversationId>`; `chat:conversation` to each side's `user:<id>`. */
	'chat:message': (message: ChatMessageView) => void;
	'chat:delivered': (event: ChatReceiptEvent) => void;
	'chat:read': (event: ChatReceiptEvent) => void;
	'chat:typing': (event: ChatTypingEvent) => void;
	'chat:conversation': (event: ConversationEvent) => void;
	/** Pharmacy, to `pharmacy`: the queue, stock and alerts changed. */
	'pharmacy:queue': (event: PharmacyQueueEvent) => void;
	'pharmacy:stock': (event: PharmacyStockEvent) => void;
	'pharmacy:alert': (event: PharmacyAlert) => void;
	/** A visit's prescription was dispensed or withdrawn: to its record's room and the patient's and doctor's rooms. */
	'prescription:updated': (event: PrescriptionEvent) => void;
	'stock:critical': (event: StockAlertEvent) => void;
	'stock:recovered': (event: StockAlertEvent) => void;
	'stock:updated': (event: StockRow) => void;
	/** A hospital's counters or pandemic mode changed, to `hospital:<id>` (apply only a newer `version`). */
	'hospital:updated': (event: HospitalView) => void;
	/** A ventilator was registered or moved, to `hospital:<id>` (never with its patient; apply only a newer `version`). */
	'ventilator:updated': (event: VentilatorView) => void;
	/** An ambulance alert was sent, answered, selected or closed: to `hospital-alerts:<id>` of each hospital it went to and the paramedic's `user:<id>`. */
	'ambulance:updated': (event: AlertView) => void;
	/** An open alert's candidates after a hospital's counts changed (late capacity): to the paramedic's `user:<id>`. */
	'ambulance:candidates': (event: AlertCandidatesEvent) => void;
	/** Internal emergencies, to `dept:<hospitalId>:<slug>` of each affected department at the emergency's hospital, the raiser's `user:<id>` and `role:admin` (never `hospital:<id>`, where paramedics are). */
	'emergency:raised': (event: EmergencyView) => void;
	'emergency:acknowledged': (event: EmergencyView) => void;
	'emergency:resolved': (event: EmergencyView) => void;
	/** A dashboard figure moved: to `role:admin` and the doctor's `user:<id>`, at most one per room per 300 ms; refetch. */
	'analytics:updated': (event: AnalyticsEvent) => void;
};

export type ClientToServerEvents = {
	subscribe: (payload: { room: string }, ack: (res: SubscribeAck) => void) => void;
	unsubscribe: (payload: { room: string }, ack?: (res: SubscribeAck) => void) => void;
	/** Sends a message (same rules as POST /api/conversations/:id/messages); the ack carries the stored message. */
	'chat:message': (
		payload: { conversationId: string; clientId: string; text: string },
		ack: (res: ChatAck<ChatMessageView>) => void
	) => void;
	/** The recipient's client received messages up to `upTo` (a sortKey). */
	'chat:delivered': (payload: { conversationId: string; upTo: string }, ack?: (res: ChatAck<null>) => void) => void;
	/** The reader has read messages up to `upTo`. */
	'chat:read': (payload: { conversationId: string; upTo: string }, ack?: (res: ChatAck<null>) => void) => void;
	'chat:typing': (payload: { conversationId: string; typing: boolean }) => void;
};

/**
 * Every event the server sends, once: the worker relay accepts exactly these, and the browser
 * subscribes to these (the room-scoped ones it dispatches by room). Adding an event to
 * `ServerToClientEvents` without listing it here is a type error.
 */
export const SERVER_EVENTS = [
	'record:updated',
	'appointment:updated',
	'queue:updated',
	'queue:position',
	'slots:updated',
	'notification:new',
	'session:ended',
	'chat:message',
	'chat:delivered',
	'chat:read',
	'chat:typing',
	'chat:conversation',
	'pharmacy:queue',
	'pharmacy:stock',
	'pharmacy:alert',
	'prescription:updated',
	'stock:critical',
	'stock:recovered',
	'stock:updated',
	'hospital:updated',
	'ventilator:updated',
	'ambulance:updated',
	'ambulance:candidates',
	'emergency:raised',
	'emergency:acknowledged',
	'emergency:resolved',
	'analytics:updated'
] as const satisfies readonly (keyof ServerToClientEvents)[];
export type ServerEvent = (typeof SERVER_EVENTS)[number];
// Compile-time: nothing in ServerToClientEvents is missing from SERVER_EVENTS.
const _everyEventListed: Exclude<keyof ServerToClientEvents, ServerEvent> extends never ? true : never = true;
void _everyEventListed;
