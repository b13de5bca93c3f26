import type { Logger } from '../log';
import { AppError } from '../errors';
import { DbUnavailableError } from '../db/guard';

/**
 * The one mapping from a failed socket call to its acknowledgement, `{ ok: false, error:
 * { code, message, details? } }`, for `subscribe` and the chat events alike: the same codes
 * an HTTP caller gets (a database outage is DATABASE_UNAVAILABLE, to be retried), and never
 * internals.
 */
export type AckFailure = { ok: false; error: { code: string; message: string; details?: unknown } };

export function ackFailure(err: unknown, log: Logger, what: string): AckFailure {
	if (err instanceof AppError) return { ok: false, error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
	if (err instanceof DbUnavailableError) return { ok: false, error: { code: err.code, message: err.message } };
	log.error('socket call failed', { what, error: (err as Error).name });
	return { ok: false, error: { code: 'INTERNAL', message: 'Something went wrong on our side. Please try again.' } };
}
