import { redirect } from '@sveltejs/kit';
import { ROLE_HOME } from '$lib/shared/roles';
import type { PageLoad } from './$types';

// The server hook already sends `/` to the right place; this covers client-side navigation.
export const load: PageLoad = async ({ parent }) => {
	const { user } = await parent();
	redirect(307, user ? ROLE_HOME[user.role] : '/login');
};
