/**
 * Who may do what, at the level of roles (SPEC §2 and §6), as data shared by the server and the
 * browser. Pure: no I/O and no server imports. What depends on a particular record (own, care,
 * emergency access, authorship) is decided by the server's guard (`auth/guard.ts`), which takes
 * the matrix from here, enforces it and audits every denial; the browser uses the same data only
 * to leave out what the server would refuse.
 */
import type { AppointmentStatus } from './appointments';
import { ROLES, type Role } from './roles';
import type { ParsedRoom } from './rooms';

// ——— The access matrix (SPEC §2) ———

/**
 * How far a grant reaches: every record, only the user's own, only patients in the user's care,
 * or (pharmacists on patients) the name alone.
 */
export type Scope = 'all' | 'own' | 'care' | 'name';
export type Grant = { read?: Scope; write?: Scope };
export type Mode = 'read' | 'write';
export type Resource =
	| 'patient'
	| 'appointment'
	| 'medical_record'
	| 'chat'
	| 'pharmacy'
	| 'blood_bank'
	| 'hospital_resources'
	| 'emergency'
	| 'billing'
	| 'users'
	| 'audit_log';

const RW: Grant = { read: 'all', write: 'all' };
const R: Grant = { read: 'all' };

export const ACCESS: Readonly<Record<Resource, Readonly<Partial<Record<Role, Grant>>>>> = {
	patient: {
		patient: { read: 'own', write: 'own' },
		doctor: { read: 'care' },
		nurse: { read: 'care' },
		front_desk: RW,
		pharmacist: { read: 'name' },
		admin: RW,
		super_admin: RW
	},
	appointment: {
		patient: { read: 'own', write: 'own' },
		doctor: { read: 'own', write: 'own' },
		nurse: RW,
		front_desk: RW,
		admin: R,
		super_admin: R
	},
	medical_record: {
		patient: { read: 'own' },
		doctor: { read: 'care', write: 'care' },
		nurse: { read: 'care', write: 'care' },
		pharmacist: { read: 'all' },
		admin: R,
		super_admin: R
	},
	chat: { patient: { read: 'own', write: 'own' }, doctor: { read: 'own', write: 'own' } },
	pharmacy: { doctor: R, nurse: R, pharmacist: RW, admin: RW, super_admin: RW },
	blood_bank: { patient: R, doctor: R, nurse: R, admin: RW, super_admin: RW },
	hospital_resources: {
		doctor: R,
		nurse: RW,
		front_desk: R,
		paramedic: R,
		admin: RW,
		super_admin: RW
	},
	emergency: {
		doctor: RW,
		nurse: RW,
		front_desk: R,
		paramedic: { read: 'own', write: 'own' },
		admin: RW,
		super_admin: RW
	},
	billing: {
		patient: { read: 'own', write: 'own' },
		front_desk: RW,
		admin: RW,
		super_admin: RW
	},
	users: { admin: RW, super_admin: RW },
	audit_log: { super_admin: R }
};

/** The scope a role has on a resource for reading or writing, or undefined (no access). */
export function grantOf(role: Role, resource: Resource, mode: Mode): Scope | undefined {
	return ACCESS[resource][role]?.[mode];
}

/** Roles with any grant of this mode on this resource. */
export const rolesWith = (resource: Resource, mode: Mode): Role[] => ROLES.filter((r) => grantOf(r, resource, mode) !== undefined);

// ——— Role groups the rules below are made of ———

const ADMINS: readonly Role[] = ['admin', 'super_admin'];
/** Doctors and nurses: care, emergency access ("break the glass"), clinical identification. */
export const CLINICIANS: readonly Role[] = ['doctor', 'nurse'];

export const isClinician = (role: Role): role is 'doctor' | 'nurse' => CLINICIANS.includes(role);
export const isAdmin = (role: Role): role is 'admin' | 'super_admin' => ADMINS.includes(role);

/** Administrators read every patient's clinical data (SPEC §2's medical-records row: R). */
export const readsAllClinical = (role: Role) => isAdmin(role);
/** Only doctors and nurses may break the glass, and only for reading. */
export const mayBreakGlass = (role: Role) => isClinician(role);
/** Details of `/api/health` (database latency, guard, scheduler) are for administrators. */
export const seesOperations = (role: Role | undefined) => !!role && isAdmin(role);

