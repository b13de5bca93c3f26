/**
 * Socket.IO room names (SPEC §6), built and read in one place by the server and the browser.
 * Build a name with `room.*`; read one a client sent with `parseRoom`, which answers null for
 * anything that is not exactly a room this product has (unknown kinds, missing or extra parts,
 * an id with a separator or blank, a date that is not a real calendar date).
 */
import { id as idSchema, isoDate } from './schemas';

export const RECORD_TYPES = ['patient', 'user', 'appointment', 'medical_record', 'doctor'] as const;
/** What `record:<type>:<id>` rooms carry: the version of one record of this type. */
export type RecordType = (typeof RECORD_TYPES)[number];

/** Role rooms that exist (SPEC §6: `role:admin`). */
export const ROLE_ROOMS = ['admin'] as const;
export type RoleRoom = (typeof ROLE_ROOMS)[number];

export type UserRoom = `user:${string}`;
export type SessionRoom = `session:${string}`;
export type RecordRoom = `record:${RecordType}:${string}`;
export type DoctorQueueRoom = `doctor-queue:${string}`;
export type BoardRoom = `board:${string}`;
/** The room of a day's free slots: `slots:YYYY-MM-DD` (any signed-in user may join). */
export type SlotsRoom = `slots:${string}`;
export type ChatRoom = `chat:${string}`;
export type AppointmentRoom = `appointment:${string}`;
export type PharmacyRoom = 'pharmacy';
/** One hospital's capacity, pandemic mode and ambulance alerts. */
export type HospitalRoom = `hospital:${string}`;
/** One hospital's ambulance alerts, for its staff only (not paramedics): `hospital-alerts:<id>`. */
export type HospitalAlertsRoom = `hospital-alerts:${string}`;
/** One department of one hospital, its internal emergencies: `dept:<hospitalId>:<slug>` (see `deptSlug`). */
export type DeptRoom = `dept:${string}:${string}`;

/** A department's name as it appears in its room: lower case, runs of anything else than letters and digits as one `-`. */
export const deptSlug = (name: string): string =>
	name
		.trim()
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, 64);
const isSlug = (s: string | undefined): s is string => !!s && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(s) && s.length <= 64;

export const room = {
	/** A user's own events: notifications, their appointments, session end. */
	user: (userId: string): UserRoom => `user:${userId}`,
	/** One session's sockets (server only: joined at connect, never by `subscribe`). */
	session: (sessionId: string): SessionRoom => `session:${sessionId}`,
	role: (role: RoleRoom): `role:${RoleRoom}` => `role:${role}`,
	/** Version bumps of one record (`record:updated`). */
	record: (type: RecordType, id: string): RecordRoom => `record:${type}:${id}`,
	/** A doctor's live queue (`queue:updated`). */
	doctorQueue: (doctorId: string): DoctorQueueRoom => `doctor-queue:${doctorId}`,
	/** Every appointment of one day (front desk and nurses' board). */
	board: (date: string): BoardRoom => `board:${date}`,
	slots: (date: string): SlotsRoom => `slots:${date}`,
	chat: (conversationId: string): ChatRoom => `chat:${conversationId}`,
	appointment: (appointmentId: string): AppointmentRoom => `appointment:${appointmentId}`,
	/** The dispensary's queue, stock and alerts (`pharmacy:*`): for those who run it. */
	pharmacy: (): PharmacyRoom => 'pharmacy',
	hospital: (hospitalId: string): HospitalRoom => `hospital:${hospitalId}`,
	/** Ambulance alerts for which this hospital is a candidate (`ambulance:updated`), for its staff. */
	hospitalAlerts: (hospitalId: string): HospitalAlertsRoom => `hospital-alerts:${hospitalId}`,
	/**
	 * A department at one hospital, by the hospital's id and the department's name (any case and
	 * spacing) or slug: an Emergency nurse at one site never hears another site's code blue.
	 */
	dept: (hospitalId: string, department: string): DeptRoom => `dept:${hospitalId}:${deptSlug(department)}`
};

