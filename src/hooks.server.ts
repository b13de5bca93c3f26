import { error, redirect, type Handle } from '@sveltejs/kit';
import { ROLE_HOME } from '$lib/shared/roles';
import { isPublicPath, mayOpen, type SessionUser } from '$lib/shared/pages';

/**
 * Page authentication. The API process publishes who a session cookie belongs to on
 * `globalThis` (see $lib/server/http/page-auth.ts); this bundle never imports $lib/server,
 * so it holds no database client of its own. No function published means nobody is
 * logged in (pages served without the API).
 */
type PageAuth = (cookieHeader: string | null) => Promise<SessionUser | null>;
const PAGE_AUTH = Symbol.for('medtrack.pageAuth');

async function whoIsAsking(cookieHeader: string | null): Promise<SessionUser | null> {
	const auth = (globalThis as Record<symbol, unknown>)[PAGE_AUTH] as PageAuth | undefined;
	if (typeof auth !== 'function') return null;
	try {
		return await auth(cookieHeader);
	} catch {
		error(503, { message: 'MedTrack cannot reach its database right now. Please try again in a moment.' });
	}
}

export const handle: Handle = async ({ event, resolve }) => {
	// A path that does not decode is answered here: nothing below may throw on it.
	try {
		decodeURI(event.url.pathname);
	} catch {
		return new Response('Bad request: the address is not valid.', { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' } });
	}
	const user = await whoIsAsking(event.request.headers.get('cookie'));
	event.locals.user = user;
	const path = event.url.pathname;

	if (path === '/') redirect(303, user ? ROLE_HOME[user.role] : '/login');
	if (isPublicPath(path)) {
		// Someone already signed in has nothing to do on the login or sign-up form.
		if (user && (path === '/login' || path === '/register')) redirect(303, ROLE_HOME[user.role]);
		return resolve(event);
	}
	if (!user) redirect(303, `/login?next=${encodeURIComponent(path + event.url.search)}`);
	if (!mayOpen(user, path) && !event.isDataRequest) {
		// A page this role may not open answers 403, never a silent trip home. The page shell
		// holds no data; in the browser (app)/+layout.ts raises the same 403 (also on in-app
		// navigation) and the error page says which role cannot open what. The layout data
		// (who is signed in) still loads, so the error page's "home" link knows where home is.
		const page = await resolve(event);
		return new Response(page.body, { status: 403, statusText: 'Forbidden', headers: page.headers });
	}
	return resolve(event);
};
