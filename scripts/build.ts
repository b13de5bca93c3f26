import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Builds the pages (vite build) when `build/` is missing or older than the sources. Used by
 * `npm start` and by the browser tests, so both run the same production build.
 */
function newest(entry: string): number {
	if (!fs.existsSync(entry)) return 0;
	const st = fs.statSync(entry);
	if (!st.isDirectory()) return st.mtimeMs;
	let t = 0;
	for (const e of fs.readdirSync(entry)) t = Math.max(t, newest(path.join(entry, e)));
	return t;
}

export function buildIfStale(log: (line: string) => void = () => {}): void {
	const handler = path.resolve('build/handler.js');
	const sources = Math.max(...['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map(newest));
	if (fs.existsSync(handler) && fs.statSync(handler).mtimeMs >= sources) return;
	log('Building the web app (vite build)…');
	// NODE_ENV=production even under Vitest (which sets "test"): Svelte must compile for production.
	const r = spawnSync(process.execPath, [path.resolve('node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
		stdio: 'inherit',
		env: { ...process.env, NODE_ENV: 'production' }
	});
	if (r.status !== 0) throw new Error('The build failed; see the messages above.');
}
