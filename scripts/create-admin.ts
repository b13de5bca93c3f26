import { z } from 'zod';
import { loadConfig } from '../src/lib/server/config';
import { openRuntime } from '../src/lib/server/runtime';
import { createUser } from '../src/lib/server/services/users';
import { systemCaller } from '../src/lib/server/actor';
import { passwordSchema } from '../src/lib/server/auth/passwords';
import { email as emailSchema, personName } from '../src/lib/shared/schemas';
import { AppError } from '../src/lib/server/errors';
import { orExit, parseFlags, prompt } from './cli';

/** `npm run create-admin -- --email E --password P [--name N]`: the first super admin. */
const f = orExit(() =>
	parseFlags({ email: { type: 'string', value: '<e-mail>' }, password: { type: 'string', value: '<password>' }, name: { type: 'string', value: '<name>' } })
);

const email = f.email ?? (await prompt('E-mail: '));
const name = f.name ?? 'Super Administrator';
const password = f.password ?? (await prompt('Password (8+ chars, upper, lower, digit, symbol): ', true));

const parsed = z.object({ email: emailSchema, name: personName, password: passwordSchema }).safeParse({ email, name, password });
if (!parsed.success) {
	for (const i of parsed.error.issues) console.error(`  ${i.path.join('.')}: ${i.message}`);
	process.exit(2);
}

const runtime = await openRuntime(loadConfig({ LOG_LEVEL: 'warn', ...process.env }));
try {
	const user = await createUser(
		runtime.ctx,
		systemCaller('cli:create-admin'),
		{ ...parsed.data, role: 'super_admin' },
		{ allowSuperAdmin: true }
	);
	console.log(`Created super admin ${user.email} (id ${user.id}). Log in at /login.`);
} catch (err) {
	if (err instanceof AppError) {
		console.error(err.message);
		process.exitCode = 1;
	} else throw err;
} finally {
	await runtime.stop();
}
