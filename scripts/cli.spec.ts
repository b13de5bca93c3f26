import { describe, expect, it } from 'vitest';
import { countFlag, parseFlags, UsageError } from './cli';

const spec = { email: { type: 'string', value: '<e-mail>' }, password: { type: 'string' }, dry: { type: 'boolean' } } as const;

describe('parseFlags', () => {
	it('reads --flag value and --flag=value; absent flags stay undefined', () => {
		expect(parseFlags(spec, ['--email', 'a@b.org', '--password=x-Y=z'])).toEqual({ email: 'a@b.org', password: 'x-Y=z' });
		expect(parseFlags(spec, ['--dry'])).toEqual({ dry: true });
		expect(parseFlags(spec, [])).toEqual({});
	});

	it('an unknown flag is one line naming it and what the command accepts', () => {
		expect(() => parseFlags(spec, ['--emial', 'a@b.org'])).toThrow(UsageError);
		expect(() => parseFlags(spec, ['--emial', 'a@b.org'])).toThrow(
			"Unknown option --emial. This command accepts: --email <e-mail>, --password <value>, --dry."
		);
	});

	it('a missing value, a value for a boolean and a stray argument are errors too, never guessed', () => {
		expect(() => parseFlags(spec, ['--email'])).toThrow(/^Option '--email <value>' argument missing\. This command accepts: /);
		expect(() => parseFlags(spec, ['--dry=yes'])).toThrow(/^Option '--dry' does not take an argument\. This command accepts: /);
		expect(() => parseFlags(spec, ['extra'])).toThrow(/^Unexpected argument 'extra'\. This command accepts: /);
		// A value that looks like a flag is not silently swallowed.
		expect(() => parseFlags(spec, ['--password', '--dry'])).toThrow(UsageError);
		for (const argv of [['--email'], ['--dry=yes'], ['extra'], ['--nope']]) {
			try {
				parseFlags(spec, argv);
			} catch (err) {
				expect((err as Error).message).not.toContain('\n');
			}
		}
	});

	it('a command without options says so', () => {
		expect(() => parseFlags({}, ['--x'])).toThrow('Unknown option --x. This command takes no options.');
	});
});

describe('countFlag', () => {
	it('takes whole numbers of at least 1, the default when absent, and refuses the rest', () => {
		expect(countFlag(undefined, 'patients', 300)).toBe(300);
		expect(countFlag('25', 'patients', 300)).toBe(25);
		for (const bad of ['0', '-3', '2.5', '1e3', 'ten', '']) {
			expect(() => countFlag(bad, 'patients', 300)).toThrow(`--patients must be a whole number of at least 1, not '${bad}'.`);
		}
	});
});
