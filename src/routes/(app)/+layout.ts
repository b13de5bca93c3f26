import { error, redirect } from '@sveltejs/kit';
import { mayOpen, notAllowedMessage } from '$lib/shared/pages';
import type { LayoutLoad } from './$types';

// Every page in here needs someone signed in, and one whose role may open it: the server hook
// has checked a typed address already; this covers navigation inside the app as well.
export const load: LayoutLoad = async ({ parent, url }) => {
	const { user } = await parent();
	if (!user) redirect(307, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
	if (!mayOpen(user, url.pathname)) error(403, { message: notAllowedMessage(user, url.pathname), code: 'PAGE_NOT_ALLOWED' });
	return { user };
};
