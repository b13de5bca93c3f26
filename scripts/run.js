// Plain JavaScript: it runs before anything is compiled.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, SERVER_ENTRIES, SERVER_OUT } from './build.js';

/**
 * `node scripts/run.js <program> [options]` (behind `npm start`, `npm run seed`, `npm run worker`…):
 * compiles what is stale (the pages too for `server`), then runs build-server/<program>.js in
 * this same process, so Ctrl-C and SIGTERM reach the program itself. In production run the
 * compiled file directly: `node build-server/server.js`.
 */
const [program] = process.argv.splice(2, 1);
const log = (/** @type {string} */ line) => void process.stderr.write(`${line}\n`);
if (!program || !Object.hasOwn(SERVER_ENTRIES, program)) {
	log(`Usage: node scripts/run.js <${Object.keys(SERVER_ENTRIES).join('|')}> [options]`);
	process.exit(2);
}
try {
	await buildIfStale({ pages: program === 'server', server: true, log });
} catch (err) {
	log(/** @type {Error} */ (err).message);
	process.exit(1);
}
await import(pathToFileURL(path.join(SERVER_OUT, `${program}.js`)).href);
