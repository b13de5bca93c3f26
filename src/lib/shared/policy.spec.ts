import { describe, expect, it } from 'vitest';
import {
	ACCESS,
	AMBULANCE_PANEL_PAGES,
	showsAmbulancePanel,
	deniedAsNotFound,
	readsPrescriptionsOnly,
	grantOf,
	isClinician,
	managesDoctor,
	maySetStatus,
	mayOpenPage,
	movesAppointments,
	PAGE_ROLES,
	readsAllClinical,
	ROLE_STATUSES,
	roomAccess,
	rolesWith,
	seesOperations,
	seesQueue,
	type Resource
} from './policy';
import { ROLES, ROLE_HOME, type Role } from './roles';
import { parseRoom } from './rooms';
import { STATUSES } from './appointments';

/**
 * SPEC §2's access matrix, row by row, written out as the table reads (R read, W write, own,
 * care, name) so the data in policy.ts is checked against the specification, not itself.
 */
const SPEC: Record<Resource, Record<Role, string>> = {
	//                 patient      doctor        nurse        front_desk  pharmacist   paramedic    admin   super_admin
	patient: row('own RW', 'care R', 'care R', 'RW', 'name R', '-', 'RW', 'RW'),
	appointment: row('own RW', 'own RW', 'RW', 'RW', '-', '-', 'R', 'R'),
	medical_record: row('own R', 'care RW', 'care RW', '-', 'R', '-', 'R', 'R'),
	chat: row('own RW', 'own RW', '-', '-', '-', '-', '-', '-'),
	pharmacy: row('-', 'R', 'R', '-', 'RW', '-', 'RW', 'RW'),
	blood_bank: row('R', 'R', 'R', '-', '-', '-', 'RW', 'RW'),
	hospital_resources: row('-', 'R', 'RW', 'R', '-', 'R', 'RW', 'RW'),
	emergency: row('-', 'RW', 'RW', 'R', '-', 'own RW', 'RW', 'RW'),
	billing: row('own RW', '-', '-', 'RW', '-', '-', 'RW', 'RW'),
	users: row('-', '-', '-', '-', '-', '-', 'RW', 'RW'),
	audit_log: row('-', '-', '-', '-', '-', '-', '-', 'R')
};
function row(...cells: string[]): Record<Role, string> {
	return Object.fromEntries(ROLES.map((r, i) => [r, cells[i]!])) as Record<Role, string>;
}
/** A cell as the matrix says it: `-`, `R`, `RW`, with a scope word before it when not `all`. */
function cell(resource: Resource, role: Role): string {
	const read = grantOf(role, resource, 'read');
	const write = grantOf(role, resource, 'write');
	if (!read && !write) return '-';
	const scope = read ?? write!;
	const modes = `${read ? 'R' : ''}${write ? 'W' : ''}`;
	return scope === 'all' ? modes : `${scope} ${modes}`;
}

describe('the access matrix', () => {
	it.each(Object.keys(SPEC) as Resource[])('%s: every role as SPEC §2 says', (resource) => {
		expect(Object.fromEntries(ROLES.map((r) => [r, cell(resource, r)]))).toEqual(SPEC[resource]);
	});

	it('covers every resource, and no grant mixes scopes between reading and writing', () => {
		expect(Object.keys(ACCESS).sort()).toEqual(Object.keys(SPEC).sort());
		for (const [resource, grants] of Object.entries(ACCESS)) {
			for (const [role, g] of Object.entries(grants)) {
				if (g?.read && g.write) expect(g.write, `${resource}/${role}`).toBe(g.read);
			}
		}
	});

	it('only the super admin reads the audit log; nobody writes it', () => {
		expect(rolesWith('audit_log', 'read')).toEqual(['super_admin']);
		expect(rolesWith('audit_log', 'write')).toEqual([]);
		expect(rolesWith('users', 'write')).toEqual(['admin', 'super_admin']);
	});

	it('a refused patient hears "not found"; a pharmacist reads prescriptions only', () => {
		expect(ROLES.filter(deniedAsNotFound)).toEqual(['patient']);
		expect(ROLES.filter(readsPrescriptionsOnly)).toEqual(['pharmacist']);
	});

	it('clinicians and administrators, as the rules use them', () => {
		expect(ROLES.filter(isClinician)).toEqual(['doctor', 'nurse']);
		expect(ROLES.filter(readsAllClinical)).toEqual(['admin', 'super_admin']);
		expect(ROLES.filter((r) => seesOperations(r))).toEqual(['admin', 'super_admin']);
		expect(seesOperations(undefined)).toBe(false);
	});
});

