import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, refuse, requireActor } from '../auth/guard';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { auditPut, recordAudit } from './audit';
import { outboxPut } from './outbox';
import { createPut, stampNew, versionedUpdate, type UpdateSpec } from '../db/versioned';
import { decoyHash, hashPassword, verifyPassword } from '../auth/passwords';
import { actorOf, createSession, invalidateOtherSessions, invalidateSession, invalidateUserSessions } from '../auth/sessions';
import { allowResetRequest, LoginThrottled, reserveLoginAttempt } from '../auth/throttle';
import { generateToken, tokenId } from '../auth/tokens';
import { consumeSessionDelete, getSession, sessionCreatePut, type SessionItem } from '../repositories/sessions';
import { emailGuardPut, getUser, getUserByEmail, lastLoginUpdate, userIndexWrites, type UserItem } from '../repositories/users';
import { patientIndexWrites } from '../repositories/patients';
import type { PublicUser } from '$lib/shared/views';

export type Registration = {
	name: string;
	email: string;
	phone: string;
	dateOfBirth: string;
	bloodGroup: string;
	password: string;
};

export type { PublicUser };

export const publicUser = (u: UserItem): PublicUser => {
	const a = actorOf(u);
	return { id: a.id, email: a.email, name: a.name, role: a.role, patientId: a.patientId, doctorId: a.doctorId, hospitalId: a.hospitalId };
};

export const emailTaken = () =>
	new AppError(409, 'ALREADY_EXISTS', 'An account with this e-mail address already exists.', [{ field: 'email', message: 'is already registered' }]);

/** A patient signs themselves up: user, e-mail guard and patient record in one transaction. */
export async function registerPatient(ctx: Ctx, caller: Caller, input: Registration): Promise<PublicUser> {
	const userId = crypto.randomUUID();
	const patientId = crypto.randomUUID();
	const passwordHash = await hashPassword(input.password, ctx.config.argon2MemoryKib);
	const registrant: Caller = {
		...caller,
		actor: { id: userId, email: input.email, name: input.name, role: 'patient', patientId }
	};
	const user = stampNew(registrant, {
		id: userId,
		email: input.email,
		name: input.name,
		name_lower: input.name.toLowerCase(),
		role: 'patient' as const,
		phone: input.phone,
		active: true,
		password_hash: passwordHash,
		patient_id: patientId,
		notify_email: true
	});
	const patient = stampNew(registrant, {
		id: patientId,
		user_id: userId,
		name: input.name,
		email: input.email,
		phone: input.phone,
		date_of_birth: input.dateOfBirth,
		blood_group: input.bloodGroup
	});
	const outcome = await transactNamed(ctx, {
		user: createPut(ctx, 'users', 'id', user),
		email: emailGuardPut(ctx, input.email, userId),
		patient: createPut(ctx, 'patients', 'id', patient),
		patientSearch: patientIndexWrites(ctx, undefined, patient),
		userSearch: userIndexWrites(ctx, undefined, user),
		audit: auditPut(ctx, registrant, {
			action: 'register',
			resourceType: 'patient',
			resourceId: patientId,
			changedFields: ['name', 'email', 'phone', 'date_of_birth', 'blood_group', 'password_hash']
		})
	});
	if (!outcome.ok) throw outcome.failed === 'email' ? emailTaken() : new AppError(409, 'ALREADY_EXISTS', 'Could not create the account; try again.');
	return publicUser(user as UserItem);
}

const invalidCredentials = () =>
	new AppError(401, 'INVALID_CREDENTIALS', 'Invalid email or password.');

