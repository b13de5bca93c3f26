import type { Ctx } from '../context';
import type { Actor } from '../actor';
import { generateToken, tokenId } from './tokens';
import {
	deleteSession,
	deleteSessions,
	getSession,
	listUserSessionIds,
	putSession,
	touchSession,
	type SessionItem
} from '../repositories/sessions';
import { getUser, type UserItem } from '../repositories/users';
import { room } from '$lib/shared/rooms';

/**
 * Sessions after Lucia's model: the client holds a random token, the table holds only its
 * SHA-256. A session ends after SESSION_IDLE_MINUTES without use (sliding, renewed at most
 * once a minute) or SESSION_ABSOLUTE_HOURS after login, whichever comes first.
 */
export const SESSION_COOKIE = 'medtrack_session';
const RENEW_EVERY_MS = 60_000;

export type ValidSession = { session: SessionItem; user: UserItem; actor: Actor };

export function actorOf(user: UserItem): Actor {
	return {
		id: user.id,
		email: user.email,
		name: user.name,
		role: user.role,
		...(user.patient_id ? { patientId: user.patient_id } : {}),
		...(user.doctor_id ? { doctorId: user.doctor_id } : {}),
		...(user.hospital_id ? { hospitalId: user.hospital_id } : {})
	};
}

export async function createSession(
	ctx: Ctx,
	userId: string
): Promise<{ token: string; session: SessionItem }> {
	const token = generateToken();
	const now = Date.now();
	const absolute = now + ctx.config.session.absoluteMs;
	const expires = Math.min(now + ctx.config.session.idleMs, absolute);
	const session: SessionItem = {
		id: tokenId(token),
		kind: 'session',
		user_id: userId,
		created_at: new Date(now).toISOString(),
		expires_at: expires,
		absolute_expires_at: absolute,
		renewed_at: now,
		ttl: Math.ceil(absolute / 1000)
	};
	await putSession(ctx, session);
	return { token, session };
}

/** The session and user a token stands for, renewing the idle window; null if none. */
export async function validateSessionToken(ctx: Ctx, token: string): Promise<ValidSession | null> {
	if (!/^[a-z2-7]{32}$/.test(token)) return null;
	const id = tokenId(token);
	const now = Date.now();
	// At most once a minute, but at least twice per idle window, or a short window lapses in use.
	const renewEvery = Math.min(RENEW_EVERY_MS, ctx.config.session.idleMs / 2);
	// A just-validated session is trusted for a moment (SESSION_CACHE_MS) to spare two reads
	// per request; logout and deactivation evict it at once (see invalidate* below).
	const cached = ctx.sessionCache.get(id);
	if (
		cached &&
		now - cached.at < ctx.config.session.cacheMs &&
		now < cached.valid.session.expires_at &&
		now - cached.valid.session.renewed_at < renewEvery
	) {
		return cached.valid;
	}
	ctx.sessionCache.delete(id);
	const session = await getSession(ctx, id);
	if (!session || session.kind !== 'session') return null;
	if (now >= session.expires_at || now >= session.absolute_expires_at) {
		await deleteSession(ctx, id);
		return null;
	}
	const user = await getUser(ctx, session.user_id);
	if (!user || !user.active) {
		await deleteSession(ctx, id);
		return null;
	}
	if (now - session.renewed_at >= renewEvery) {
		const expires = Math.min(now + ctx.config.session.idleMs, session.absolute_expires_at);
		await touchSession(ctx, id, expires, now);
		session.expires_at = expires;
		session.renewed_at = now;
	}
	const valid = { session, user, actor: actorOf(user) };
	if (ctx.config.session.cacheMs > 0) {
		if (ctx.sessionCache.size > 10_000) ctx.sessionCache.clear();
		ctx.sessionCache.set(id, { valid, at: now });
	}
	return valid;
}

/** Drops a user's cached sessions so the next request reads their account afresh. */
export function forgetUserSessions(ctx: Ctx, userId: string): void {
	for (const [id, c] of ctx.sessionCache) if (c.valid.user.id === userId) ctx.sessionCache.delete(id);
}

export async function invalidateSession(ctx: Ctx, sessionId: string): Promise<void> {
	ctx.sessionCache.delete(sessionId);
	await deleteSession(ctx, sessionId);
	ctx.bus.emit(room.session(sessionId), 'session:ended', { reason: 'logout' });
	ctx.bus.disconnectRoom(room.session(sessionId));
}

/** Ends every session of a user now, and drops their live connections. */
export async function invalidateUserSessions(
	ctx: Ctx,
	userId: string,
	reason: 'logout' | 'deactivated' = 'deactivated'
): Promise<void> {
	forgetUserSessions(ctx, userId);
	const ids = await listUserSessionIds(ctx, userId);
	await deleteSessions(ctx, ids);
	ctx.bus.emit(room.user(userId), 'session:ended', { reason });
	ctx.bus.disconnectRoom(room.user(userId));
}

/** Ends every session of a user except `keep` (a password change ends the others). */
export async function invalidateOtherSessions(ctx: Ctx, userId: string, keep: string | undefined): Promise<void> {
	forgetUserSessions(ctx, userId);
	const ids = (await listUserSessionIds(ctx, userId)).filter((id) => id !== keep);
	await deleteSessions(ctx, ids);
	for (const id of ids) {
		ctx.bus.emit(room.session(id), 'session:ended', { reason: 'logout' });
		ctx.bus.disconnectRoom(room.session(id));
	}
}

/**
 * When a session ends if nobody uses it (idle or absolute expiry, whichever is first), or
 * null when it has ended or its account is deactivated. Reads without renewing: looking
 * does not count as use.
 */
export async function sessionExpiry(ctx: Ctx, sessionId: string): Promise<number | null> {
	const session = await getSession(ctx, sessionId);
	if (!session || session.kind !== 'session') return null;
	const until = Math.min(session.expires_at, session.absolute_expires_at);
	if (until <= Date.now()) return null;
	const user = await getUser(ctx, session.user_id);
	return user?.active ? until : null;
}
