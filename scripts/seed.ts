import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/lib/server/config';
import { openRuntime } from '../src/lib/server/runtime';
import { createUser, type NewUser } from '../src/lib/server/services/users';
import { systemCaller } from '../src/lib/server/actor';
import { AppError } from '../src/lib/server/errors';
import { seedCatalogue } from '../src/lib/server/services/catalogue';
import { BLOOD_GROUPS } from '../src/lib/shared/roles';
import { SPECIALIZATIONS } from '../src/lib/shared/schemas';
import { flags, progress } from './cli';

/**
 * `npm run seed`: a demo hospital. Deterministic (same people every run) and safe to run
 * twice: accounts that exist are left as they are. The demo password is generated on the
 * first run and kept in DATA_DIR/demo-credentials.json, or given with --password.
 */
const f = flags();
const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const patientsWanted = Number(f.patients ?? 300);

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

// A small deterministic PRNG so every run creates the same people.
let state = 20261123;
const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const FIRST = ['Amara', 'Ben', 'Chen', 'Diego', 'Elif', 'Farah', 'Gabriel', 'Hana', 'Ibrahim', 'Jana', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Uma', 'Victor', 'Wen', 'Ximena', 'Yusuf', 'Zara', 'Aiko', 'Bruno', 'Chloe', 'Dev', 'Esme', 'Felix', 'Grace', 'Hugo', 'Isla', 'Jonas', 'Kiran', 'Leila', 'Marco', 'Noor'];
const LAST = ['Adeyemi', 'Brown', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Mensah', 'Nakamura', 'Okafor', 'Patel', 'Quispe', 'Rossi', 'Singh', 'Tanaka', 'Usman', 'Varga', 'Wang', 'Xu', 'Yilmaz', 'Zhou', 'Alvarez', 'Becker', 'Costa', 'Das'];

type Seed = NewUser & { label: string };
const people: Seed[] = [];
const staff = (role: NewUser['role'], label: string, n: number, extra: (i: number) => Partial<NewUser> = () => ({})) => {
	for (let i = 1; i <= n; i++) {
		const first = pick(FIRST);
		const last = pick(LAST);
		people.push({
			label,
			role,
			name: role === 'doctor' ? `Dr. ${first} ${last}` : `${first} ${last}`,
			email: `${role.replace('_', '-')}${n > 1 ? i : ''}@demo.medtrack.local`,
			password,
			phone: `+1555${String(1000000 + people.length).slice(-7)}`,
			...extra(i)
		});
	}
};
staff('admin', 'admin', 1);
staff('doctor', 'doctors', 12, (i) => ({
	specialization: SPECIALIZATIONS[(i - 1) % SPECIALIZATIONS.length],
	licenceNumber: `MED-${String(10400 + i)}`
}));
staff('nurse', 'nurses', 6, (i) => ({ department: ['Emergency', 'Outpatients', 'ICU'][i % 3] }));
staff('front_desk', 'front desk', 2);
staff('pharmacist', 'pharmacist', 1);
staff('paramedic', 'paramedic', 1);
for (let i = 1; i <= patientsWanted; i++) {
	const first = pick(FIRST);
	const last = pick(LAST);
	const y = 1940 + Math.floor(rand() * 80);
	const m = 1 + Math.floor(rand() * 12);
	const d = 1 + Math.floor(rand() * 28);
	people.push({
		label: 'patients',
		role: 'patient',
		name: `${first} ${last}`,
		email: i === 1 ? 'patient@demo.medtrack.local' : `${first}.${last}.${i}@patients.demo`.toLowerCase(),
		password,
		phone: `+1555${String(2000000 + i).slice(-7)}`,
		dateOfBirth: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
		bloodGroup: pick(BLOOD_GROUPS)
	});
}

console.log(`Seeding the demo hospital into ${config.db.mode === 'embedded' ? config.dataDir : config.db.endpoint ?? 'AWS'}…`);
const runtime = await openRuntime(config, { log: (l) => console.log(`  ${l}`) });
const caller = systemCaller('cli:seed');
let created = 0;
let existed = 0;
try {
	const bar = progress('accounts', people.length);
	let done = 0;
	const queue = [...people];
	// A few at a time: argon2 hashing is the slow part, DynamoDB Local the other.
	await Promise.all(
		Array.from({ length: 4 }, async () => {
			for (let p = queue.shift(); p; p = queue.shift()) {
				try {
					await createUser(runtime.ctx, caller, p, { allowSuperAdmin: true });
					created++;
				} catch (err) {
					if (!(err instanceof AppError && err.code === 'ALREADY_EXISTS')) throw err;
					existed++;
				}
				bar.tick(++done);
			}
		})
	);
	bar.done(`${created} created, ${existed} already there`);
	const services = await seedCatalogue(runtime.ctx, caller);
	console.log(`  services catalogue: ${services.created} created, ${services.existed} already there`);

	console.log('\nDemo logins (password for all of them: ' + password + ')');
	for (const email of ['admin@demo.medtrack.local', 'doctor1@demo.medtrack.local', 'nurse1@demo.medtrack.local', 'front-desk1@demo.medtrack.local', 'pharmacist@demo.medtrack.local', 'paramedic@demo.medtrack.local', 'patient@demo.medtrack.local']) {
		console.log(`  ${email}`);
	}
	console.log('The super admin is yours to create: npm run create-admin -- --email … --password …');
	if (!f.password) console.log(`(The password is kept in ${credFile}.)`);
} finally {
	await runtime.stop();
}