export async function login(
	ctx: Ctx,
	caller: Caller,
	input: { email: string; password: string }
): Promise<{ user: PublicUser; token: string; session: SessionItem }> {
	let attempt;
	try {
		attempt = await reserveLoginAttempt(ctx, input.email, caller.ip);
	} catch (err) {
		if (err instanceof LoginThrottled) {
			const known = await getUserByEmail(ctx, input.email);
			await recordAudit(ctx, caller, {
				action: 'login_throttled',
				resourceType: 'session',
				resourceId: err.scope,
				outcome: 'denied',
				subject: known ? { id: known.id, email: known.email, role: known.role } : undefined
			});
		}
		throw err;
	}
	const user = await getUserByEmail(ctx, input.email);
	const ok = user
		? await verifyPassword(user.password_hash, input.password)
		: (await verifyPassword(await decoyHash(), input.password), false);
	if (!user || !ok) {
		// The reserved attempt stays counted: it was a failure.
		await recordAudit(ctx, caller, {
			action: 'login_failed',
			resourceType: 'session',
			outcome: 'failure',
			subject: user ? { id: user.id, email: user.email, role: user.role } : undefined
		});
		throw invalidCredentials();
	}
	await attempt.succeeded();
	if (!user.active) {
		await recordAudit(ctx, caller, {
			action: 'login_failed',
			resourceType: 'session',
			outcome: 'denied',
			subject: { id: user.id, email: user.email, role: user.role }
		});
		throw new AppError(403, 'ACCOUNT_DISABLED', 'This account has been deactivated. Please contact your administrator.');
	}
	const { token, session } = await createSession(ctx, user.id);
	const actor = actorOf(user);
	const now = new Date().toISOString();
	// last_login is bookkeeping, not an edit: it does not bump the record's version.
	const outcome = await transactNamed(ctx, {
		lastLogin: lastLoginUpdate(ctx, user.id, now),
		audit: auditPut(ctx, { ...caller, actor }, { action: 'login', resourceType: 'session', resourceId: session.id.slice(0, 12) })
	});
	if (!outcome.ok) throw unexpectedFailure(outcome);
	return { user: publicUser(user), token, session };
}

export async function logout(ctx: Ctx, caller: Caller): Promise<void> {
	if (!caller.sessionId || !caller.actor) return;
	await invalidateSession(ctx, caller.sessionId);
	await recordAudit(ctx, caller, {
		action: 'logout',
		resourceType: 'session',
		resourceId: caller.sessionId.slice(0, 12)
	});
}

const RESET_TTL_MS = 30 * 60_000;

/**
 * A one-time reset link (30 minutes, only its hash stored) e-mailed through the outbox. With
 * SNS unconfigured the row stays visible in the admin outbox, so the link is never lost.
 */
async function sendResetLink(ctx: Ctx, caller: Caller, user: UserItem, by: 'self' | 'admin'): Promise<void> {
	const token = generateToken();
	const now = Date.now();
	const row: SessionItem = {
		id: tokenId(token),
		kind: 'password_reset',
		user_id: user.id,
		created_at: new Date(now).toISOString(),
		expires_at: now + RESET_TTL_MS,
		absolute_expires_at: now + RESET_TTL_MS,
		renewed_at: now,
		ttl: Math.ceil((now + RESET_TTL_MS) / 1000)
	};
	const link = `${ctx.config.origin ?? `http://localhost:${ctx.config.port}`}/reset-password?token=${token}`;
	const body =
		by === 'self'
			? `Someone asked to reset the password of your MedTrack account. If it was you, open ${link} within 30 minutes. If not, ignore this message.`
			: `An administrator sent you a link to set a new MedTrack password. Open ${link} within 30 minutes. If you did not expect this, tell your administrator.`;
	const outcome = await transactNamed(ctx, {
		token: sessionCreatePut(ctx, row),
		message: outboxPut(ctx, { kind: 'password_reset', channel: 'email', recipient: user.email, userId: user.id, subject: 'Reset your MedTrack password', body }),
		audit: auditPut(ctx, caller, {
			action: by === 'self' ? 'password_reset_requested' : 'password_reset_sent',
			resourceType: 'user',
			resourceId: user.id,
			subject: { id: user.id, email: user.email, role: user.role }
		})
	});
	if (!outcome.ok) throw new AppError(409, 'ALREADY_EXISTS', 'Could not create a reset link; try again.');
}

/** How long every reset request takes at least, so its timing does not tell which addresses exist. */
const RESET_ANSWER_MS = 250;

/**
 * Always answers the same way and after the same time, so the form does not reveal which
 * addresses have accounts; throttled per address and per IP.
 */
