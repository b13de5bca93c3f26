import readline from 'node:readline';
import { Writable } from 'node:stream';

/** Small helpers shared by the CLI scripts: flags, prompts and a progress bar. */
export function flags(argv = process.argv.slice(2)): Record<string, string | true> {
	const out: Record<string, string | true> = {};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i]!;
		if (!a.startsWith('--')) continue;
		const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
		if (v !== undefined) out[k] = v;
		else if (argv[i + 1] && !argv[i + 1]!.startsWith('--')) out[k] = argv[++i]!;
		else out[k] = true;
	}
	return out;
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
