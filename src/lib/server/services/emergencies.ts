import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { refuse, requireActor } from '../auth/guard';
import { getUser } from '../repositories/users';
import { isAdmin } from '$lib/shared/policy';
import { deptSlug } from '$lib/shared/rooms';

/**
 * Internal emergencies (SPEC §3): raised by staff for departments of a hospital, live to each
 * department's `dept:<slug>` room, acknowledged once per department, resolved into an incident record.
 */

/** A user joins only their own department's room (administrators oversee every department). */
export async function joinDepartment(ctx: Ctx, caller: Caller, slug: string): Promise<void> {
	const actor = requireActor(caller);
	if (isAdmin(actor.role)) return;
	const user = await getUser(ctx, actor.id);
	if (!user?.department || deptSlug(user.department) !== slug) {
		await refuse(ctx, caller, 'emergency', 'read', slug, 'You can only follow your own department’s emergencies.');
	}
}
