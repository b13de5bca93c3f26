import crypto from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors';

/**
 * The one paging-cursor module. A cursor is the state a listing needs to resume
 * (base64url JSON) plus an HMAC over that state and the listing it belongs to (`scope`:
 * which query, and for per-user listings whose), so a client can hand it back but never
 * forge, edit or replay it on another listing. Anything else is 400 INVALID_CURSOR, as is a
 * state DynamoDB itself refuses as a start key.
 */
export type CursorKey = Buffer;

export const invalidCursor = (message = 'is not a paging cursor this server issued for this listing') =>
	new AppError(400, 'INVALID_CURSOR', 'Invalid cursor: start again from the first page.', [{ field: 'cursor', message }]);

function mac(key: CursorKey, scope: string, payload: string): string {
	return crypto.createHmac('sha256', key).update(scope).update('\u0000').update(payload).digest().subarray(0, 16).toString('base64url');
}

export function encodeCursor(key: CursorKey, scope: string, state: unknown): string {
	const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
	return `${payload}.${mac(key, scope, payload)}`;
}

/** The state of a cursor this server issued for `scope`, checked against `schema`; 400 otherwise. */
export function decodeCursor<S extends z.ZodType>(key: CursorKey, scope: string, cursor: string, schema: S): z.infer<S> {
	const [payload, tag, extra] = cursor.split('.');
	if (!payload || !tag || extra !== undefined) throw invalidCursor();
	const expected = Buffer.from(mac(key, scope, payload));
	const given = Buffer.from(tag);
	if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) throw invalidCursor();
	let state: unknown;
	try {
		state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
	} catch {
		throw invalidCursor();
	}
	const parsed = schema.safeParse(state);
	if (!parsed.success) throw invalidCursor('does not describe a position in this listing');
	return parsed.data;
}

/** A DynamoDB start key as a cursor carries it: a flat map of non-empty string or number key attributes. */
export const startKeySchema = z
	.record(z.string().min(1), z.union([z.string().min(1), z.number().finite()]))
	.refine((k) => Object.keys(k).length > 0 && Object.keys(k).length <= 4, 'must name a start key');
export type StartKey = z.infer<typeof startKeySchema>;

/**
 * Runs a query resumed from a client's start key. DynamoDB refuses a key that does not fit
 * the query with ValidationException: a bad cursor, a 400, never a 500.
 */
export async function resumeQuery<T>(startKey: unknown, run: () => Promise<T>): Promise<T> {
	try {
		return await run();
	} catch (err) {
		if (startKey !== undefined && (err as Error).name === 'ValidationException') throw invalidCursor();
		throw err;
	}
}
