import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../errors';
import { decodeCursor, encodeCursor, invalidCursor, resumeQuery, startKeySchema } from './cursor';

const key = crypto.randomBytes(32);
const otherKey = crypto.randomBytes(32);
const scope = 'patients:name:smi';
const state = { pk: 'p#smith', sk: 'smith#2', n: 3 };

/** What decodeCursor throws, as the API would answer it. */
function refusal(fn: () => unknown): { status: number; code: string } | 'accepted' {
	try {
		fn();
		return 'accepted';
	} catch (err) {
		if (!(err instanceof AppError)) throw err;
		return { status: err.status, code: err.code };
	}
}
const INVALID = { status: 400, code: 'INVALID_CURSOR' };

describe('signed cursors', () => {
	it('round-trips the state it was issued with, for its own listing', () => {
		const c = encodeCursor(key, scope, state);
		expect(c).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
		expect(decodeCursor(key, scope, c, startKeySchema)).toEqual(state);
		const chat = { at: '2027-03-14T09:00:00.000Z', id: 'm1' };
		expect(decodeCursor(key, 'chat:c_1:u1', encodeCursor(key, 'chat:c_1:u1', chat), z.object({ at: z.string(), id: z.string() }).strict())).toEqual(chat);
	});

	it('is refused on another listing (another scope) or from another server key', () => {
		const c = encodeCursor(key, scope, state);
		expect(refusal(() => decodeCursor(key, 'patients:name:smith', c, startKeySchema))).toEqual(INVALID);
		expect(refusal(() => decodeCursor(key, 'users:doctor', c, startKeySchema))).toEqual(INVALID);
		expect(refusal(() => decodeCursor(otherKey, scope, c, startKeySchema))).toEqual(INVALID);
	});

	it('is refused when its state was edited, even re-encoded cleanly', () => {
		const [, tag] = encodeCursor(key, scope, state).split('.');
		const edited = Buffer.from(JSON.stringify({ ...state, pk: 'p#jones' })).toString('base64url');
		expect(refusal(() => decodeCursor(key, scope, `${edited}.${tag}`, startKeySchema))).toEqual(INVALID);
	});

	it('is refused when its signature was changed, shortened or left out', () => {
		const c = encodeCursor(key, scope, state);
		const [payload, tag] = c.split('.') as [string, string];
		const flipped = (tag[0] === 'A' ? 'B' : 'A') + tag.slice(1);
		for (const bad of [`${payload}.${flipped}`, `${payload}.${tag.slice(0, -2)}`, `${payload}.`, payload, `${c}.extra`, `.${tag}`, '', '..']) {
			expect(refusal(() => decodeCursor(key, scope, bad, startKeySchema)), JSON.stringify(bad)).toEqual(INVALID);
		}
	});

	it('a forged cursor (signed with a guessed key, or not base64 JSON) is refused', () => {
		const forged = encodeCursor(Buffer.from('medtrack'), scope, state);
		expect(refusal(() => decodeCursor(key, scope, forged, startKeySchema))).toEqual(INVALID);
		expect(refusal(() => decodeCursor(key, scope, 'not-a-cursor', startKeySchema))).toEqual(INVALID);
		expect(refusal(() => decodeCursor(key, scope, '{"pk":"x"}.abc', startKeySchema))).toEqual(INVALID);
	});

	it('a correctly signed cursor whose state does not fit the listing is still refused', () => {
		for (const wrong of [{}, { pk: '' }, { a: 1, b: 2, c: 3, d: 4, e: 5 }, { pk: { nested: true } }, ['pk'], 'pk', null]) {
			const c = encodeCursor(key, scope, wrong);
			expect(refusal(() => decodeCursor(key, scope, c, startKeySchema)), JSON.stringify(wrong)).toEqual(INVALID);
		}
		// Not JSON inside, yet signed: refused, not a crash.
		const payload = Buffer.from('{not json').toString('base64url');
		const signed = encodeCursor(key, scope, 0).split('.')[1];
		expect(refusal(() => decodeCursor(key, scope, `${payload}.${signed}`, startKeySchema))).toEqual(INVALID);
	});

	it('names the field in the 400 body', () => {
		expect(invalidCursor().toBody()).toEqual({
			error: { code: 'INVALID_CURSOR', message: 'Invalid cursor: start again from the first page.', details: [{ field: 'cursor', message: 'is not a paging cursor this server issued for this listing' }] }
		});
		expect(invalidCursor()).toMatchObject({ status: 400, code: 'INVALID_CURSOR', details: [{ field: 'cursor' }] });
	});
});

describe('resumeQuery', () => {
	it('turns DynamoDB refusing a start key into INVALID_CURSOR, and nothing else', async () => {
		const validation = Object.assign(new Error('The provided starting key is invalid'), { name: 'ValidationException' });
		await expect(resumeQuery({ pk: 'x' }, () => Promise.reject(validation))).rejects.toMatchObject(INVALID);
		// Without a client's key, the same error is the server's own: passed on as it is.
		await expect(resumeQuery(undefined, () => Promise.reject(validation))).rejects.toBe(validation);
		const outage = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
		await expect(resumeQuery({ pk: 'x' }, () => Promise.reject(outage))).rejects.toBe(outage);
		await expect(resumeQuery({ pk: 'x' }, () => Promise.resolve(7))).resolves.toBe(7);
	});
});
