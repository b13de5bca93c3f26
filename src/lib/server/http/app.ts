import crypto from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Ctx } from '../context';
import { AppError, internalBody } from '../errors';
import { DbUnavailableError } from '../db/guard';
import { SESSION_COOKIE, validateSessionToken } from '../auth/sessions';
import { readCookie } from './cookies';
import { apiRouter } from '../api';

/**
 * The one place that mounts the API, sets security headers, authenticates requests and
 * turns errors into `{ error: { code, message, details } }`. Pages (the SvelteKit handler)
 * are mounted after the API by the caller.
 */
export type PageHandler = RequestHandler;

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export function createApp(ctx: Ctx, pages?: PageHandler): express.Express {
	const app = express();
	app.disable('x-powered-by');
	app.set('trust proxy', ctx.config.trustProxy);
	app.set('etag', false);

	// Request id, security headers, one structured log line per request (ids only, no PHI).
	app.use((req, res, next) => {
		const incoming = req.get('x-request-id');
		req.requestId = incoming && /^[A-Za-z0-9._-]{8,64}$/.test(incoming) ? incoming : crypto.randomUUID();
		res.setHeader('X-Request-Id', req.requestId);
		res.setHeader('X-Content-Type-Options', 'nosniff');
		res.setHeader('X-Frame-Options', 'DENY');
		res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
		res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
		res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(self)');
		if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
		if (req.path.startsWith('/api/')) {
			res.setHeader('Content-Security-Policy', API_CSP);
			res.setHeader('Cache-Control', 'no-store');
		}
		const t0 = performance.now();
		// Server-Timing: how long the server spent on the request, visible in browser dev tools.
		const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => typeof res;
		res.writeHead = ((...args: unknown[]) => {
			if (!res.headersSent) res.setHeader('Server-Timing', `app;dur=${(performance.now() - t0).toFixed(2)}`);
			return writeHead(...args);
		}) as typeof res.writeHead;
		res.on('finish', () => {
			if (!req.path.startsWith('/api/')) return;
			ctx.log.info('request', {
				requestId: req.requestId,
				method: req.method,
				route: req.route?.path ?? req.path.replace(/[0-9a-f-]{36}/g, ':id'),
				status: res.statusCode,
				ms: Math.round((performance.now() - t0) * 10) / 10,
				userId: req.caller?.actor?.id
			});
		});
		next();
	});

	// Who is calling: a session cookie, or `Authorization: Bearer <token>` for API clients.
	app.use(async (req, _res, next) => {
		req.caller = { actor: null, requestId: req.requestId, ip: req.ip ?? req.socket.remoteAddress ?? '' };
		const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
		const cookie = readCookie(req.get('cookie'), SESSION_COOKIE);
		const token = bearer ?? cookie;
		if (!token) return next();
		try {
			const valid = await validateSessionToken(ctx, token);
			if (valid) {
				req.caller = { ...req.caller, actor: valid.actor, sessionId: valid.session.id };
				(req as { viaCookie?: boolean }).viaCookie = !bearer;
			}
			next();
		} catch (err) {
			next(err);
		}
	});

	// CSRF: a state-changing request carried by the cookie must come from our own origin.
	app.use('/api', (req, _res, next) => {
		if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
		if (!(req as { viaCookie?: boolean }).viaCookie) return next();
		const origin = req.get('origin');
		const host = req.get('host');
		const allowed = ctx.config.origin ? [new URL(ctx.config.origin).origin] : [];
		// An opaque or unparseable Origin ("null" from a sandboxed frame) is simply not ours.
		const sameHost = origin && host && URL.canParse(origin) && new URL(origin).host === host;
		if (origin && !sameHost && !allowed.includes(origin)) {
			return next(new AppError(403, 'CSRF', 'Cross-site request refused.'));
		}
		next();
	});

	app.use('/api', express.json({ limit: '256kb', strict: false, type: () => true }));
	app.use('/api', apiRouter(ctx));
	app.use('/api', (req, _res, next) =>
		next(new AppError(404, 'NOT_FOUND', `No API endpoint ${req.method} ${req.path}.`))
	);

	if (pages) app.use(pages);

	const onError: ErrorRequestHandler = (err, req, res, _next) => {
		const requestId = req.requestId ?? 'unknown';
		if (err instanceof AppError) {
			if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
			res.status(err.status).json(err.toBody());
			return;
		}
		const e = err as { type?: string; status?: number; name?: string; message?: string };
		if (e.type === 'entity.parse.failed') {
			res.status(400).json({
				error: { code: 'INVALID_JSON', message: 'The request body is not valid JSON.', details: [{ field: '(body)', message: 'malformed JSON' }] }
			});
			return;
		}
		if (e.status === 400) {
			// Input unreadable before zod sees it (a bad %-escape in the path, a body that does not inflate).
			const where = e.name === 'URIError' ? '(path)' : '(body)';
			res.status(400).json({
				error: { code: 'VALIDATION_FAILED', message: 'The request could not be read.', details: [{ field: where, message: 'unreadable' }] }
			});
			return;
		}
		if (e.type === 'entity.too.large') {
			res.status(413).json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large (256 KB at most).' } });
			return;
		}
		if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
			res.status(415).json({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send JSON in UTF-8.' } });
			return;
		}
		// DynamoDB unreachable, timed out or throttling: db/guard.ts has already decided and says so
		// with this one error type (nothing here looks at SDK error names).
		if (err instanceof DbUnavailableError) {
			for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
			res.status(err.status).json(err.toBody(requestId));
			return;
		}
		ctx.log.error('request failed', { requestId, error: e.name });
		res.status(500).json(internalBody(requestId));
	};
	app.use(onError);
	return app;
}
