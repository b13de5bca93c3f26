import type { Ctx } from '../context';
import type { Actor } from '../actor';
import { SESSION_COOKIE, validateSessionToken } from '../auth/sessions';
import { readCookie } from './cookies';

/**
 * SvelteKit's hooks run in their own bundle; rather than a second copy of the session code
 * holding its own database client, the process that runs the API publishes this function
 * and hooks.server.ts calls it to learn who is asking for a page.
 */
export type PageAuth = (cookieHeader: string | null) => Promise<Actor | null>;
export const PAGE_AUTH = Symbol.for('medtrack.pageAuth');

export function publishPageAuth(ctx: Ctx): void {
	const fn: PageAuth = async (cookieHeader) => {
		const token = readCookie(cookieHeader ?? undefined, SESSION_COOKIE);
		if (!token) return null;
		const valid = await validateSessionToken(ctx, token);
		return valid?.actor ?? null;
	};
	(globalThis as Record<symbol, unknown>)[PAGE_AUTH] = fn;
}
