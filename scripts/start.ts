import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm start`: build the pages if the build is missing or older than the sources, then run
 * the server (embedded DynamoDB Local, tables, API, Socket.IO, pages).
 */
function newest(dir: string): number {
	let t = 0;
	if (!fs.existsSync(dir)) return t;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
	}
	return t;
}

const built = path.resolve('build/handler.js');
const sources = Math.max(
	newest('src'),
	...['svelte.config.js', 'vite.config.ts', 'package.json'].map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0))
);
if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < sources) {
	process.stdout.write('Building the web app (vite build)…\n');
	const r = spawnSync(process.execPath, [path.resolve('node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
		stdio: 'inherit'
	});
	if (r.status !== 0) {
		process.stderr.write('The build failed; see the messages above.\n');
		process.exit(r.status ?? 1);
	}
}

await import('../src/server');
