import type { Ctx } from '../context';
import type { Caller } from '../actor';
import type { Actor } from '../actor';
import { refuse, requireActor } from '../auth/guard';
import { answersAmbulanceAlerts } from '$lib/shared/policy';
import { notFound } from '../errors';
import { getHospital } from '../repositories/hospitals';

/**
 * ★ THE ONE PLACE that decides whether a user is staff of a hospital: who hears a hospital's
 * ambulance alerts live (room `hospital-alerts:<id>`), lists them and answers them for it.
 *
 * Today users carry no hospital, so the role decides alone (`ANSWERS_AMBULANCE_ALERTS` in
 * `$lib/shared/policy.ts`: doctors, nurses, front desk, administrators) and the staff screen lets
 * the user say which hospital they work at (remembered in the browser).
 *
 * LEAD, on merging `users.hospital_id`: read the user here and return
 * `isAdmin(actor.role) || user.hospital_id === hospitalId` (administrators oversee every site).
 * Nothing else needs to change: every caller goes through this function.
 */
export async function isStaffOfHospital(ctx: Ctx, actor: Actor, hospitalId: string): Promise<boolean> {
	void ctx;
	void hospitalId;
	return answersAmbulanceAlerts(actor.role);
}

/** Refuses (403, audited) anyone who is not staff of this hospital. */
export async function requireStaffOf(ctx: Ctx, caller: Caller, hospitalId: string, resourceId?: string): Promise<void> {
	const actor = requireActor(caller);
	if (!(await isStaffOfHospital(ctx, actor, hospitalId))) {
		await refuse(ctx, caller, 'emergency', 'write', resourceId ?? hospitalId, 'Only staff of this hospital see and answer its ambulance alerts.');
	}
}

/** Joining `hospital-alerts:<id>`: an existing hospital, and staff of it. */
export async function joinHospitalAlerts(ctx: Ctx, caller: Caller, hospitalId: string): Promise<void> {
	if (!(await getHospital(ctx, hospitalId))) throw notFound('This hospital');
	await requireStaffOf(ctx, caller, hospitalId);
}