describe('appointments beyond the matrix', () => {
	it('the statuses each role sets', () => {
		expect(ROLE_STATUSES).toEqual({
			patient: ['CANCELLED'],
			doctor: ['CONFIRMED', 'RESCHEDULED', 'CONSULTING', 'COMPLETED', 'CANCELLED'],
			nurse: ['CHECKED_IN'],
			front_desk: ['CONFIRMED', 'RESCHEDULED', 'CHECKED_IN', 'CANCELLED']
		});
		for (const role of ['pharmacist', 'paramedic', 'admin', 'super_admin'] as const) {
			expect(STATUSES.filter((s) => maySetStatus(role, s)), role).toEqual([]);
		}
		for (const role of ROLES) expect(maySetStatus(role, 'MISSED'), role).toBe(false);
	});

	it('queues: floor staff see all, a doctor only their own', () => {
		const doctor = { role: 'doctor' as const, doctorId: 'd1' };
		expect(seesQueue(doctor, 'd1')).toBe(true);
		expect(seesQueue(doctor, 'd2')).toBe(false);
		expect(seesQueue({ role: 'doctor' }, 'd1')).toBe(false);
		expect(ROLES.filter((role) => seesQueue({ role }, 'd1'))).toEqual(['nurse', 'front_desk', 'admin', 'super_admin']);
	});

	it('moves and doctors’ schedules', () => {
		expect(ROLES.filter(movesAppointments)).toEqual(['doctor', 'front_desk']);
		expect(ROLES.filter((role) => managesDoctor({ role }, 'd1'))).toEqual(['front_desk', 'admin', 'super_admin']);
		expect(managesDoctor({ role: 'doctor', doctorId: 'd1' }, 'd1')).toBe(true);
		expect(managesDoctor({ role: 'doctor', doctorId: 'd2' }, 'd1')).toBe(false);
	});
});

describe('pages', () => {
	const user = (role: Role, patientId?: string) => ({ role, patientId });
	it.each([
		['/patient/book', ['patient']],
		['/doctor/queue', ['doctor']],
		['/doctor/visit/a1', ['doctor']],
		['/doctors', ['front_desk', 'admin', 'super_admin']],
		['/doctors/d1', ['front_desk', 'admin', 'super_admin']],
		['/nurse', ['nurse']],
		['/front-desk/board', ['front_desk']],
		['/pharmacy', ['pharmacist', 'admin', 'super_admin']],
		['/paramedic', ['paramedic']],
		['/emergencies', ['doctor', 'nurse', 'admin', 'super_admin']],
		['/chat/c1', ['patient', 'doctor']],
		['/admin/outbox', ['admin', 'super_admin']],
		['/super-admin', ['super_admin']],
		['/audit', ['super_admin']],
		['/patients', ['doctor', 'nurse', 'front_desk', 'pharmacist', 'admin', 'super_admin']],
		['/profile', [...ROLES]],
		['/notifications', [...ROLES]]
	] as const)('%s opens for %j', (path, roles) => {
		expect(ROLES.filter((r) => mayOpenPage(user(r), path))).toEqual(roles);
	});

	it('a patient opens only their own chart; staff who search open any (the API decides on the record)', () => {
		expect(mayOpenPage(user('patient', 'p1'), '/patients/p1')).toBe(true);
		expect(mayOpenPage(user('patient', 'p1'), '/patients/p2')).toBe(false);
		expect(ROLES.filter((r) => mayOpenPage(user(r), '/patients/p2'))).toEqual(['doctor', 'nurse', 'front_desk', 'pharmacist', 'admin', 'super_admin']);
	});

	it('a prefix is a path segment, not a string start; the longest prefix wins', () => {
		expect(mayOpenPage(user('doctor'), '/doctors')).toBe(false);
		expect(mayOpenPage(user('patient'), '/patients')).toBe(false);
		expect(mayOpenPage(user('admin'), '/admin')).toBe(true);
		expect(mayOpenPage(user('super_admin'), '/super-admin/x')).toBe(true);
		expect(mayOpenPage(user('admin'), '/super-admin')).toBe(false);
	});

	it('every role can open its own home page', () => {
		for (const role of ROLES) expect(mayOpenPage(user(role), ROLE_HOME[role]), role).toBe(true);
		expect(PAGE_ROLES.length).toBeGreaterThan(0);
	});
});

