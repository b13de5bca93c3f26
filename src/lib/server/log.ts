import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import type { Config } from './config';

/**
 * Structured JSON logs through pino, one line an event: `{ level, time, service, …ids, msg }`.
 * Callers pass ids and counts, never names, phone numbers, health values, passwords or tokens;
 * should one slip in anyway, the keys below are replaced by "[redacted]" at the top level and
 * one level down (`{ patient: { phone } }`), in child bindings too.
 */
export type Logger = {
	debug(msg: string, fields?: Record<string, unknown>): void;
	info(msg: string, fields?: Record<string, unknown>): void;
	warn(msg: string, fields?: Record<string, unknown>): void;
	error(msg: string, fields?: Record<string, unknown>): void;
	child(fields: Record<string, unknown>): Logger;
};

/** Keys that carry identity, health data or secrets (camelCase and the tables' snake_case). */
export const REDACTED_KEYS = [
	'password', 'token', 'secret', 'cookie', 'authorization', 'email', 'phone', 'name', 'address',
	'dateOfBirth', 'date_of_birth', 'symptoms', 'notes', 'diagnosis', 'prescriptions', 'allergies',
	'vitals', 'text', 'body'
] as const;

const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]);

function wrap(p: pino.Logger): Logger {
	return {
		debug: (m, f) => p.debug(f ?? {}, m),
		info: (m, f) => p.info(f ?? {}, m),
		warn: (m, f) => p.warn(f ?? {}, m),
		error: (m, f) => p.error(f ?? {}, m),
		child: (fields) => wrap(p.child(fields))
	};
}

export function createLogger(
	level: Config['logLevel'],
	base: Record<string, unknown> = {},
	write?: (line: string) => void
): Logger {
	// Synchronous stdout by default: a line logged just before an exit is not lost.
	const stream: DestinationStream = write ? { write: (line: string) => write(line.replace(/\n$/, '')) } : pino.destination({ dest: 1, sync: true });
	return wrap(
		pino(
			{
				level,
				base,
				timestamp: stdTimeFunctions.isoTime,
				formatters: { level: (label) => ({ level: label }) },
				redact: { paths: REDACT_PATHS, censor: '[redacted]' }
			},
			stream
		)
	);
}
