import readline from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';

/** Small helpers shared by the CLI scripts: flags, prompts and a progress bar. */

/** One flag a command accepts: `--name <value>` (string) or `--name` (boolean). */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; value?: string }>;
export type FlagValues<S extends FlagSpec> = { [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string };

/** A command line this command does not accept; its message is the one line to print. */
export class UsageError extends Error {
	override name = 'UsageError';
}

function usage(spec: FlagSpec): string {
	const accepted = Object.entries(spec).map(([k, o]) => (o.type === 'string' ? `--${k} ${o.value ?? '<value>'}` : `--${k}`));
	return accepted.length ? `This command accepts: ${accepted.join(', ')}.` : 'This command takes no options.';
}

/**
 * Parses `--flag value` / `--flag=value` with `node:util` parseArgs, strictly: an unknown flag,
 * a missing value, a value given to a boolean flag or a stray argument is a UsageError that
 * names the problem and what the command accepts.
 */
export function parseFlags<S extends FlagSpec>(spec: S, argv: string[] = process.argv.slice(2)): FlagValues<S> {
	const options = Object.fromEntries(Object.entries(spec).map(([k, o]) => [k, { type: o.type }]));
	try {
		return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as FlagValues<S>;
	} catch (err) {
		const e = err as Error & { code?: string };
		if (!e.code?.startsWith('ERR_PARSE_ARGS_')) throw err;
		const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? '';
		const reason =
			e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
				? `Unknown option ${quoted}.`
				: e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
					? `Unexpected argument '${quoted}'.`
					: `${e.message.split('. ')[0]!.replace(/\.$/, '')}.`;
		throw new UsageError(`${reason} ${usage(spec)}`);
	}
}

/** `--name N`: a whole number ≥ 1, or the default when absent. */
export function countFlag(value: string | undefined, name: string, fallback: number): number {
	if (value === undefined) return fallback;
	if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`--${name} must be a whole number of at least 1, not '${value}'.`);
	return Number(value);
}

/** For a CLI entry: runs `parse`, or prints its UsageError as one line and exits 2. */
export function orExit<T>(parse: () => T): T {
	try {
		return parse();
	} catch (err) {
		if (!(err instanceof UsageError)) throw err;
		process.stderr.write(`${err.message}\n`);
		process.exit(2);
	}
}

export async function prompt(question: string, hidden = false): Promise<string> {
	if (!process.stdin.isTTY) throw new Error(`Missing value for: ${question.trim()} (pass it as a flag).`);
	let muted = false;
	const output = new Writable({
		write(chunk, _enc, cb) {
			if (!muted) process.stdout.write(chunk);
			cb();
		}
	});
	const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
	const answer = new Promise<string>((resolve) => rl.question(question, resolve));
	muted = hidden;
	const value = await answer;
	rl.close();
	if (hidden) process.stdout.write('\n');
	return value.trim();
}

/** A one-line progress bar on a terminal; plain periodic lines otherwise (CI logs). */
export function progress(label: string, total: number) {
	const started = Date.now();
	let last = -1;
	return {
		tick(done: number) {
			const pct = total ? Math.floor((done / total) * 100) : 100;
			if (process.stdout.isTTY) {
				const width = 30;
				const fill = Math.round((pct / 100) * width);
				process.stdout.write(`\r  ${label.padEnd(14)} [${'█'.repeat(fill)}${'░'.repeat(width - fill)}] ${String(pct).padStart(3)}%  ${done}/${total}`);
			} else if (pct >= last + 10 || done === total) {
				process.stdout.write(`  ${label}: ${done}/${total} (${pct}%)\n`);
				last = pct;
			}
		},
		done(note = '') {
			if (process.stdout.isTTY) process.stdout.write('\n');
			process.stdout.write(`  ${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s${note ? ` — ${note}` : ''}\n`);
		}
	};
}
