import { badRequest } from '../errors';

/** Opaque paging cursors: whatever state a query needs to resume, base64url JSON. */
export function encodeCursor(state: unknown): string {
	return Buffer.from(JSON.stringify(state)).toString('base64url');
}

const invalidCursor = () =>
	badRequest('Invalid cursor: it is not one this server issued.', [
		{ field: 'cursor', message: 'not a valid paging cursor' }
	]);

export function decodeCursor<T extends object>(cursor: string, valid: (s: T) => boolean = () => true): T {
	try {
		const s = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as T;
		if (typeof s !== 'object' || s === null || Array.isArray(s) || !valid(s)) throw new Error('bad cursor');
		return s;
	} catch {
		throw invalidCursor();
	}
}

/** A DynamoDB start key as a cursor carries it: a flat map of string or number key attributes. */
export function isStartKey(v: unknown): v is Record<string, string | number> {
	return (
		typeof v === 'object' &&
		v !== null &&
		!Array.isArray(v) &&
		Object.keys(v).length > 0 &&
		Object.values(v).every((x) => typeof x === 'string' || typeof x === 'number')
	);
}

/**
 * Runs a query resumed from a client's start key. DynamoDB refuses a key that does not fit
 * the query (forged, or from another query) with ValidationException: a bad cursor, a 400.
 */
export async function resumeQuery<T>(startKey: unknown, run: () => Promise<T>): Promise<T> {
	try {
		return await run();
	} catch (err) {
		if (startKey !== undefined && (err as Error).name === 'ValidationException') throw invalidCursor();
		throw err;
	}
}
