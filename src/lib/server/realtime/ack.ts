import type { Logger } from '../log';
import { AppError, errorBody } from '../errors';
import type { ErrorBody } from '$lib/shared/errors';
import { DbUnavailableError } from '../db/guard';

/**
 * The one mapping from a failed socket call to its acknowledgement, `{ ok: false, error:
 * { code, message, details? } }`, for `subscribe` and the chat events alike: the same codes
 * an HTTP caller gets (a database outage is DATABASE_UNAVAILABLE, to be retried), and never
 * internals.
 */
export type AckFailure = { ok: false } & ErrorBody;

export function ackFailure(err: unknown, log: Logger, what: string): AckFailure {
	if (err instanceof AppError || err instanceof DbUnavailableError) return { ok: false, ...err.toBody() };
	log.error('socket call failed', { what, error: (err as Error).name });
	return { ok: false, ...errorBody('INTERNAL', 'Something went wrong on our side. Please try again.') };
}