/** `room.slots`, by the name the slots work gave it (tests and pages import it). */
export const slotsRoom = room.slots;

/** A room name taken apart. */
export type ParsedRoom =
	| { kind: 'user'; userId: string }
	| { kind: 'session'; sessionId: string }
	| { kind: 'role'; role: RoleRoom }
	| { kind: 'record'; type: RecordType; id: string }
	| { kind: 'doctor-queue'; doctorId: string }
	| { kind: 'board'; date: string }
	| { kind: 'slots'; date: string }
	| { kind: 'chat'; conversationId: string }
	| { kind: 'appointment'; appointmentId: string }
	| { kind: 'pharmacy' }
	| { kind: 'hospital'; hospitalId: string }
	| { kind: 'hospital-alerts'; hospitalId: string }
	| { kind: 'dept'; hospitalId: string; department: string };
export type RoomKind = ParsedRoom['kind'];

/** An id inside a room name is an id as the API takes one (no separator, no blank, bounded). */
const isId = (s: string | undefined): s is string => !!s && idSchema.safeParse(s).success;
const isDate = (s: string | undefined): s is string => !!s && isoDate.safeParse(s).success;
const isOne = <T extends string>(list: readonly T[], s: string | undefined): s is T => !!s && (list as readonly string[]).includes(s);

/** The room a name stands for, or null when it is not exactly one of ours. */
export function parseRoom(name: unknown): ParsedRoom | null {
	if (typeof name !== 'string' || name.length > 300) return null;
	const parts = name.split(':');
	const [kind, a, b] = parts;
	const n = parts.length;
	switch (kind) {
		case 'user':
			return n === 2 && isId(a) ? { kind, userId: a } : null;
		case 'session':
			return n === 2 && isId(a) ? { kind, sessionId: a } : null;
		case 'role':
			return n === 2 && isOne(ROLE_ROOMS, a) ? { kind, role: a } : null;
		case 'record':
			return n === 3 && isOne(RECORD_TYPES, a) && isId(b) ? { kind, type: a, id: b } : null;
		case 'doctor-queue':
			return n === 2 && isId(a) ? { kind, doctorId: a } : null;
		case 'board':
			return n === 2 && isDate(a) ? { kind, date: a } : null;
		case 'slots':
			return n === 2 && isDate(a) ? { kind, date: a } : null;
		case 'chat':
			return n === 2 && isId(a) ? { kind, conversationId: a } : null;
		case 'appointment':
			return n === 2 && isId(a) ? { kind, appointmentId: a } : null;
		case 'pharmacy':
			return n === 1 ? { kind } : null;
		case 'hospital':
			return n === 2 && isId(a) ? { kind, hospitalId: a } : null;
		case 'hospital-alerts':
			return n === 2 && isId(a) ? { kind, hospitalId: a } : null;
		case 'dept':
			return n === 3 && isId(a) && isSlug(b) ? { kind, hospitalId: a, department: b } : null;
		default:
			return null;
	}
}

/** The name of a parsed room (the inverse of `parseRoom`). */
export function roomName(r: ParsedRoom): string {
	switch (r.kind) {
		case 'user':
			return room.user(r.userId);
		case 'session':
			return room.session(r.sessionId);
		case 'role':
			return room.role(r.role);
		case 'record':
			return room.record(r.type, r.id);
		case 'doctor-queue':
			return room.doctorQueue(r.doctorId);
		case 'board':
			return room.board(r.date);
		case 'slots':
			return room.slots(r.date);
		case 'chat':
			return room.chat(r.conversationId);
		case 'appointment':
			return room.appointment(r.appointmentId);
		case 'pharmacy':
			return room.pharmacy();
		case 'hospital':
			return room.hospital(r.hospitalId);
		case 'hospital-alerts':
			return room.hospitalAlerts(r.hospitalId);
		case 'dept':
			return room.dept(r.hospitalId, r.department);
	}
}
