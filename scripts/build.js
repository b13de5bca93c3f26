// Plain JavaScript (type-checked through JSDoc by `npm run check`): it compiles the TypeScript,
// so it must run on bare Node without a TypeScript loader.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * `npm run build`: the SvelteKit pages (vite build → build/) and the server, worker and CLIs
 * (esbuild → build-server/*.js). Production runs only the compiled JavaScript. `$lib` is
 * resolved here by an explicit alias, never through .svelte-kit/tsconfig.json.
 * `buildIfStale` rebuilds only what is missing or older than its sources (`npm start`, the tests).
 */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_OUT = path.join(ROOT, 'build-server');
const META = path.join(SERVER_OUT, 'meta.json');
const PAGES_HANDLER = path.join(ROOT, 'build', 'handler.js');

/** The compiled programs: name in build-server/ (without .js) → TypeScript entry. */
export const SERVER_ENTRIES = {
	server: 'src/server.ts',
	worker: 'worker/index.ts',
	seed: 'scripts/seed.ts',
	'create-admin': 'scripts/create-admin.ts',
	'create-tables': 'scripts/create-tables.ts',
	'bench/realtime': 'scripts/bench/realtime.ts',
	'bench/realtime-server': 'scripts/bench/realtime-server.ts',
	'bench/realtime-clients': 'scripts/bench/realtime-clients.ts',
	'bench/stock': 'scripts/bench/stock.ts',
	'bench/search-analytics': 'scripts/bench/search-analytics.ts'
};

/** @typedef {(line: string) => void} Log */

/** @param {string} entry @returns {number} newest mtime under `entry` (0 when absent) */
function newest(entry) {
	if (!fs.existsSync(entry)) return 0;
	const st = fs.statSync(entry);
	if (!st.isDirectory()) return st.mtimeMs;
	let t = st.mtimeMs;
	for (const e of fs.readdirSync(entry)) t = Math.max(t, newest(path.join(entry, e)));
	return t;
}

/** @param {string} file */
const mtime = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

export function pagesStale() {
	const sources = Math.max(...['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map((p) => newest(path.join(ROOT, p))));
	return mtime(PAGES_HANDLER) < sources;
}

/** Stale when an output is missing, or any input esbuild read last time (or this file) is newer. */
export function serverStale() {
	const built = mtime(META);
	if (!built) return true;
	if (Object.keys(SERVER_ENTRIES).some((name) => !fs.existsSync(path.join(SERVER_OUT, `${name}.js`)))) return true;
	/** @type {{ inputs: Record<string, unknown> }} */
	const meta = JSON.parse(fs.readFileSync(META, 'utf8'));
	const inputs = [...Object.keys(meta.inputs).map((f) => path.join(ROOT, f)), fileURLToPath(import.meta.url), path.join(ROOT, 'package.json')];
	// A deleted input means its importer changed, which is newer; a missing file counts as stale.
	return inputs.some((f) => !fs.existsSync(f) || mtime(f) > built);
}

/** @param {Log} log */
export function buildPages(log = () => {}) {
	log('Building the web app (vite build)…');
	// NODE_ENV=production even under Vitest (which sets "test"): Svelte must compile for production.
	const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
		cwd: ROOT,
		stdio: 'inherit',
		env: { ...process.env, NODE_ENV: 'production' }
	});
	if (r.status !== 0) throw new Error('The web app build failed; see the messages above.');
}

/** @param {Log} log */
export async function buildServer(log = () => {}) {
	log('Compiling the server, worker and CLIs (esbuild → build-server/)…');
	// Imported here, not at the top: running a fresh build needs no build tools.
	const esbuild = await import('esbuild');
	const result = await esbuild.build({
		absWorkingDir: ROOT,
		entryPoints: Object.entries(SERVER_ENTRIES).map(([out, src]) => ({ in: src, out })),
		outdir: SERVER_OUT,
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20.19',
		// Packages stay imports of node_modules (npm ci installs them); only our code is bundled.
		packages: 'external',
		alias: { $lib: './src/lib' },
		// The settings that shape emitted code, given here so no (generated) tsconfig is read.
		tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
		sourcemap: true,
		metafile: true,
		write: false,
		logLevel: 'warning'
	});
	// Ends esbuild's service process: `npm start` goes on to run the server in this process.
	await esbuild.stop();
	// Each file lands whole (written beside, then renamed), so a process starting meanwhile
	// never reads half a file; the metafile goes last and marks the build complete.
	fs.mkdirSync(SERVER_OUT, { recursive: true });
	for (const file of result.outputFiles) {
		fs.mkdirSync(path.dirname(file.path), { recursive: true });
		const tmp = `${file.path}.${process.pid}.tmp`;
		fs.writeFileSync(tmp, file.contents);
		fs.renameSync(tmp, file.path);
	}
	const tmp = `${META}.${process.pid}.tmp`;
	fs.writeFileSync(tmp, JSON.stringify(result.metafile));
	fs.renameSync(tmp, META);
}

/**
 * Builds what is missing or stale.
 * @param {{ pages?: boolean, server?: boolean, log?: Log }} [what]
 */
export async function buildIfStale({ pages = true, server = true, log = () => {} } = {}) {
	if (pages && pagesStale()) buildPages(log);
	if (server && serverStale()) await buildServer(log);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	/** @type {Log} */
	const log = (line) => void process.stderr.write(`${line}\n`);
	try {
		const { values } = parseArgs({ options: { 'if-stale': { type: 'boolean' }, 'server-only': { type: 'boolean' } }, strict: true, allowPositionals: false });
		const pages = !values['server-only'];
		if (values['if-stale']) await buildIfStale({ pages, log });
		else {
			if (pages) buildPages(log);
			await buildServer(log);
		}
	} catch (err) {
		log(/** @type {Error} */ (err).message);
		process.exit(1);
	}
}
