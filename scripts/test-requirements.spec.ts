import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm test` runs scripts/test-requirements.js first (pretest). On a machine without Chromium,
 * Java or redis-server it must stop at once, non-zero, with one line saying what to install.
 * Each case runs the real script in a process whose PATH holds only the tools the case grants.
 */
const dirs: string[] = [];
afterAll(() => {
	for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A PATH directory with node and, for each name given, a stand-in that exits 0. */
function pathWith(tools: string[]): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtrack-tools-'));
	dirs.push(dir);
	fs.symlinkSync(process.execPath, path.join(dir, 'node'));
	for (const t of tools) fs.writeFileSync(path.join(dir, t), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
	return dir;
}

function runCheck(env: Record<string, string>) {
	const t0 = performance.now();
	const r = spawnSync(process.execPath, ['scripts/test-requirements.js'], { env: { ...env }, encoding: 'utf8', timeout: 10_000 });
	return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

describe('test requirements (pretest)', () => {
	const fakeChromium = pathWith([]) + '/chromium';
	fs.writeFileSync(fakeChromium, '#!/bin/sh\nexit 0\n', { mode: 0o755 });

	it('without Chromium: exit 1 within seconds, one line naming Chromium and the apt-get command', () => {
		const r = runCheck({ PATH: pathWith(['java', 'redis-server']), CHROMIUM_PATH: '/nonexistent/chromium' });
		expect(r.status).toBe(1);
		expect(r.stdout).toBe('');
		expect(r.stderr).toBe('The tests need Chromium for the browser tests (none at /nonexistent/chromium): apt-get install -y chromium\n');
		expect(r.ms).toBeLessThan(3_000);
	});

	it('without redis-server and Java: the same one line names both', () => {
		const r = runCheck({ PATH: pathWith([]), CHROMIUM_PATH: fakeChromium });
		expect(r.status).toBe(1);
		expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
		expect(r.stderr).toContain('redis-server for the multi-process worker test');
		expect(r.stderr).toContain('Java 17 for DynamoDB Local');
		expect(r.stderr).toMatch(/apt-get install -y openjdk-17-jre-headless redis-server\n$/);
	});

	it('with everything present it says nothing and lets the tests run', () => {
		const r = runCheck({ PATH: pathWith(['java', 'redis-server']), CHROMIUM_PATH: fakeChromium });
		expect(r).toMatchObject({ status: 0, stdout: '', stderr: '' });
	});
});
