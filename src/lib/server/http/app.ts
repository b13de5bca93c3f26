import crypto from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Ctx } from '../context';
import { AppError, internalBody } from '../errors';
import { DbUnavailableError } from '../db/guard';
import { SESSION_COOKIE, validateSessionToken } from '../auth/sessions';
import { readCookie } from './cookies';
import { apiRouter } from '../api';
import { recordAudit } from '../services/audit';
import { isOwnOrigin } from './origin';

/**
 * The one place that mounts the API, sets security headers, authenticates requests and
 * turns errors into `{ error: { code, message, details } }`. Pages (the SvelteKit handler)
 * are mounted after the API by the caller.
 */
export type PageHandler = RequestHandler;

/**
 * Security headers (helmet): nosniff, `X-Frame-Options: DENY`, a referrer policy, COOP/CORP
 * same-origin and helmet's other defaults on every answer; HSTS only behind TLS. The CSP of
 * pages comes from SvelteKit (svelte.config.js hashes its bootstrap script), so helmet's is off
 * there; an API answer allows nothing at all.
 */
const securityHeaders = helmet({
	contentSecurityPolicy: false,
	strictTransportSecurity: false,
	xFrameOptions: { action: 'deny' },
	referrerPolicy: { policy: 'strict-origin-when-cross-origin' }
});
const hsts = helmet.strictTransportSecurity({ maxAge: 31_536_000, includeSubDomains: true });
const apiCsp = helmet.contentSecurityPolicy({ useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } });
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];
export const MAX_QUERY_CHARS = 4096;


function sameOrigin(ctx: Ctx, req: express.Request): boolean {
	const origin = req.get('origin');
	if (origin !== undefined) return isOwnOrigin(ctx, origin, req.get('host'));
	// Browsers that send no Origin still say where a request came from.
	return req.get('sec-fetch-site') === 'same-origin';
}

export function createApp(ctx: Ctx, pages?: PageHandler): express.Express {
	const app = express();
	app.disable('x-powered-by');
	app.set('trust proxy', ctx.config.trustProxy);
	app.set('etag', false);

	app.use(securityHeaders);
	app.use((req, res, next) => (req.secure ? hsts(req, res, next) : next()));
	app.use('/api', apiCsp);

	// Request id, the headers helmet has no option for, one structured log line per request (ids only, no PHI).
	app.use((req, res, next) => {
		const incoming = req.get('x-request-id');
		// A client's id is kept only if it is plainly an id: it ends up in logs and audit entries.
		req.requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
		res.setHeader('X-Request-Id', req.requestId);
		res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(self)');
		if (req.path.startsWith('/api/')) res.setHeader('Cache-Control', 'no-store');
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
			// The health check still answers (anonymously) when the session cannot be read.
			if (err instanceof DbUnavailableError && req.path === '/api/health') return next();
			next(err);
		}
	});

	// Query strings are small in this API; an oversized one is refused before anything parses it.
	app.use('/api', (req, _res, next) => {
		const q = req.originalUrl.indexOf('?');
		if (q >= 0 && req.originalUrl.length - q - 1 > MAX_QUERY_CHARS) {
			return next(
				new AppError(414, 'URI_TOO_LONG', `The query string is too long (at most ${MAX_QUERY_CHARS} characters).`, [
					{ field: '(query)', message: `longer than ${MAX_QUERY_CHARS} characters` }
				])
			);
		}
		next();
	});

	// CSRF: a state-changing request carried by the cookie must say it comes from our own
	// origin (Origin, or Sec-Fetch-Site: same-origin); a missing Origin is not enough.
	app.use('/api', async (req, _res, next) => {
		if (SAFE_METHODS.includes(req.method)) return next();
		if (!(req as { viaCookie?: boolean }).viaCookie) return next();
		if (sameOrigin(ctx, req)) return next();
		try {
			await recordAudit(ctx, req.caller, { action: 'csrf_refused', resourceType: 'request', resourceId: req.path.slice(0, 100), outcome: 'denied' });
		} catch (err) {
			ctx.log.warn('csrf refusal not audited', { requestId: req.requestId, error: (err as Error).name });
		}
		next(new AppError(403, 'CSRF', 'Cross-site request refused: this request did not come from a MedTrack page.'));
	});

	// A body is JSON, said so: anything else is refused before it is parsed.
	app.use('/api', (req, _res, next) => {
		if (SAFE_METHODS.includes(req.method)) return next();
		const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
		if (hasBody && !req.is('application/json')) {
			return next(
				new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the request body as JSON with Content-Type: application/json.', [
					{ field: '(header) content-type', message: `must be application/json, not ${req.get('content-type') ?? 'missing'}` }
				])
			);
		}
		next();
	});

	app.use('/api', express.json({ limit: '256kb', strict: false, type: 'application/json' }));
	app.use('/api', apiRouter(ctx));
	app.use('/api', (req, _res, next) =>
		next(new AppError(404, 'NOT_FOUND', `No API endpoint ${req.method} ${req.path}.`))
	);

	if (pages) {
		// An address that does not decode never reaches the page handler (SvelteKit would fail
		// on it outside its own error handling): 400 in the error shape.
		app.use((req, _res, next) => {
			try {
				decodeURIComponent(req.path);
				next();
			} catch {
				next(new AppError(400, 'VALIDATION_FAILED', 'The address is not valid.', [{ field: '(path)', message: 'malformed %-encoding' }]));
			}
		});
		app.use(pages);
	}

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