/**
 * A refused patient is told "not found" (404) rather than "forbidden" (403), so record ids
 * cannot be probed (SPEC §2: 404 where existence itself is private).
 */
export const deniedAsNotFound = (role: Role) => role === 'patient';
/** A pharmacist reads a visit record's prescriptions only (SPEC §2: "prescriptions R"). */
export const readsPrescriptionsOnly = (role: Role) => role === 'pharmacist';

// ——— Appointments beyond the matrix's read/write ———

/** Roles that see every doctor's queue and every day's board; a doctor sees only their own queue. */
export const SEES_ALL_QUEUES: readonly Role[] = ['nurse', 'front_desk', 'admin', 'super_admin'];
export const seesAllQueues = (role: Role) => SEES_ALL_QUEUES.includes(role);
/** A doctor's live queue: staff who run the floor, and that doctor. */
export const seesQueue = (actor: { role: Role; doctorId?: string }, doctorId: string) =>
	seesAllQueues(actor.role) || (actor.role === 'doctor' && actor.doctorId === doctorId);
/** The hospital's dashboard (GET /api/analytics/admin and its drill-down lists). */
export const readsHospitalAnalytics = (role: Role) => role === 'admin' || role === 'super_admin';
/** A doctor's dashboard: that doctor, and whoever reads the hospital's. */
export const readsDoctorAnalytics = (actor: { role: Role; doctorId?: string }, doctorId: string) =>
	readsHospitalAnalytics(actor.role) || (actor.role === 'doctor' && actor.doctorId === doctorId);
/** A day's board of every doctor's appointments. */
export const seesBoard = (role: Role) => seesAllQueues(role);

/** The statuses each role may set on an appointment (the worker sets MISSED; see appointment-status.ts for the machine). */
export const ROLE_STATUSES: Readonly<Partial<Record<Role, readonly AppointmentStatus[]>>> = {
	patient: ['CANCELLED'],
	doctor: ['CONFIRMED', 'RESCHEDULED', 'CONSULTING', 'COMPLETED', 'CANCELLED'],
	nurse: ['CHECKED_IN'],
	front_desk: ['CONFIRMED', 'RESCHEDULED', 'CHECKED_IN', 'CANCELLED']
};
export const maySetStatus = (role: Role, status: AppointmentStatus) => ROLE_STATUSES[role]?.includes(status) ?? false;

/** Who moves an appointment to another time (the patient asks; the front desk or the doctor moves it). */
export const movesAppointments = (role: Role) => role === 'front_desk' || role === 'doctor';
/** A patient cancels or asks to reschedule; they set no priority, notes or new time themselves. */
export const asksToReschedule = (role: Role) => role === 'patient';
/** Visit notes on an appointment are the doctor's. */
export const writesVisitNotes = (role: Role) => role === 'doctor';
/** Who books appointments at all (care is never self-granted: a doctor only follow-ups in care; see guard's authorizeBooking). */
export const booksForAnyone = (role: Role) => role === 'front_desk' || isAdmin(role);

/** Who changes a doctor's availability and status: administrators and the front desk for any doctor, a doctor for themselves. */
export const managesDoctor = (actor: { role: Role; doctorId?: string }, doctorId: string) =>
	isAdmin(actor.role) || actor.role === 'front_desk' || (actor.role === 'doctor' && actor.doctorId === doctorId);

// ——— Clinical records ———

/** Visit records are written and amended by doctors (nurses record vitals on the appointment). */
export const writesVisitRecords = (role: Role) => role === 'doctor';
/** Removing an allergy or lowering its severity silences warnings: a doctor's decision. */
export const weakensAllergies = (role: Role) => role === 'doctor';

// ——— Hospitals, ambulances, emergencies ———

/** Adding hospitals and switching pandemic mode are administrators' (nurses change bed status only). */
export const managesSites = (role: Role) => isAdmin(role);
/**
 * Who sees which patient a ventilator is on: staff of the device's hospital (`staffOfHospital`:
 * its tied doctors, nurses and front desk, administrators), never paramedics on the road nor
 * another site's staff, who read the device's status and location only.
 */
