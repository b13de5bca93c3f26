import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startTestApp, type TestApp } from '../fixtures/app';
import { loadConfig } from '../../src/lib/server/config';
import { tokenId } from '../../src/lib/server/auth/tokens';
import { auditEntries, countItems, getItem, requestId, resetTokenFromOutbox, scanAll, sleep, storedVersion, uniqueEmail } from './helpers';

const GOOD_PASSWORD = 'Str0ng&Secret';

function registration(over: Record<string, unknown> = {}) {
	return {
		name: 'Rosa Alvarez',
		email: uniqueEmail('reg'),
		phone: '+12025550000',
		dateOfBirth: '1985-06-15',
		bloodGroup: 'B-',
		password: GOOD_PASSWORD,
		...over
	};
}

const sessionCookie = (res: { headers: Headers }) =>
	res.headers.getSetCookie().find((c) => c.startsWith('medtrack_session='));

describe('auth', () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startTestApp();
	});
	afterAll(async () => app?.close());

	it('a patient registers: 201, a session cookie, an argon2id hash and the records stored in DynamoDB', async () => {
		const c = app.client();
		const input = registration();
		const res = await c.post('/api/auth/register', input);
		expect(res.status).toBe(201);
		expect(res.body.user).toMatchObject({ email: input.email, name: input.name, role: 'patient' });
		expect(res.body.token).toMatch(/^[a-z2-7]{32}$/);
		const cookie = sessionCookie(res);
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=Lax/i);

		const user = await getItem(app, 'users', { id: res.body.user.id });
		expect(user?.password_hash).toMatch(/^\$argon2id\$/);
		expect(JSON.stringify(user)).not.toContain(input.password);
		expect(user?.last_login).toEqual(expect.any(String));
		expect(await getItem(app, 'users', { id: `email#${input.email}` })).toMatchObject({ user_id: res.body.user.id });
		const patient = await getItem(app, 'patients', { id: res.body.user.patientId });
		expect(patient).toMatchObject({ version: 1, user_id: res.body.user.id, phone: input.phone, blood_group: 'B-' });
		// Only the SHA-256 of the token is stored (Lucia's model).
		const session = await getItem(app, 'sessions', { id: tokenId(res.body.token) });
		expect(session).toMatchObject({ kind: 'session', user_id: res.body.user.id });
		expect(JSON.stringify(await scanAll(app, 'sessions'))).not.toContain(res.body.token);
	});

	it('login answers 200 with a session usable by cookie and by bearer token', async () => {
		const input = registration();
		await app.client().post('/api/auth/register', input);
		const c = app.client();
		const res = await c.post('/api/auth/login', { email: input.email.toUpperCase(), password: input.password });
		expect(res.status).toBe(200);
		expect(res.body.user.email).toBe(input.email);
		expect((await c.get('/api/me')).status).toBe(200);
		const bearer = await app.client().get('/api/me', { authorization: `Bearer ${res.body.token}` });
		expect(bearer.status).toBe(200);
		expect(bearer.body.user.email).toBe(input.email);
	});

	it('logout ends the session: the old cookie and the old bearer token are both refused afterwards', async () => {
		const input = registration();
		const c = app.client();
		const reg = await c.post('/api/auth/register', input);
		const oldCookie = c.cookie!;
		const token = reg.body.token as string;
		const out = await c.post('/api/auth/logout');
		expect(out.status).toBe(204);
		expect(c.cookie).toBeUndefined(); // the server cleared the cookie
		const byCookie = await app.client().get('/api/me', { cookie: oldCookie });
		expect(byCookie.status).toBe(401);
		expect(byCookie.body.error.code).toBe('UNAUTHENTICATED');
		expect((await app.client().get('/api/me', { authorization: `Bearer ${token}` })).status).toBe(401);
		expect(await getItem(app, 'sessions', { id: tokenId(token) })).toBeUndefined();
		const logouts = await auditEntries(app, (e) => e.user_id === reg.body.user.id && e.action === 'logout');
		expect(logouts).toHaveLength(1);
	});

	it('logout by bearer token ends that session only', async () => {
		const input = registration();
		const a = app.client();
		await a.post('/api/auth/register', input);
		const b = await app.client().post('/api/auth/login', { email: input.email, password: input.password });
		const out = await app.client().post('/api/auth/logout', {}, { authorization: `Bearer ${b.body.token}` });
		expect(out.status).toBe(204);
		expect((await app.client().get('/api/me', { authorization: `Bearer ${b.body.token}` })).status).toBe(401);
		expect((await a.get('/api/me')).status).toBe(200);
	});

	it('a deactivated user is logged out at once everywhere and cannot log in again (403 ACCOUNT_DISABLED)', async () => {
		const admin = await app.userOf('admin');
		const nurse = await app.userOf('nurse');
		const second = app.client();
		expect((await second.post('/api/auth/login', { email: nurse.email, password: nurse.password })).status).toBe(200);
		expect((await nurse.api.get('/api/me')).status).toBe(200);

		const version = await storedVersion(app, 'users', nurse.id);
		const res = await admin.api.patch(`/api/admin/users/${nurse.id}`, { version, active: false });
		expect(res.status).toBe(200);
		expect(res.body.user.active).toBe(false);

		expect((await nurse.api.get('/api/me')).status).toBe(401);
		expect((await second.get('/api/me')).status).toBe(401);
		expect((await app.client().get('/api/me', { authorization: `Bearer ${nurse.token}` })).status).toBe(401);
		const left = (await scanAll(app, 'sessions')).filter((s) => s.user_id === nurse.id);
		expect(left).toEqual([]);

		const login = await app.client().post('/api/auth/login', { email: nurse.email, password: nurse.password });
		expect(login.status).toBe(403);
		expect(login.body.error.code).toBe('ACCOUNT_DISABLED');
		const audit = await auditEntries(app, (e) => e.resource_id === nurse.id && e.action === 'deactivate');
		expect(audit).toHaveLength(1);
		expect(audit[0]).toMatchObject({ user_id: admin.id, outcome: 'success', changed_fields: ['active'] });

		// Reactivated, the same password works again.
		const again = await admin.api.patch(`/api/admin/users/${nurse.id}`, { version: version + 1, active: true });
		expect(again.status).toBe(200);
		expect((await app.client().post('/api/auth/login', { email: nurse.email, password: nurse.password })).status).toBe(200);
	});

	it.each([
		['shorter than 8 characters', 'Aa1!aaa'],
		['without an upper-case letter', 'lowercase1!'],
		['without a lower-case letter', 'UPPERCASE1!'],
		['without a digit', 'NoDigits!!x'],
		['without a symbol', 'NoSymbol123']
	])('a password %s is rejected with a 400 naming the field password, and nothing is stored', async (_why, password) => {
		const input = registration({ password });
		const res = await app.client().post('/api/auth/register', input);
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe('VALIDATION_FAILED');
		expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'password' })]));
		expect(res.body.error.message).toContain('password');
		expect(await getItem(app, 'users', { id: `email#${input.email}` })).toBeUndefined();
	});

	it('the password policy also holds for accounts created by an admin and for password resets', async () => {
		const admin = await app.userOf('admin');
		const create = await admin.api.post('/api/admin/users', {
			name: 'Weak Nurse',
			email: uniqueEmail('weak'),
			role: 'nurse',
			password: 'password'
		});
		expect(create.status).toBe(400);
		expect(create.body.error.details[0].field).toBe('password');
		const confirm = await app.client().post('/api/auth/password-reset/confirm', {
			token: 'a'.repeat(32),
			password: 'short'
		});
		expect(confirm.status).toBe(400);
		expect(confirm.body.error.details[0].field).toBe('password');
	});

	it('an unknown e-mail and a wrong password get the same generic 401 "Invalid email or password."', async () => {
		const user = await app.userOf('patient');
		const unknown = await app.client().post('/api/auth/login', { email: uniqueEmail('nobody'), password: GOOD_PASSWORD });
		const wrong = await app.client().post('/api/auth/login', { email: user.email, password: 'Wr0ng&Password' });
		for (const res of [unknown, wrong]) {
			expect(res.status).toBe(401);
			expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
			expect(res.body.error.message).toBe('Invalid email or password.');
		}
		expect(unknown.body).toEqual(wrong.body);
	});

	it('failed logins are audited as login_failed, with the account when it exists and without the password', async () => {
		const user = await app.userOf('pharmacist');
		const ridKnown = requestId('fail-known');
		const ridUnknown = requestId('fail-unknown');
		const badPassword = 'Wr0ng&Pass-' + ridKnown.slice(-6);
		await app.client().post('/api/auth/login', { email: user.email, password: badPassword }, { 'x-request-id': ridKnown });
		const ghost = uniqueEmail('ghost');
		await app.client().post('/api/auth/login', { email: ghost, password: badPassword }, { 'x-request-id': ridUnknown });

		const known = await auditEntries(app, (e) => e.request_id === ridKnown);
		expect(known).toHaveLength(1);
		expect(known[0]).toMatchObject({
			action: 'login_failed',
			outcome: 'failure',
			user_id: user.id,
			user: user.email,
			role: 'pharmacist',
			resource_type: 'session'
		});
		const unknown = await auditEntries(app, (e) => e.request_id === ridUnknown);
		expect(unknown).toHaveLength(1);
		expect(unknown[0]).toMatchObject({ action: 'login_failed', outcome: 'failure', user_id: '(anonymous)' });
		expect(JSON.stringify([...known, ...unknown])).not.toContain(badPassword);
	});

	it('password reset end to end: token from the outbox, new password works, old fails, token single-use, old sessions ended', async () => {
		const input = registration();
		const first = app.client();
		const reg = await first.post('/api/auth/register', input);
		const userId = reg.body.user.id as string;
		const second = app.client();
		expect((await second.post('/api/auth/login', { email: input.email, password: input.password })).status).toBe(200);

		const req = await app.client().post('/api/auth/password-reset', { email: input.email });
		expect(req.status).toBe(202);
		const token = await resetTokenFromOutbox(app, userId);
		// The token row holds only the hash, and cannot serve as a login session.
		expect(await getItem(app, 'sessions', { id: tokenId(token) })).toMatchObject({ kind: 'password_reset', user_id: userId });
		expect((await app.client().get('/api/me', { authorization: `Bearer ${token}` })).status).toBe(401);

		const newPassword = 'N3w&Better-pass';
		const confirm = await app.client().post('/api/auth/password-reset/confirm', { token, password: newPassword });
		expect(confirm.status).toBe(200);

		const old = await app.client().post('/api/auth/login', { email: input.email, password: input.password });
		expect(old.status).toBe(401);
		const fresh = await app.client().post('/api/auth/login', { email: input.email, password: newPassword });
		expect(fresh.status).toBe(200);

		const reuse = await app.client().post('/api/auth/password-reset/confirm', { token, password: 'An0ther&Pass' });
		expect(reuse.status).toBe(400);
		expect(reuse.body.error.code).toBe('INVALID_TOKEN');
		expect((await app.client().post('/api/auth/login', { email: input.email, password: newPassword })).status).toBe(200);

		expect((await first.get('/api/me')).status).toBe(401);
		expect((await second.get('/api/me')).status).toBe(401);
		const resets = await auditEntries(app, (e) => e.resource_id === userId && e.action === 'password_reset');
		expect(resets).toHaveLength(1);
		expect(resets[0]!.changed_fields).toEqual(['password_hash']);
	});

	it('a cookie-carried write from another origin, an opaque "null" origin or a garbled one is refused 403 CSRF; the bearer token is not subject to it', async () => {
		const user = await app.userOf('nurse');
		for (const origin of ['http://evil.example', 'null', 'not a url']) {
			const res = await user.api.patch('/api/me', { version: 1, notifyEmail: false }, { origin });
			expect(res.status, origin).toBe(403);
			expect(res.body.error.code).toBe('CSRF');
		}
		expect(await storedVersion(app, 'users', user.id)).toBe(1);
		const same = await user.api.patch('/api/me', { version: 1, notifyEmail: false }, { origin: app.url });
		expect(same.status).toBe(200);
		const bearer = await app.client().patch('/api/me', { version: 2, notifyEmail: true }, { origin: 'null', authorization: `Bearer ${user.token}` });
		expect(bearer.status).toBe(200);
	});

	it('a reset for an unknown address answers exactly like a real one and sends nothing', async () => {
		const before = await countItems(app, 'outbox');
		const res = await app.client().post('/api/auth/password-reset', { email: uniqueEmail('nobody') });
		const user = await app.userOf('doctor');
		const real = await app.client().post('/api/auth/password-reset', { email: user.email });
		expect(res.status).toBe(202);
		expect(res.body).toEqual(real.body);
		expect(await countItems(app, 'outbox')).toBe(before + 1);
	});
});

