import type { Config } from './config';

/**
 * Structured JSON logs, one line an event. Callers pass ids and counts, never names,
 * phone numbers, health values, passwords or tokens.
 */
export type Logger = {
	debug(msg: string, fields?: Record<string, unknown>): void;
	info(msg: string, fields?: Record<string, unknown>): void;
	warn(msg: string, fields?: Record<string, unknown>): void;
	error(msg: string, fields?: Record<string, unknown>): void;
	child(fields: Record<string, unknown>): Logger;
};

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;

export function createLogger(
	level: Config['logLevel'],
	base: Record<string, unknown> = {},
	write: (line: string) => void = (l) => process.stdout.write(l + '\n')
): Logger {
	const min = LEVELS[level];
	const emit = (lvl: keyof typeof LEVELS, msg: string, fields?: Record<string, unknown>) => {
		if (LEVELS[lvl] < min) return;
		write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }));
	};
	return {
		debug: (m, f) => emit('debug', m, f),
		info: (m, f) => emit('info', m, f),
		warn: (m, f) => emit('warn', m, f),
		error: (m, f) => emit('error', m, f),
		child: (fields) => createLogger(level, { ...base, ...fields }, write)
	};
}
