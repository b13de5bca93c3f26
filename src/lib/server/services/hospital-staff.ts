import type { Ctx } from '../context';
import type { Caller } from '../actor';
import type { Actor } from '../actor';
import { refuse, requireActor } from '../auth/guard';
import { staffOfHospital, type Mode, type Resource } from '$lib/shared/policy';
import { notFound } from '../errors';
import { getHospital } from '../repositories/hospitals';

/**
 * ★ THE ONE PLACE the server decides whether a user is staff of a hospital: who hears a
 * hospital's ambulance alerts live (room `hospital-alerts:<id>`), lists and answers them for it,
 * changes its beds and ventilators (`authorizeSiteWrite`), and raises, acknowledges or resolves
 * its internal emergencies. The rule itself is `staffOfHospital` in `$lib/shared/policy.ts`
 * (administrators: every site; doctors, nurses, front desk: the hospital their account is tied
 * to, none while untied), on the signed-in actor, whose `hospitalId` is read from the user row
 * with the session (an administrator's change evicts the cached sessions at once).
 */
export function isStaffOfHospital(actor: Actor, hospitalId: string): boolean {
	return staffOfHospital(actor, hospitalId).ok;
}

export type StaffCheck = {
	/** What the refusal is audited as (`emergency` by default). */
	resource?: Resource;
	mode?: Mode;
	/** The record the denial is about (the hospital by default). */
	resourceId?: string;
	/** What staff do there, for the sentence: "see and answer ambulance alerts", "change beds and ventilators"… */
	doing: string;
};

/** Refuses (403, audited) anyone who is not staff of this hospital, saying why and what to do. */
export async function requireStaffOf(ctx: Ctx, caller: Caller, hospitalId: string, check: StaffCheck): Promise<void> {
	const verdict = staffOfHospital(requireActor(caller), hospitalId);
	if (verdict.ok) return;
	const message =
		verdict.why === 'untied'
			? `Your account is not tied to a hospital yet, so you cannot ${check.doing}: an administrator sets your hospital under Users.`
			: verdict.why === 'other_hospital'
				? `You work at another hospital: you ${check.doing} of your own hospital only.`
				: `Only staff of this hospital ${check.doing} there.`;
	await refuse(ctx, caller, check.resource ?? 'emergency', check.mode ?? 'write', check.resourceId ?? hospitalId, message);
}

export const ANSWERING_ALERTS = 'see and answer the ambulance alerts';

/** Joining `hospital-alerts:<id>`: an existing hospital, and staff of it. */
export async function joinHospitalAlerts(ctx: Ctx, caller: Caller, hospitalId: string): Promise<void> {
	if (!(await getHospital(ctx, hospitalId))) throw notFound('This hospital');
	await requireStaffOf(ctx, caller, hospitalId, { mode: 'read', doing: ANSWERING_ALERTS });
}
