import crypto from 'node:crypto';
import type { Ctx } from '../context';
import { AppError } from '../errors';
import { decrement, deleteCounter, incrementBelow } from '../repositories/counters';

/**
 * Login throttling per account and per IP, in fixed windows of LOGIN_THROTTLE_MINUTES,
 * counted atomically BEFORE the password is checked: each attempt first reserves one unit
 * of the account's and the IP's allowance with a conditional increment, so 30 guesses sent
 * at once let at most LOGIN_MAX_FAILURES_PER_ACCOUNT reach argon2; the rest, and the right
 * password after them, get 429 until the window ends. A successful login gives its
 * reservation back (and clears the account's count); a failed one keeps it as a failure.
 */
function keys(ctx: Ctx, email: string, ip: string, now: number) {
	const window = Math.floor(now / ctx.config.throttle.windowMs);
	const h = (s: string) => crypto.createHmac('sha256', ctx.auditIpKey).update(s).digest('hex').slice(0, 32);
	return {
		account: `login-fail#acct#${h(email.trim().toLowerCase())}#${window}`,
		ip: `login-fail#ip#${h(ip)}#${window}`,
		ttl: Math.ceil(((window + 2) * ctx.config.throttle.windowMs) / 1000),
		retryAfterS: Math.max(1, Math.ceil(((window + 1) * ctx.config.throttle.windowMs - now) / 1000))
	};
}

/**
 * Reset-link requests, per address and per IP in the same windows: at most 3 links an
 * address and 20 requests an IP. Past that the request is answered exactly like any other
 * (so the form reveals nothing) but sends nothing.
 */
export async function allowResetRequest(ctx: Ctx, email: string, ip: string): Promise<boolean> {
	const k = keys(ctx, email, ip, Date.now());
	if (!(await incrementBelow(ctx, k.account.replace('login-fail#', 'reset#'), 3, k.ttl, 'reset_request'))) return false;
	return incrementBelow(ctx, k.ip.replace('login-fail#', 'reset#'), 20, k.ttl, 'reset_request');
}

export class LoginThrottled extends AppError {
	constructor(readonly scope: 'account' | 'ip', retryAfterS: number) {
		super(
			429,
			'TOO_MANY_REQUESTS',
			`Too many login attempts. Try again in ${Math.ceil(retryAfterS / 60)} minute(s) or reset your password.`,
			{ retryAfterSeconds: retryAfterS },
			{ 'Retry-After': String(retryAfterS) }
		);
	}
}

export type LoginAttempt = {
	/** The password was right: give the reservation back and clear the account's failures. */
	succeeded(): Promise<void>;
};

/** Reserves one attempt for this account and IP, or throws LoginThrottled (429). */
export async function reserveLoginAttempt(ctx: Ctx, email: string, ip: string): Promise<LoginAttempt> {
	const k = keys(ctx, email, ip, Date.now());
	const { perAccount, perIp } = ctx.config.throttle;
	if (!(await incrementBelow(ctx, k.account, perAccount, k.ttl, 'login_fail'))) throw new LoginThrottled('account', k.retryAfterS);
	if (!(await incrementBelow(ctx, k.ip, perIp, k.ttl, 'login_fail'))) {
		await decrement(ctx, k.account);
		throw new LoginThrottled('ip', k.retryAfterS);
	}
	return {
		async succeeded() {
			await Promise.all([deleteCounter(ctx, k.account), decrement(ctx, k.ip)]);
		}
	};
}