export const seesDevicePatients = (actor: { role: Role; hospitalId?: string }, hospitalId: string) =>
	actor.role !== 'paramedic' && grantOf(actor.role, 'hospital_resources', 'read') !== undefined && staffOfHospital(actor, hospitalId).ok;
/** Ambulance alerts are sent by paramedics (SPEC §2: emergency alerts "own RW"). */
export const sendsAmbulanceAlerts = (role: Role) => role === 'paramedic';
/** Internal emergencies are raised and resolved by clinicians and administrators. */
export const raisesEmergencies = (role: Role) => isClinician(role) || isAdmin(role);
/** A department's acknowledgement comes from its doctors and nurses (SPEC §2: "R + ack"). */
export const acknowledgesEmergencies = (role: Role) => isClinician(role);
/**
 * Hospital staff who see a hospital's ambulance alerts live (room `hospital-alerts:<id>`) and
 * answer them (accept / decline) for that hospital. Whether a user is staff of *that* hospital is
 * decided on the user by the server (`services/hospital-staff.ts`, `isStaffOfHospital`).
 */
export const ANSWERS_AMBULANCE_ALERTS: readonly Role[] = ['doctor', 'nurse', 'front_desk', 'admin', 'super_admin'];
export const answersAmbulanceAlerts = (role: Role) => ANSWERS_AMBULANCE_ALERTS.includes(role);

/**
 * ★ THE rule of "staff of this hospital", for the server and the browser alike: administrators
 * oversee every site; every other role that answers ambulance alerts (doctors, nurses, front
 * desk) is staff of the one hospital their account is tied to (`users.hospital_id`, set by an
 * administrator under Users), and of none while untied. It decides who hears, lists and answers a
 * hospital's ambulance alerts, who changes its beds and ventilators (with the matrix's write), and
 * who raises, acknowledges and resolves its internal emergencies. The server enforces it through
 * `services/hospital-staff.ts` only; screens ask it to show the right hospital.
 */
export type StaffOfHospital = { ok: true } | { ok: false; why: 'role' | 'untied' | 'other_hospital' };
export function staffOfHospital(actor: { role: Role; hospitalId?: string }, hospitalId: string): StaffOfHospital {
	if (isAdmin(actor.role)) return { ok: true };
	if (!answersAmbulanceAlerts(actor.role)) return { ok: false, why: 'role' };
	if (!actor.hospitalId) return { ok: false, why: 'untied' };
	return actor.hospitalId === hospitalId ? { ok: true } : { ok: false, why: 'other_hospital' };
}
/** Which hospitals a user works for, as screens show them: any (administrators), their own, none yet (untied staff), or none at all. */
export type StaffSites = { kind: 'any' } | { kind: 'own'; hospitalId: string } | { kind: 'untied' } | { kind: 'none' };
export function staffSites(actor: { role: Role; hospitalId?: string }): StaffSites {
	if (isAdmin(actor.role)) return { kind: 'any' };
	if (!answersAmbulanceAlerts(actor.role)) return { kind: 'none' };
	return actor.hospitalId ? { kind: 'own', hospitalId: actor.hospitalId } : { kind: 'untied' };
}
/** Accounts an administrator may tie to a hospital: staff, never a patient's. */
export const tiesToHospital = (role: Role) => role !== 'patient';
/** Where staff see the ambulance-alerts panel: their home pages and the emergencies page. */
export const AMBULANCE_PANEL_PAGES: readonly (readonly [path: string, roles: readonly Role[]])[] = [
	['/doctor', ['doctor']],
	['/nurse', ['nurse']],
	['/front-desk', ['front_desk']],
	['/emergencies', ['doctor', 'nurse', 'admin', 'super_admin']]
];
export const showsAmbulancePanel = (role: Role, path: string) => AMBULANCE_PANEL_PAGES.some(([p, roles]) => p === path && roles.includes(role)) && answersAmbulanceAlerts(role);

// ——— Pages (the browser's navigation and the server's page hook) ———

