import crypto from 'node:crypto';
import { BatchGetCommand, DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { AppError } from '../errors';

/**
 * Login throttling per account and per IP, kept in the `locks` table so every instance
 * sees the same counts. Fixed windows of LOGIN_THROTTLE_MINUTES: once an account (or an
 * IP) reaches its failure limit in a window, further attempts are refused until it ends.
 */
function keys(ctx: Ctx, email: string, ip: string, now: number) {
	const window = Math.floor(now / ctx.config.throttle.windowMs);
	const h = (s: string) => crypto.createHmac('sha256', ctx.auditIpKey).update(s).digest('hex').slice(0, 32);
	return {
		window,
		account: `login-fail#acct#${h(email.trim().toLowerCase())}#${window}`,
		ip: `login-fail#ip#${h(ip)}#${window}`,
		retryAfterS: Math.ceil(((window + 1) * ctx.config.throttle.windowMs - now) / 1000)
	};
}

export async function assertLoginAllowed(ctx: Ctx, email: string, ip: string): Promise<void> {
	const k = keys(ctx, email, ip, Date.now());
	const res = await ctx.db.doc.send(
		new BatchGetCommand({
			RequestItems: {
				[ctx.db.tables.locks]: { Keys: [{ id: k.account }, { id: k.ip }], ConsistentRead: true }
			}
		})
	);
	const rows = res.Responses?.[ctx.db.tables.locks] ?? [];
	const count = (id: string) => Number(rows.find((r) => r.id === id)?.count ?? 0);
	if (count(k.account) >= ctx.config.throttle.perAccount || count(k.ip) >= ctx.config.throttle.perIp) {
		throw new AppError(
			429,
			'TOO_MANY_REQUESTS',
			`Too many failed logins. Try again in ${Math.ceil(k.retryAfterS / 60)} minute(s) or reset your password.`,
			{ retryAfterSeconds: k.retryAfterS },
			{ 'Retry-After': String(k.retryAfterS) }
		);
	}
}

export async function recordLoginFailure(ctx: Ctx, email: string, ip: string): Promise<void> {
	const now = Date.now();
	const k = keys(ctx, email, ip, now);
	const ttl = Math.ceil(((k.window + 2) * ctx.config.throttle.windowMs) / 1000);
	await Promise.all(
		[k.account, k.ip].map((id) =>
			ctx.db.doc.send(
				new UpdateCommand({
					TableName: ctx.db.tables.locks,
					Key: { id },
					UpdateExpression: 'ADD #c :one SET #ttl = :ttl, kind = :kind',
					ExpressionAttributeNames: { '#c': 'count', '#ttl': 'ttl' },
					ExpressionAttributeValues: { ':one': 1, ':ttl': ttl, ':kind': 'login_fail' }
				})
			)
		)
	);
}

export async function clearAccountFailures(ctx: Ctx, email: string, ip: string): Promise<void> {
	const k = keys(ctx, email, ip, Date.now());
	await ctx.db.doc.send(new DeleteCommand({ TableName: ctx.db.tables.locks, Key: { id: k.account } }));
}
