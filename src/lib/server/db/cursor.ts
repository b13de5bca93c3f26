import { badRequest } from '../errors';

/** Opaque paging cursors: whatever state a query needs to resume, base64url JSON. */
export function encodeCursor(state: unknown): string {
	return Buffer.from(JSON.stringify(state)).toString('base64url');
}

export function decodeCursor<T extends object>(cursor: string, valid: (s: T) => boolean = () => true): T {
	try {
		const s = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as T;
		if (typeof s !== 'object' || s === null || !valid(s)) throw new Error('bad cursor');
		return s;
	} catch {
		throw badRequest('Invalid cursor: it is not one this server issued.', [
			{ field: 'cursor', message: 'not a valid paging cursor' }
		]);
	}
}
