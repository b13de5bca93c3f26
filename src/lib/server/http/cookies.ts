import type { Request, Response } from 'express';
import type { Ctx } from '../context';
import { SESSION_COOKIE } from '../auth/sessions';

export function readCookie(header: string | undefined, name: string): string | undefined {
	if (!header) return undefined;
	for (const part of header.split(';')) {
		const i = part.indexOf('=');
		if (i < 0) continue;
		if (part.slice(0, i).trim() === name) {
			try {
				return decodeURIComponent(part.slice(i + 1).trim());
			} catch {
				return undefined;
			}
		}
	}
	return undefined;
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
