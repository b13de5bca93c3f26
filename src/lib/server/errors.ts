import type { ZodError } from 'zod';
import type { ErrorBody, ErrorCode } from '$lib/shared/errors';

/** The one error body shape (SPEC §5): `{ error: { code, message, details? } }`. */
export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
	return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** An error a person can act on. Anything else that reaches the edge is a 500. */
export class AppError extends Error {
	override name = 'AppError';
	constructor(
		readonly status: number,
		readonly code: ErrorCode,
		message: string,
		readonly details?: unknown,
		readonly headers?: Record<string, string>
	) {
		super(message);
	}
	toBody(): ErrorBody {
		return errorBody(this.code, this.message, this.details);
	}
}

export const badRequest = (message: string, details?: unknown) =>
	new AppError(400, 'VALIDATION_FAILED', message, details);
export const unauthenticated = (message = 'Please log in.') =>
	new AppError(401, 'UNAUTHENTICATED', message);
export const forbidden = (message = 'You do not have access to this.') =>
	new AppError(403, 'FORBIDDEN', message);
export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} was not found.`);

/** zod issues → 400 naming each field. */
export function fromZod(err: ZodError, where: 'body' | 'query' | 'params' | 'payload'): AppError {
	const details = err.issues.map((i) => ({
		field: i.path.length ? i.path.join('.') : '(root)',
		message: i.message
	}));
	const first = details[0];
	const message = first
		? `Invalid ${where}: ${first.field === '(root)' ? '' : `${first.field}: `}${first.message}`
		: `Invalid ${where}.`;
	return new AppError(400, 'VALIDATION_FAILED', message, details);
}

/** The body of a 5xx: never a stack, a table name or an SDK message. */
export function internalBody(requestId: string): ErrorBody {
	return errorBody('INTERNAL', 'Something went wrong on our side. The error has been logged.', { requestId });
}
