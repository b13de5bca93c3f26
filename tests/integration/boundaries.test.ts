/**
 * The import boundaries `npm run check` enforces (.dependency-cruiser.cjs, issue #8): the tree
 * as it is passes them, and each rule fails on a violation planted for it. The planted files go
 * into a copy of the tree (the real configuration and sources, in a temporary folder), so a
 * concurrent build or check of the work tree never sees them; the copy is always removed.
 */
import os from 'node:os';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
// depcruise reads the whole tree (a few seconds; more on a busy machine): well past the default timeout.

/** The depcruise command exactly as the `check` script runs it. */
function checkCommand(): string[] {
	const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
	const step = pkg.scripts.check!.split('&&').map((s) => s.trim()).find((s) => s.startsWith('depcruise '));
	if (!step) throw new Error('npm run check does not run depcruise');
	return step.split(/\s+/).slice(1);
}

type Violation = { rule: string; from: string; to: string };

/** Runs depcruise as `npm run check` does: its exit status and the violations it printed. */
async function depcruise(args: string[], cwd = root): Promise<{ code: number; violations: Violation[]; output: string }> {
	const bin = path.join(root, 'node_modules/.bin/depcruise');
	let code = 0;
	let output: string;
	try {
		const r = await run(bin, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
		output = r.stdout + r.stderr;
	} catch (err) {
		const e = err as { code?: number; stdout?: string; stderr?: string };
		if (typeof e.code !== 'number') throw err;
		code = e.code;
		output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
	}
	// "  error shared-is-pure: src/lib/shared/x.ts → src/lib/server/config.ts"
	const violations = [...output.matchAll(/^\s*error (\S+): (.+?) → (.+)$/gm)].map((m) => ({ rule: m[1]!, from: m[2]!, to: m[3]!.trim() }));
	return { code, violations, output };
}

/** A copy of what the check reads: its folders, the configuration and the package (node_modules linked). */
function copyOfTree(args: string[]): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtrack-boundaries-'));
	const config = args[args.indexOf('--config') + 1]!;
	const folders = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--config');
	// tests/: the benchmark scripts import its fixtures.
	for (const f of [...folders, 'tests', config, 'tsconfig.boundaries.json', 'package.json']) {
		fs.cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
	}
	fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
	return dir;
}

/** One planted file per rule: where it goes, what it imports, and the rule that must catch it (null: a helper file, itself allowed). */
const PLANTED: { file: string; body: string; rule: string | null; to: string | null }[] = [
	{ file: 'src/lib/shared/__planted_boundary.ts', body: "import { loadConfig } from '$lib/server/config';\nexport const x = loadConfig;\n", rule: 'shared-is-pure', to: 'src/lib/server/config.ts' },
	{ file: 'src/lib/client/__planted_boundary.ts', body: "import { AppError } from '$lib/server/errors';\nexport const x = AppError;\n", rule: 'browser-not-server', to: 'src/lib/server/errors.ts' },
	{
		file: 'src/lib/components/__PlantedBoundary.svelte',
		body: "<script lang=\"ts\">\n\timport { AppError } from '$lib/server/errors';\n\tconst x = AppError;\n</script>\n\n<p>{String(x)}</p>\n",
		rule: 'browser-not-server',
		to: 'src/lib/server/errors.ts'
	},
	// Through a module outside every folder rule: the browser still may not reach the server.
	{ file: 'src/lib/__planted_bridge.ts', body: "import { AppError } from '$lib/server/errors';\nexport const x = AppError;\n", rule: null, to: null },
	{ file: 'src/lib/components/__planted_via.ts', body: "import { x } from '$lib/__planted_bridge';\nexport const y = x;\n", rule: 'browser-reaches-no-server', to: 'src/lib/server/errors.ts' },
	{ file: 'src/lib/server/repositories/__planted_boundary.ts', body: "import { recordAudit } from '../services/audit';\nexport const x = recordAudit;\n", rule: 'repositories-only-db-and-shared', to: 'src/lib/server/services/audit.ts' },
	// The listed known exception (repositories → the Ctx type) is type-only: a runtime import is still refused.
	{ file: 'src/lib/server/repositories/__planted_runtime_ctx.ts', body: "import { createContext } from '../context';\nexport const x = createContext;\n", rule: 'repositories-only-db-and-shared', to: 'src/lib/server/context.ts' },
	{ file: 'src/lib/server/services/__planted_boundary.ts', body: "import { body } from '../http/validate';\nexport const x = body;\n", rule: 'services-not-transport', to: 'src/lib/server/http/validate.ts' },
	{ file: 'src/lib/shared/__planted_unresolved.ts', body: "import { x } from '$lib/server/no-such-module';\nexport const y = x;\n", rule: 'unresolvable-local', to: '$lib/server/no-such-module' }
];

describe('import boundaries (npm run check)', () => {
	it('the source tree passes every boundary', async () => {
		const { code, violations, output } = await depcruise(checkCommand());
		expect(violations).toEqual([]);
		expect(code, output).toBe(0);
	}, 180_000);

	it('a planted violation of each rule fails the check, naming the rule and the import', async () => {
		const args = checkCommand();
		const dir = copyOfTree(args);
		try {
			for (const p of PLANTED) fs.writeFileSync(path.join(dir, p.file), p.body);
			const { code, violations, output } = await depcruise(args, dir);
			expect(code, output).not.toBe(0);
			for (const p of PLANTED) {
				if (!p.rule) {
					expect(violations.filter((v) => v.from === p.file)).toEqual([]);
					continue;
				}
				expect(
					violations.some((v) => v.from === p.file && v.rule === p.rule && v.to === p.to),
					`${p.file} → ${p.to} reported as ${p.rule}; got ${JSON.stringify(violations.filter((v) => v.from === p.file))}`
				).toBe(true);
			}
			// Nothing else is reported: only the planted files break the rules.
			expect(violations.filter((v) => !PLANTED.some((p) => p.file === v.from))).toEqual([]);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
		expect(fs.existsSync(dir)).toBe(false);
		for (const p of PLANTED) expect(fs.existsSync(path.join(root, p.file)), `${p.file} never in the work tree`).toBe(false);
	}, 180_000);
});