describe('idle timeout', () => {
	// 0.03 minutes = 1.8 s of idleness ends a session; renewal runs at most every idle/2 = 0.9 s.
	let app: TestApp;
	beforeAll(async () => {
		app = await startTestApp({ SESSION_IDLE_MINUTES: '0.03' });
	});
	afterAll(async () => app?.close());

	it('the configuration accepts a fractional idle timeout in minutes', () => {
		expect(loadConfig({ SESSION_IDLE_MINUTES: '0.02' }).session.idleMs).toBe(1200);
		expect(app.ctx.config.session.idleMs).toBe(1800);
	});

	it('a session left idle past the timeout is refused with 401 and deleted', async () => {
		const user = await app.userOf('front_desk');
		expect((await user.api.get('/api/me')).status).toBe(200);
		await sleep(2_100);
		const res = await user.api.get('/api/me');
		expect(res.status).toBe(401);
		expect(await getItem(app, 'sessions', { id: tokenId(user.token) })).toBeUndefined();
	});

	it('a request within the idle window slides the expiry forward and keeps the session alive', async () => {
		const user = await app.userOf('front_desk');
		const id = tokenId(user.token);
		const created = (await getItem(app, 'sessions', { id }))!;
		await sleep(1_000);
		expect((await user.api.get('/api/me')).status).toBe(200); // renews: idle window restarts
		const renewed = (await getItem(app, 'sessions', { id }))!;
		expect(renewed.expires_at).toBeGreaterThan(created.expires_at);
		expect(renewed.absolute_expires_at).toBe(created.absolute_expires_at);
		await sleep(1_000);
		// Past the first expiry (created + 1.8 s) but within the renewed one.
		expect(Date.now()).toBeGreaterThan(created.expires_at);
		expect((await user.api.get('/api/me')).status).toBe(200);
		await sleep(2_100);
		expect((await user.api.get('/api/me')).status).toBe(401);
	});
});

