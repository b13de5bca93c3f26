// Plain JavaScript: `npm test` runs it (pretest) before anything is compiled or started.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the whole suite needs besides node_modules: Java (DynamoDB Local), Chromium (browser
 * tests) and redis-server (the multi-process worker test). `npm test` stops at once with one
 * line naming what to install instead of failing minutes later; nothing is skipped.
 */

/** Debian's Chromium; CHROMIUM_PATH points the browser tests at another one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** @typedef {'java' | 'chromium' | 'redis'} Tool */

/** @type {Record<Tool, { what: string, apt: string }>} */
const TOOLS = {
	java: { what: 'Java 17 for DynamoDB Local', apt: 'openjdk-17-jre-headless' },
	chromium: { what: `Chromium for the browser tests (none at ${CHROMIUM_PATH})`, apt: 'chromium' },
	redis: { what: 'redis-server for the multi-process worker test', apt: 'redis-server' }
};

/** @param {string} command */
function onPath(command) {
	return (process.env.PATH ?? '')
		.split(path.delimiter)
		.filter(Boolean)
		.some((dir) => {
			try {
				fs.accessSync(path.join(dir, command), fs.constants.X_OK);
				return true;
			} catch {
				return false;
			}
		});
}

/** @type {Record<Tool, () => boolean>} */
const PRESENT = {
	java: () => onPath('java') && spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0,
	chromium: () => {
		try {
			fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
			return fs.statSync(CHROMIUM_PATH).isFile();
		} catch {
			return false;
		}
	},
	redis: () => onPath('redis-server')
};

/**
 * The tools among `tools` that are missing.
 * @param {Tool[]} [tools]
 * @returns {Tool[]}
 */
export function missingTools(tools = /** @type {Tool[]} */ (Object.keys(TOOLS))) {
	return tools.filter((t) => !PRESENT[t]());
}

/**
 * One line saying what to install, or undefined when nothing is missing.
 * @param {Tool[]} missing
 */
export function missingMessage(missing) {
	if (!missing.length) return undefined;
	const what = missing.map((t) => TOOLS[t].what).join('; ');
	return `The tests need ${what}: apt-get install -y ${missing.map((t) => TOOLS[t].apt).join(' ')}`;
}

/**
 * Throws the one line when a tool is missing (for Vitest global setups).
 * @param {Tool[]} tools
 */
export function requireTools(tools) {
	const message = missingMessage(missingTools(tools));
	if (message) throw new Error(message);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const message = missingMessage(missingTools());
	if (message) {
		process.stderr.write(`${message}\n`);
		process.exit(1);
	}
}