/** Doctors and nurses search to identify a patient (name, date of birth) before emergency access. */
export const PATIENT_SEARCH: readonly Role[] = ['front_desk', 'admin', 'super_admin', 'pharmacist', 'doctor', 'nurse'];

/**
 * Which roles may open which pages. The API still decides on every record; this only keeps
 * people out of screens that can show them nothing. The most specific prefix wins; a path
 * without a rule is open to every signed-in user. `/patients` has its own rule (`mayOpenPage`).
 */
export const PAGE_ROLES: readonly (readonly [prefix: string, roles: readonly Role[]])[] = [
	['/patient', ['patient']],
	['/doctor', ['doctor']],
	['/nurse', ['nurse']],
	['/front-desk', ['front_desk']],
	['/doctors', ['front_desk', 'admin', 'super_admin']],
	['/pharmacy', ['pharmacist', 'admin', 'super_admin']],
	['/paramedic', ['paramedic']],
	['/emergencies', ['doctor', 'nurse', 'admin', 'super_admin']],
	['/chat', ['patient', 'doctor']],
	['/admin', ['admin', 'super_admin']],
	['/super-admin', ['super_admin']],
	['/audit', ['super_admin']]
];

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** Whether a signed-in user of this role (and patient record) may open this page. */
export function mayOpenPage(user: { role: Role; patientId?: string }, path: string): boolean {
	if (path === '/patients') return PATIENT_SEARCH.includes(user.role);
	if (under(path, '/patients')) {
		const id = path.split('/')[2];
		if (user.role === 'patient') return id === user.patientId;
		// Doctors and nurses see patients in their care (or through emergency access); the API decides.
		return PATIENT_SEARCH.includes(user.role);
	}
	const rule = PAGE_ROLES.filter(([prefix]) => under(path, prefix)).sort((a, b) => b[0].length - a[0].length)[0];
	return rule ? rule[1].includes(user.role) : true;
}

// ——— Realtime rooms (SPEC §6) ———

/**
 * Who may join a room, as far as roles alone decide: `allow`, `deny`, or `record` when the
 * record the room carries decides (the matrix's own/care on that appointment, record or
 * conversation; the server looks it up). Session rooms are joined by the server at connect,
 * never by `subscribe`.
 */
export type RoomAccess = 'allow' | 'deny' | 'record';
export function roomAccess(actor: { id: string; role: Role; doctorId?: string }, room: ParsedRoom): RoomAccess {
	const yes = (b: boolean): RoomAccess => (b ? 'allow' : 'deny');
	switch (room.kind) {
		case 'user':
			return yes(room.userId === actor.id);
		case 'session':
			return 'deny';
		case 'role':
			// `role:admin` carries what the users matrix lets administrators read.
			return yes(grantOf(actor.role, 'users', 'read') !== undefined);
		case 'doctor-queue':
			return yes(seesQueue(actor, room.doctorId));
		case 'board':
			return yes(seesBoard(actor.role));
		case 'slots':
			// Free slots are public to every signed-in user: patients pick from them.
			return 'allow';
		case 'record':
			if (room.type === 'doctor') return 'allow';
			if (room.type === 'user') return yes(room.id === actor.id || grantOf(actor.role, 'users', 'read') !== undefined);
			return 'record';
		case 'pharmacy':
			// The dispensary's queue carries allergies: for those who run the pharmacy (write).
			return yes(grantOf(actor.role, 'pharmacy', 'write') !== undefined);
		case 'hospital':
			// A hospital's capacity: whoever reads beds, ICU and ventilators.
			return yes(grantOf(actor.role, 'hospital_resources', 'read') !== undefined);
		case 'hospital-alerts':
			// Its ambulance alerts carry patients' conditions: that hospital's staff (the user decides).
			return answersAmbulanceAlerts(actor.role) ? 'record' : 'deny';
		case 'dept':
			// Staff who read emergencies; only the room of their own department at their own hospital
			// (`dept:<hospitalId>:<slug>`: the server decides on the user, `staffOfHospital` and their department).
			return grantOf(actor.role, 'emergency', 'read') === 'all' ? 'record' : 'deny';
		case 'chat':
		case 'appointment':
			return 'record';
	}
}
