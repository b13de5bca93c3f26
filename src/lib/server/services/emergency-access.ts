import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { careOf, refuse, requireActor } from '../auth/guard';
import { transactNamed } from '../db/transaction';
import { auditPut } from './audit';
import { announce, notificationPut } from './notifications';
import { accessGrantPut } from '../repositories/access-grants';
import { getPatient } from '../repositories/patients';
import { listUsersByRole } from '../repositories/users';
import { mayBreakGlass } from '$lib/shared/policy';

/**
 * "Break the glass" (HIPAA §164.312(a)(2)(ii)): a doctor or nurse opens a chart outside
 * their care, for reading, for EMERGENCY_ACCESS_MINUTES. The grant, its audit entry (with
 * the reason) and a notification to every super administrator are one transaction; the
 * notifications are announced live once it commits.
 */
export type EmergencyAccessView = { kind: 'care' } | { kind: 'emergency'; expiresAt: string; grantedAt: string };

export async function grantEmergencyAccess(ctx: Ctx, caller: Caller, patientId: string, reason: string): Promise<EmergencyAccessView> {
	const actor = requireActor(caller);
	if (!mayBreakGlass(actor.role)) {
		return refuse(ctx, caller, 'patient', 'read', patientId, 'Emergency access is for doctors and nurses.');
	}
	const patient = await getPatient(ctx, patientId);
	if (!patient) throw notFound('This patient');
	// Already in care: nothing to break.
	if ((await careOf(ctx, actor, patientId, { emergency: false })) !== null) return { kind: 'care' };

	const now = Date.now();
	const expiresAt = now + ctx.config.emergencyAccessMs;
	const admins = (await listUsersByRole(ctx, 'super_admin', 100)).items.filter((u) => u.active);
	if (admins.length > 90) throw new AppError(500, 'INTERNAL', 'Too many super administrators to notify in one transaction.');
	const role = actor.role === 'doctor' ? 'Dr.' : 'Nurse';
	const notices = admins.map((u) => ({
		userId: u.id,
		...notificationPut(ctx, u.id, {
			kind: 'emergency_access',
			title: `Emergency access: ${actor.name} opened ${patient.name}'s chart`,
			body: `${role === 'Dr.' ? 'Doctor' : role} ${actor.name} used emergency access to ${patient.name}'s chart until ${new Date(expiresAt).toISOString().slice(11, 16)} UTC. Reason: ${reason}`,
			relatedType: 'patient',
			relatedId: patientId
		})
	}));
	const outcome = await transactNamed(ctx, {
		grant: accessGrantPut(ctx, {
			user_id: actor.id,
			patient_id: patientId,
			kind: 'emergency',
			reason,
			created_at: new Date(now).toISOString(),
			expires_at: expiresAt,
			ttl: Math.ceil(expiresAt / 1000) + 86_400
		}),
		notices: notices.map((n) => n.item),
		audit: auditPut(ctx, caller, { action: 'emergency_access', resourceType: 'patient', resourceId: patientId, reason })
	});
	if (!outcome.ok) throw new AppError(409, 'VERSION_CONFLICT', 'Emergency access could not be recorded; try again.');
	for (const n of notices) announce(ctx, n.userId, n.event);
	return { kind: 'emergency', grantedAt: new Date(now).toISOString(), expiresAt: new Date(expiresAt).toISOString() };
}