describe('login throttling', () => {
	// Behind a trusted proxy the client IP comes from X-Forwarded-For, so each test has its own
	// IPs. A day-long fixed window keeps a window boundary from falling inside a test.
	let app: TestApp;
	beforeAll(async () => {
		app = await startTestApp({ TRUST_PROXY: 'true', LOGIN_THROTTLE_MINUTES: '1440' });
	});
	afterAll(async () => app?.close());

	const from = (ip: string) => ({ 'x-forwarded-for': ip });

	it('after 5 failures on an account the 6th attempt gets 429 with Retry-After, even with the right password and from another IP', async () => {
		const user = await app.userOf('patient');
		for (let i = 0; i < 5; i++) {
			const res = await app.client().post('/api/auth/login', { email: user.email, password: `Wr0ng&pass${i}` }, from('10.1.0.1'));
			expect(res.status).toBe(401);
		}
		const sixth = await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.1.0.1'));
		expect(sixth.status).toBe(429);
		expect(sixth.body.error.code).toBe('TOO_MANY_REQUESTS');
		const retryAfter = Number(sixth.headers.get('retry-after'));
		expect(Number.isInteger(retryAfter)).toBe(true);
		expect(retryAfter).toBeGreaterThan(0);
		expect(retryAfter).toBeLessThanOrEqual(1440 * 60);
		expect(sixth.body.error.details.retryAfterSeconds).toBe(retryAfter);

		const elsewhere = await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.1.0.9'));
		expect(elsewhere.status).toBe(429);
		// The IP itself is not blocked: another account logs in from it.
		const other = await app.userOf('nurse');
		const ok = await app.client().post('/api/auth/login', { email: other.email, password: other.password }, from('10.1.0.1'));
		expect(ok.status).toBe(200);
	});

	it('after 20 failures from one IP (distinct e-mails) that IP is refused with 429, other IPs are not', async () => {
		const user = await app.userOf('doctor');
		for (let i = 0; i < 20; i++) {
			const res = await app.client().post('/api/auth/login', { email: uniqueEmail(`spray${i}`), password: 'Wr0ng&pass' }, from('10.2.0.1'));
			expect(res.status).toBe(401);
		}
		const blocked = await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.2.0.1'));
		expect(blocked.status).toBe(429);
		expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
		const ok = await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.2.0.2'));
		expect(ok.status).toBe(200);
	});
});
