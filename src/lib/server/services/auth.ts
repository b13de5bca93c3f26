import crypto from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError } from '../errors';
import { auditPut, recordAudit } from './audit';
import { outboxPut } from './outbox';
import { createPut, stampNew, transact, versionedUpdate } from '../db/versioned';
import { decoyHash, hashPassword, verifyPassword } from '../auth/passwords';
import { actorOf, createSession, invalidateSession, invalidateUserSessions } from '../auth/sessions';
import { assertLoginAllowed, clearAccountFailures, recordLoginFailure } from '../auth/throttle';
import { generateToken, tokenId } from '../auth/tokens';
import { consumeSessionDelete, getSession, type SessionItem } from '../repositories/sessions';
import { emailGuardPut, getUser, getUserByEmail, type UserItem } from '../repositories/users';
import { nameKeys } from '../repositories/patients';
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
	return { id: a.id, email: a.email, name: a.name, role: a.role, patientId: a.patientId, doctorId: a.doctorId };
};

const emailTaken = (reasons: { Code?: string }[]) =>
	reasons[1]?.Code === 'ConditionalCheckFailed'
		? new AppError(409, 'ALREADY_EXISTS', 'An account with this e-mail address already exists.', [
				{ field: 'email', message: 'is already registered' }
			])
		: undefined;

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
		...nameKeys(input.name),
		email: input.email,
		phone: input.phone,
		date_of_birth: input.dateOfBirth,
		blood_group: input.bloodGroup
	});
	await transact(
		ctx,
		[
			createPut(ctx, 'users', 'id', user),
			emailGuardPut(ctx, input.email, userId),
			createPut(ctx, 'patients', 'id', patient),
			auditPut(ctx, registrant, {
				action: 'register',
				resourceType: 'patient',
				resourceId: patientId,
				changedFields: ['name', 'email', 'phone', 'date_of_birth', 'blood_group', 'password_hash']
			})
		],
		emailTaken
	);
	return publicUser(user as UserItem);
}

const invalidCredentials = () =>
	new AppError(401, 'INVALID_CREDENTIALS', 'Invalid email or password.');

export async function login(
	ctx: Ctx,
	caller: Caller,
	input: { email: string; password: string }
): Promise<{ user: PublicUser; token: string; session: SessionItem }> {
	await assertLoginAllowed(ctx, input.email, caller.ip);
	const user = await getUserByEmail(ctx, input.email);
	const ok = user
		? await verifyPassword(user.password_hash, input.password)
		: (await verifyPassword(await decoyHash(), input.password), false);
	if (!user || !ok) {
		await recordLoginFailure(ctx, input.email, caller.ip);
		await recordAudit(ctx, caller, {
			action: 'login_failed',
			resourceType: 'session',
			outcome: 'failure',
			subject: user ? { id: user.id, email: user.email, role: user.role } : undefined
		});
		throw invalidCredentials();
	}
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
	await ctx.db.doc.send(
		new TransactWriteCommand({
			TransactItems: [
				{
					Update: {
						TableName: ctx.db.tables.users,
						Key: { id: user.id },
						UpdateExpression: 'SET last_login = :now',
						ConditionExpression: 'attribute_exists(id)',
						ExpressionAttributeValues: { ':now': now }
					}
				},
				auditPut(ctx, { ...caller, actor }, { action: 'login', resourceType: 'session', resourceId: session.id.slice(0, 12) })
			]
		})
	);
	await clearAccountFailures(ctx, input.email, caller.ip);
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

/** Always answers the same way, so the form does not reveal which addresses have accounts. */
export async function requestPasswordReset(ctx: Ctx, caller: Caller, email: string): Promise<void> {
	const user = await getUserByEmail(ctx, email);
	if (!user || !user.active) return;
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
	await transact(
		ctx,
		[
			{ Put: { TableName: ctx.db.tables.sessions, Item: row, ConditionExpression: 'attribute_not_exists(id)' } },
			outboxPut(ctx, {
				kind: 'password_reset',
				channel: 'email',
				recipient: user.email,
				userId: user.id,
				subject: 'Reset your MedTrack password',
				body: `Someone asked to reset the password of your MedTrack account. If it was you, open ${link} within 30 minutes. If not, ignore this message.`
			}),
			auditPut(ctx, caller, {
				action: 'password_reset_requested',
				resourceType: 'user',
				resourceId: user.id,
				subject: { id: user.id, email: user.email, role: user.role }
			})
		],
		() => undefined
	);
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
	const hash = await hashPassword(input.password, ctx.config.argon2MemoryKib);
	const subject: Caller = { ...caller, actor: actorOf(user) };
	await versionedUpdate(ctx, subject, {
		table: 'users',
		pkName: 'id',
		id: user.id,
		expectedVersion: user.version,
		set: { password_hash: hash },
		resourceType: 'user',
		audit: { action: 'password_reset', changedFields: ['password_hash'] },
		extra: [consumeSessionDelete(ctx, id)],
		onCancel: (reasons) => (reasons[1]?.Code === 'ConditionalCheckFailed' ? badToken() : undefined),
		silent: true
	});
	await invalidateUserSessions(ctx, user.id, 'logout');
}
