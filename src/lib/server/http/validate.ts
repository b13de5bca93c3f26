import type { Request } from 'express';
import type { z } from 'zod';
import { fromZod, unauthenticated } from '../errors';
import type { Caller, Actor } from '../actor';

/** Parse helpers: every body, query and route param goes through zod before a service sees it. */
export function body<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
	const r = schema.safeParse(req.body ?? {});
	if (!r.success) throw fromZod(r.error, 'body');
	return r.data;
}

export function query<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
	const r = schema.safeParse(req.query ?? {});
	if (!r.success) throw fromZod(r.error, 'query');
	return r.data;
}

export function params<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
	const r = schema.safeParse(req.params ?? {});
	if (!r.success) throw fromZod(r.error, 'params');
	return r.data;
}

/** The version a client read: body field `version`, or an `If-Match` header ("3" or W/"3"). */
export function withIfMatch(req: Request): unknown {
	const raw = req.body;
	const header = req.get('if-match');
	if (header && raw && typeof raw === 'object' && !Array.isArray(raw) && !('version' in raw)) {
		const n = Number(header.replace(/^W\//, '').replace(/"/g, ''));
		return { ...raw, version: Number.isFinite(n) ? n : header };
	}
	return raw;
}

export function callerOf(req: Request): Caller {
	return req.caller;
}

export function actorOfReq(req: Request): Actor {
	if (!req.caller.actor) throw unauthenticated();
	return req.caller.actor;
}
