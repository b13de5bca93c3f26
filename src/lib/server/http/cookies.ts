import type { Request, Response } from 'express';
import { parse as parseCookie } from 'cookie';
import type { Ctx } from '../context';
import { SESSION_COOKIE } from '../auth/sessions';

/** One cookie of a Cookie header (parsed by the `cookie` package; a malformed value reads as absent). */
export function readCookie(header: string | undefined, name: string): string | undefined {
	if (!header) return undefined;
	try {
		return parseCookie(header)[name];
	} catch {
		return undefined;
	}
}

/** HttpOnly, SameSite=Lax, and Secure whenever the request came over TLS (or COOKIE_SECURE). */
export function setSessionCookie(ctx: Ctx, req: Request, res: Response, token: string, expiresAt: number) {
	const secure = ctx.config.session.cookieSecure ?? req.secure;
	res.cookie(SESSION_COOKIE, token, {
		httpOnly: true,
		sameSite: 'lax',
		secure,
		path: '/',
		expires: new Date(expiresAt)
	});
}

export function clearSessionCookie(ctx: Ctx, req: Request, res: Response) {
	const secure = ctx.config.session.cookieSecure ?? req.secure;
	res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
}