export async function requestPasswordReset(ctx: Ctx, caller: Caller, email: string): Promise<void> {
	const started = Date.now();
	try {
		if (!(await allowResetRequest(ctx, email, caller.ip))) return;
		const user = await getUserByEmail(ctx, email);
		if (!user || !user.active) return;
		await sendResetLink(ctx, caller, user, 'self');
	} finally {
		const left = RESET_ANSWER_MS - (Date.now() - started);
		if (left > 0) await new Promise((r) => setTimeout(r, left));
	}
}

/** An administrator sends a user a reset link (never sees or sets the password). */
export async function sendResetLinkToUser(ctx: Ctx, caller: Caller, userId: string): Promise<{ to: string; viaOutboxOnly: boolean }> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'users', 'write', { id: userId });
	const user = await getUser(ctx, userId);
	if (!user) throw notFound('This user');
	if (user.role === 'super_admin' && actor.role !== 'super_admin') {
		await refuse(ctx, caller, 'users', 'write', userId, 'Only a super administrator can reset a super administrator.');
	}
	if (!user.active) {
		throw new AppError(409, 'ACCOUNT_DISABLED', 'This account is deactivated: activate it before sending a reset link.');
	}
	await sendResetLink(ctx, caller, user, 'admin');
	return { to: user.email, viaOutboxOnly: !ctx.config.sns.topicArn };
}

/**
 * Everyone changes their own password with their current one; every other session of the
 * account ends at once (this one stays). Guessing the current password here counts against
 * the same throttle as logging in.
 */
export async function changePassword(ctx: Ctx, caller: Caller, input: { currentPassword: string; newPassword: string }): Promise<void> {
	const actor = requireActor(caller);
	const user = await getUser(ctx, actor.id);
	if (!user) throw notFound('Your account');
	const attempt = await reserveLoginAttempt(ctx, user.email, caller.ip);
	if (!(await verifyPassword(user.password_hash, input.currentPassword))) {
		await recordAudit(ctx, caller, { action: 'password_change_failed', resourceType: 'user', resourceId: user.id, outcome: 'failure' });
		throw new AppError(400, 'INVALID_CREDENTIALS', 'Your current password is not correct.', [
			{ field: 'currentPassword', message: 'is not your current password' }
		]);
	}
	await attempt.succeeded();
	if (input.currentPassword === input.newPassword) {
		throw badRequest('Choose a new password that differs from the current one.', [{ field: 'newPassword', message: 'must differ from the current password' }]);
	}
	await setPassword(ctx, caller, user, input.newPassword, 'password_changed');
	await invalidateOtherSessions(ctx, user.id, caller.sessionId);
}

/** A new password hash on the account, versioned and audited (the hash never in the audit). */
async function setPassword(
	ctx: Ctx,
	caller: Caller,
	user: UserItem,
	password: string,
	action: 'password_changed' | 'password_reset',
	more: Pick<UpdateSpec, 'extra' | 'onFailed'> = {}
): Promise<void> {
	await versionedUpdate(ctx, caller, {
		table: 'users',
		pkName: 'id',
		id: user.id,
		expectedVersion: user.version,
		set: { password_hash: await hashPassword(password, ctx.config.argon2MemoryKib) },
		resourceType: 'user',
		audit: { action, changedFields: ['password_hash'] },
		silent: true,
		...more
	});
}

const badToken = () =>
	new AppError(400, 'INVALID_TOKEN', 'This reset link is invalid or has expired. Please ask for a new one.', [
		{ field: 'token', message: 'invalid or expired' }
	]);

export async function confirmPasswordReset(
	ctx: Ctx,
	caller: Caller,
	input: { token: string; password: string }
): Promise<void> {
	if (!/^[a-z2-7]{32}$/.test(input.token)) throw badToken();
	const id = tokenId(input.token);
	const row = await getSession(ctx, id);
	if (!row || row.kind !== 'password_reset' || row.expires_at <= Date.now()) throw badToken();
	const user = await getUser(ctx, row.user_id);
	if (!user || !user.active) throw badToken();
	await setPassword(ctx, { ...caller, actor: actorOf(user) }, user, input.password, 'password_reset', {
		extra: { resetToken: consumeSessionDelete(ctx, id) },
		onFailed: (name) => (name === 'resetToken' ? badToken() : undefined)
	});
	await invalidateUserSessions(ctx, user.id, 'logout');
}
