import { redirect } from '@sveltejs/kit';
import type { LayoutLoad } from './$types';

// Every page in here needs someone signed in; the server hook has checked already.
export const load: LayoutLoad = async ({ parent, url }) => {
	const { user } = await parent();
	if (!user) redirect(307, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
	return { user };
};
