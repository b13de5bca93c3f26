import { ROLE_LABEL, type Role } from './roles';
import { mayOpenPage } from './policy';

/** The signed-in person as the page layer knows them (the API's `Actor`). */
export type SessionUser = {
	id: string;
	email: string;
	name: string;
	role: Role;
	patientId?: string;
	doctorId?: string;
	/** The hospital a staff member works at. */
	hospitalId?: string;
};

/** Pages anyone may open without logging in. */
export const PUBLIC_PATHS = ['/login', '/register', '/forgot-password', '/reset-password'] as const;

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

export const isPublicPath = (path: string) => PUBLIC_PATHS.some((p) => under(path, p));

/**
 * Which roles may open which pages: the rule is `mayOpenPage` in `$lib/shared/policy` (the
 * API still decides on every record; this only keeps people out of screens that can show them
 * nothing). Used by both the server hook and the navigation.
 */
export function mayOpen(user: SessionUser, path: string): boolean {
	return mayOpenPage(user, path);
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
