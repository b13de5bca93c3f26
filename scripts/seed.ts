import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/lib/server/config';
import { openRuntime } from '../src/lib/server/runtime';
import { countFlag, orExit, parseFlags, progress } from './cli';
import { seedDemoHospital } from './demo-hospital';
import { rebuildSearchIndex } from '../src/lib/server/services/search-index';

/**
 * `npm run seed`: the demo hospital (see demo-hospital.ts): people, services, a roster and
 * today's and tomorrow's appointments. Safe to run twice: what exists is left as it is. The
 * demo password is generated on the first run and kept in DATA_DIR/demo-credentials.json,
 * or given with --password.
 */
const f = orExit(() => parseFlags({ patients: { type: 'string', value: '<count>' }, password: { type: 'string', value: '<password>' } }));
const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const patientsWanted = orExit(() => countFlag(f.patients, 'patients', 300));

const credFile = path.join(config.dataDir, 'demo-credentials.json');
function demoPassword(): string {
	if (typeof f.password === 'string') return f.password;
	try {
		return (JSON.parse(fs.readFileSync(credFile, 'utf8')) as { password: string }).password;
	} catch {
		const p = `Demo-${crypto.randomBytes(6).toString('base64url')}-7!`;
		fs.mkdirSync(config.dataDir, { recursive: true });
		fs.writeFileSync(credFile, JSON.stringify({ password: p }, null, 2), { mode: 0o600 });
		return p;
	}
}
const password = demoPassword();

console.log(`Seeding the demo hospital into ${config.db.mode === 'embedded' ? config.dataDir : config.db.endpoint ?? 'AWS'}…`);
const runtime = await openRuntime(config, { log: (l) => console.log(`  ${l}`) });
try {
	const report = await seedDemoHospital(runtime.ctx, { patients: patientsWanted, password, progress, log: (l) => console.log(`  ${l}`) });
	if (report.today.noSlot) {
		console.log(`  (today's clinic hours are nearly over: ${report.today.noSlot} of today's visits found no free slot left)`);
	}
	// New accounts were indexed in their own transactions; this indexes those of an older seed (idempotent).
	const indexed = await rebuildSearchIndex(runtime.ctx);
	console.log(`  search index: ${indexed.patients} patients and ${indexed.users} accounts`);

	console.log('\nDemo logins (password for all of them: ' + password + ')');
	for (const email of report.logins) console.log(`  ${email}`);
	console.log('The super admin is yours to create: npm run create-admin -- --email … --password …');
	if (!f.password) console.log(`(The password is kept in ${credFile}.)`);
} finally {
	await runtime.stop();
}