describe('rooms', () => {
	const actor = (role: Role, extra: { doctorId?: string } = {}) => ({ id: `u_${role}`, role, ...extra });
	const access = (role: Role, name: string, extra?: { doctorId?: string }) => roomAccess(actor(role, extra), parseRoom(name)!);
	const by = (name: string) => Object.fromEntries(ROLES.map((r) => [r, access(r, name)]));

	it('a user’s own room, nobody else’s', () => {
		for (const role of ROLES) {
			expect(access(role, `user:u_${role}`)).toBe('allow');
			expect(access(role, 'user:someone')).toBe('deny');
		}
	});

	it('role:admin follows the users matrix', () => {
		expect(ROLES.filter((r) => access(r, 'role:admin') === 'allow')).toEqual(['admin', 'super_admin']);
	});

	it('a doctor’s queue and the day board', () => {
		expect(ROLES.filter((r) => access(r, 'doctor-queue:d1') === 'allow')).toEqual(['nurse', 'front_desk', 'admin', 'super_admin']);
		expect(access('doctor', 'doctor-queue:d1', { doctorId: 'd1' })).toBe('allow');
		expect(access('doctor', 'doctor-queue:d2', { doctorId: 'd1' })).toBe('deny');
		expect(ROLES.filter((r) => access(r, 'board:2027-03-14') === 'allow')).toEqual(['nurse', 'front_desk', 'admin', 'super_admin']);
	});

	it('free slots and doctors’ records are open to everyone signed in', () => {
		for (const role of ROLES) {
			expect(access(role, 'slots:2027-03-14')).toBe('allow');
			expect(access(role, 'record:doctor:d1')).toBe('allow');
		}
	});

	it('a user record: one’s own, or an administrator', () => {
		expect(access('nurse', 'record:user:u_nurse')).toBe('allow');
		expect(ROLES.filter((r) => access(r, 'record:user:someone') === 'allow')).toEqual(['admin', 'super_admin']);
	});

	it('patients, visit records, appointments and chats are decided on the record', () => {
		for (const name of ['record:patient:p1', 'record:medical_record:mr_1', 'record:appointment:a1', 'appointment:a1', 'chat:c_1']) {
			expect(Object.values(by(name)), name).toEqual(ROLES.map(() => 'record'));
		}
	});

	it('a hospital room follows the beds row; a department room is for staff who read emergencies, decided on the user', () => {
		expect(ROLES.filter((r) => access(r, 'hospital:h1') === 'allow')).toEqual(['doctor', 'nurse', 'front_desk', 'paramedic', 'admin', 'super_admin']);
		expect(ROLES.filter((r) => access(r, 'dept:h1:emergency') === 'record')).toEqual(['doctor', 'nurse', 'front_desk', 'admin', 'super_admin']);
		for (const r of ['patient', 'paramedic', 'pharmacist'] as const) expect(access(r, 'dept:h1:emergency'), r).toBe('deny');
	});

	it('a hospital’s ambulance alerts room is for its staff (decided on the user), never paramedics or patients', () => {
		expect(ROLES.filter((r) => access(r, 'hospital-alerts:h1') === 'record')).toEqual(['doctor', 'nurse', 'front_desk', 'admin', 'super_admin']);
		for (const r of ['patient', 'paramedic', 'pharmacist'] as const) expect(access(r, 'hospital-alerts:h1'), r).toBe('deny');
	});

	it('staff see the ambulance panel on their home and the emergencies page; others nowhere', () => {
		expect(showsAmbulancePanel('nurse', '/nurse')).toBe(true);
		expect(showsAmbulancePanel('doctor', '/doctor')).toBe(true);
		expect(showsAmbulancePanel('front_desk', '/front-desk')).toBe(true);
		expect(showsAmbulancePanel('admin', '/emergencies')).toBe(true);
		expect(showsAmbulancePanel('nurse', '/doctor')).toBe(false);
		for (const r of ['patient', 'paramedic', 'pharmacist'] as const) for (const [p] of AMBULANCE_PANEL_PAGES) expect(showsAmbulancePanel(r, p)).toBe(false);
		// every page the panel is on is a page those roles may open
		for (const [p, roles] of AMBULANCE_PANEL_PAGES) for (const role of roles) expect(mayOpenPage({ role }, p), `${role} ${p}`).toBe(true);
	});

	it('a session room is never joined by asking', () => {
		for (const role of ROLES) expect(access(role, 'session:s1')).toBe('deny');
	});
});
