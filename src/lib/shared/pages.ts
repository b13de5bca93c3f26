import { ROLE_LABEL, type Role } from './roles';

/** The signed-in person as the page layer knows them (the API's `Actor`). */
export type SessionUser = {
	id: string;
	email: string;
	name: string;
	role: Role;
	patientId?: string;
	doctorId?: string;
};

/** Pages anyone may open without logging in. */
export const PUBLIC_PATHS = ['/login', '/register', '/forgot-password', '/reset-password'] as const;

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

export const isPublicPath = (path: string) => PUBLIC_PATHS.some((p) => under(path, p));

// Doctors and nurses search to identify a patient (name, date of birth) before emergency access.
const PATIENT_SEARCH: Role[] = ['front_desk', 'admin', 'super_admin', 'pharmacist', 'doctor', 'nurse'];

/**
 * Which roles may open which pages (SPEC §2, page level). The API still decides on every
 * record; this only keeps people out of screens that can show them nothing. The most
 * specific prefix wins; a path without a rule is open to every signed-in user.
 */
const PAGE_ROLES: [prefix: string, roles: readonly Role[]][] = [
	['/patient', ['patient']],
	['/doctor', ['doctor']],
	['/nurse', ['nurse']],
	['/front-desk', ['front_desk']],
	['/doctors', ['front_desk', 'admin', 'super_admin']],
	['/pharmacy', ['pharmacist']],
	['/paramedic', ['paramedic']],
	['/chat', ['patient', 'doctor']],
	['/admin', ['admin', 'super_admin']],
	['/super-admin', ['super_admin']],
	['/audit', ['super_admin']]
];

export function mayOpen(user: SessionUser, path: string): boolean {
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

/** The 403 page's sentence: which role is signed in, and which page it cannot open. */
export function notAllowedMessage(user: SessionUser, path: string): string {
	return `You are signed in as ${user.name} with the ${ROLE_LABEL[user.role]} role, which cannot open ${path}.`;
}

/** A `next` parameter is followed only to a path on this site. */
export function safeNext(next: string | null | undefined): string | null {
	if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
	return next;
}
