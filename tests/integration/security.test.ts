import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { ApiClient, startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, encodeTestCursor, getItem, resetTokenFromOutbox, scanAll, sleep, uniqueEmail } from './helpers';

/**
 * Authentication, sessions and input found wanting when the product was attacked:
 * parallel password guessing, idle sockets, foreign origins, CSRF without an Origin,
 * forged request ids and cursors, control characters and unparsed phone numbers.
 */
let app: TestApp;
const from = (ip: string) => ({ 'x-forwarded-for': ip });

beforeAll(async () => {
	// Behind a trusted proxy each test has its own client IPs; a day-long window keeps a boundary out of the test.
	app = await startTestApp({ TRUST_PROXY: 'true', LOGIN_THROTTLE_MINUTES: '1440' });
});
afterAll(async () => app?.close());

function connect(opts: Parameters<typeof io>[1]): Promise<Socket> {
	const socket = io(app.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, ...opts });
	return new Promise((resolve, reject) => {
		socket.on('connect', () => resolve(socket));
		socket.on('connect_error', (err) => {
			socket.close();
			reject(err);
		});
	});
}

describe('login throttling holds against parallel guesses', () => {
	it('30 wrong passwords at once let at most 5 reach the password check; the rest and the right password get 429', async () => {
		const user = await app.userOf('doctor');
		const results = await Promise.all(
			Array.from({ length: 30 }, (_, i) =>
				app.client().post('/api/auth/login', { email: user.email, password: `Wr0ng&guess${i}` }, from(`10.7.0.${i + 1}`))
			)
		);
		const checked = results.filter((r) => r.status === 401);
		const throttled = results.filter((r) => r.status === 429);
		expect(checked.length).toBeLessThanOrEqual(app.ctx.config.throttle.perAccount);
		expect(checked.length + throttled.length).toBe(30);
		const right = await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.7.1.1'));
		expect(right.status).toBe(429);
		expect(right.body.error.code).toBe('TOO_MANY_REQUESTS');
		const failures = await auditEntries(app, (e) => e.user_id === user.id && e.action === 'login_failed');
		expect(failures.length).toBe(checked.length);
		const refusals = await auditEntries(app, (e) => e.user_id === user.id && e.action === 'login_throttled');
		expect(refusals.length).toBe(throttled.length + 1);
	});

	it('the per-IP limit holds the same way: 40 guesses at once from one IP on distinct accounts, at most 20 checked', async () => {
		const results = await Promise.all(
			Array.from({ length: 40 }, (_, i) => app.client().post('/api/auth/login', { email: uniqueEmail(`spray${i}`), password: 'Wr0ng&pass' }, from('10.8.0.1')))
		);
		expect(results.filter((r) => r.status === 401).length).toBeLessThanOrEqual(app.ctx.config.throttle.perIp);
		expect(results.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(20);
		const user = await app.userOf('nurse');
		expect((await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.8.0.1'))).status).toBe(429);
		expect((await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.8.0.2'))).status).toBe(200);
	});

	it('a successful login gives its reservation back: 25 logins in a row from one IP all succeed', async () => {
		const user = await app.userOf('nurse');
		for (let i = 0; i < 25; i++) {
			expect((await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.9.0.1'))).status).toBe(200);
		}
	});
});

describe('sockets', () => {
	it('a handshake from a foreign Origin is refused; the app’s own origin and a client without Origin are let in', async () => {
		const user = await app.userOf('patient');
		await expect(connect({ auth: { token: user.token }, extraHeaders: { origin: 'https://evil.example' } })).rejects.toThrow();
		(await connect({ auth: { token: user.token }, extraHeaders: { origin: new URL(app.url).origin } })).disconnect();
		(await connect({ auth: { token: user.token } })).disconnect();
		// Even a valid session cookie does not open a socket for a foreign page.
		await expect(connect({ extraHeaders: { cookie: user.api.cookie!, origin: 'http://localhost.evil.example' } })).rejects.toThrow();
	});
});

describe('a socket whose session idles out is ended', () => {
	let idle: TestApp;
	beforeAll(async () => {
		// 0.05 minutes = 3 s idle timeout, no session cache.
		idle = await startTestApp({ SESSION_IDLE_MINUTES: '0.05', SESSION_CACHE_MS: '0' });
	});
	afterAll(async () => idle?.close());

	it('receives session:ended (expired) and is disconnected within 5 s of the expiry', async () => {
		const user = await idle.userOf('doctor');
		const session = (await getItem(idle, 'sessions', { id: (await import('../../src/lib/server/auth/tokens')).tokenId(user.token) }))!;
		const socket = io(idle.url, { path: '/socket.io', transports: ['websocket'], auth: { token: user.token }, reconnection: false });
		const ended = new Promise<{ reason: string; at: number }>((resolve) => socket.on('session:ended', (e) => resolve({ ...e, at: Date.now() })));
		const gone = new Promise<{ reason: string; at: number }>((resolve) => socket.on('disconnect', (reason) => resolve({ reason, at: Date.now() })));
		await new Promise<void>((resolve, reject) => {
			socket.on('connect', () => resolve());
			socket.on('connect_error', reject);
		});
		const e = await ended;
		const d = await gone;
		expect(e.reason).toBe('expired');
		expect(d.reason).toBe('io server disconnect');
		const expiry = Math.min(session.expires_at, session.absolute_expires_at);
		expect(e.at).toBeGreaterThanOrEqual(expiry);
		expect(d.at - expiry).toBeLessThan(5_000);
	});

	it('a socket of a session kept alive by HTTP use stays connected past the first expiry', async () => {
		const user = await idle.userOf('nurse');
		const socket = io(idle.url, { path: '/socket.io', transports: ['websocket'], auth: { token: user.token }, reconnection: false });
		let ended = false;
		socket.on('session:ended', () => (ended = true));
		await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
		for (let i = 0; i < 4; i++) {
			await sleep(1_600);
			expect((await user.api.get('/api/me')).status).toBe(200);
		}
		expect(ended).toBe(false);
		expect(socket.connected).toBe(true);
		socket.disconnect();
	});
});

describe('cross-site requests and content types', () => {
	it('a cookie-carried write without Origin or Sec-Fetch-Site is refused 403 CSRF and audited; same-origin Sec-Fetch-Site passes', async () => {
		const user = await app.userOf('patient');
		const me = (await user.api.get('/api/me')).body.user;
		const bare = await fetch(`${app.url}/api/me`, {
			method: 'PATCH',
			headers: { cookie: user.api.cookie!, 'content-type': 'application/json' },
			body: JSON.stringify({ version: me.version, notifyEmail: false })
		});
		expect(bare.status).toBe(403);
		expect((await bare.json()).error.code).toBe('CSRF');
		expect(await auditEntries(app, (e) => e.user_id === user.id && e.action === 'csrf_refused')).toHaveLength(1);
		const site = await fetch(`${app.url}/api/me`, {
			method: 'PATCH',
			headers: { cookie: user.api.cookie!, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
			body: JSON.stringify({ version: me.version, notifyEmail: false })
		});
		expect(site.status).toBe(200);
		const crossSite = await fetch(`${app.url}/api/me`, {
			method: 'PATCH',
			headers: { cookie: user.api.cookie!, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
			body: JSON.stringify({ version: me.version + 1, notifyEmail: true })
		});
		expect(crossSite.status).toBe(403);
	});

	it('a body that is not declared JSON is 415 in the error shape, with or without a cookie', async () => {
		const user = await app.userOf('patient');
		for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
			const r = await user.api.request('PATCH', '/api/me', 'version=1&notifyEmail=false', { 'content-type': type });
			expect(r.status, type).toBe(415);
			expect(r.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String), details: expect.any(Array) });
		}
		const login = await app.client().request('POST', '/api/auth/login', JSON.stringify({ email: user.email, password: user.password }), { 'content-type': 'text/plain' });
		expect(login.status).toBe(415);
	});
});

describe('request ids', () => {
	it('a client X-Request-Id is used only if it is 1–64 characters of [A-Za-z0-9_-]', async () => {
		for (const good of ['a', 'req_123-ABC', 'x'.repeat(64)]) {
			expect((await app.client().get('/api/health', { 'x-request-id': good })).headers.get('x-request-id')).toBe(good);
		}
		for (const bad of ['x'.repeat(65), 'has space', 'dots.are.out', 'line\u2028break', '<script>', '../../etc']) {
			const got = (await app.client().get('/api/health', { 'x-request-id': encodeURI(bad) === bad ? bad : encodeURI(bad) })).headers.get('x-request-id');
			expect(got, bad).not.toBe(bad);
			expect(got).toMatch(/^[0-9a-f-]{36}$/);
		}
	});
});

describe('passwords', () => {
	it('a user changes their own password with the current one; their other sessions end, this one stays', async () => {
		const user = await app.userOf('front_desk');
		const other = new ApiClient(app.url);
		expect((await other.post('/api/auth/login', { email: user.email, password: user.password }, from('10.10.0.1'))).status).toBe(200);
		const wrong = await user.api.post('/api/me/password', { currentPassword: 'N0t-the-one!', newPassword: 'N3w&Better-pass' });
		expect(wrong.status).toBe(400);
		expect(wrong.body.error.details[0].field).toBe('currentPassword');
		const weak = await user.api.post('/api/me/password', { currentPassword: user.password, newPassword: 'short' });
		expect(weak.status).toBe(400);
		const ok = await user.api.post('/api/me/password', { currentPassword: user.password, newPassword: 'N3w&Better-pass' });
		expect(ok.status, JSON.stringify(ok.body)).toBe(200);
		expect((await user.api.get('/api/me')).status).toBe(200);
		expect((await other.get('/api/me')).status).toBe(401);
		expect((await app.client().post('/api/auth/login', { email: user.email, password: user.password }, from('10.10.0.2'))).status).toBe(401);
		expect((await app.client().post('/api/auth/login', { email: user.email, password: 'N3w&Better-pass' }, from('10.10.0.3'))).status).toBe(200);
		expect(await auditEntries(app, (e) => e.user_id === user.id && e.action === 'password_changed')).toHaveLength(1);
	});

	it('an admin sends a user a reset link through the outbox; the link works once; others may not send one', async () => {
		const admin = await app.userOf('admin');
		const nurse = await app.userOf('nurse');
		const superAdmin = await app.userOf('super_admin');
		expect((await nurse.api.post(`/api/admin/users/${admin.id}/password-reset`)).status).toBe(403);
		expect((await admin.api.post(`/api/admin/users/${superAdmin.id}/password-reset`)).status).toBe(403);
		const sent = await admin.api.post(`/api/admin/users/${nurse.id}/password-reset`);
		expect(sent.status).toBe(202);
		const token = await resetTokenFromOutbox(app, nurse.id);
		const outbox = (await scanAll(app, 'outbox')).find((r) => r.user_id === nurse.id && r.kind === 'password_reset');
		expect(outbox!.body).toContain('An administrator sent you a link');
		expect((await app.client().post('/api/auth/password-reset/confirm', { token, password: 'Reset&By-admin1' })).status).toBe(200);
		expect((await app.client().post('/api/auth/password-reset/confirm', { token, password: 'Reset&By-admin2' })).status).toBe(400);
		expect((await app.client().post('/api/auth/login', { email: nurse.email, password: 'Reset&By-admin1' }, from('10.11.0.1'))).status).toBe(200);
	});
});

describe('stored input is text', () => {
	it('control characters, bidi overrides and lone surrogates are refused with a 400 naming the field', async () => {
		const user = await app.userOf('patient');
		const me = (await user.api.get('/api/me')).body.user;
		for (const [name, value] of [
			['NUL', 'Ann\u0000Lee'],
			['escape', 'Ann\u001b[31mLee'],
			['bidi override', 'Ann\u202eeeL'],
			['isolate', 'Ann\u2066Lee']
		] as const) {
			const r = await user.api.patch('/api/me', { version: me.version, name: value });
			expect(r.status, name).toBe(400);
			expect(r.body.error.details[0].field).toBe('name');
		}
		// A lone surrogate can only arrive as a JSON escape.
		const lone = await user.api.request('PATCH', '/api/me', `{"version":${me.version},"name":"Ann \\ud800 Lee"}`);
		expect(lone.status).toBe(400);
		expect(lone.body.error.details[0].message).toMatch(/surrogate/);
		const desk = await app.userOf('front_desk');
		const p = (await desk.api.get(`/api/patients/${user.patientId}`)).body.patient;
		const addr = await desk.api.patch(`/api/patients/${user.patientId}`, { version: p.version, address: '1 Main St\u0007' });
		expect(addr.status).toBe(400);
		expect(addr.body.error.details[0].field).toBe('address');
		expect((await getItem(app, 'patients', { id: user.patientId! }))!.address).toBeUndefined();
	});

	it('phone numbers are stored in E.164; an impossible number is a 400', async () => {
		const email = uniqueEmail('e164');
		const reg = await app.client().post(
			'/api/auth/register',
			{ name: 'Eve Num', email, phone: '(202) 555-0143', dateOfBirth: '1990-01-01', bloodGroup: 'A+', password: 'Str0ng&Pass!' },
			from('10.12.0.1')
		);
		expect(reg.status, JSON.stringify(reg.body)).toBe(201);
		const user = (await scanAll(app, 'users')).find((u) => u.email === email)!;
		expect(user.phone).toBe('+12025550143');
		expect((await getItem(app, 'patients', { id: user.patient_id }))!.phone).toBe('+12025550143');
		const bad = await app.client().post(
			'/api/auth/register',
			{ name: 'Eve Num', email: uniqueEmail('e164'), phone: '+1 555', dateOfBirth: '1990-01-01', bloodGroup: 'A+', password: 'Str0ng&Pass!' },
			from('10.12.0.2')
		);
		expect(bad.status).toBe(400);
		expect(bad.body.error.details[0].field).toBe('phone');
	});
});

describe('cursors and oversized requests', () => {
	it('forged cursors are 400 INVALID_CURSOR everywhere, including a well-formed one of another user', async () => {
		const patient = await app.userOf('patient');
		const admin = await app.userOf('admin');
		const forged = encodeTestCursor({ at: '', id: '' });
		for (const [who, path] of [
			[patient, `/api/conversations?cursor=${forged}`],
			[admin, `/api/admin/outbox?status=logged&cursor=${forged}`],
			[admin, `/api/admin/outbox?cursor=${forged}`],
			[patient, `/api/notifications?cursor=${forged}`],
			[admin, `/api/admin/users?cursor=${forged}`]
		] as const) {
			const r = await who.api.get(path);
			expect(r.status, path).toBe(400);
			expect(r.body.error.code, path).toBe('INVALID_CURSOR');
		}
		// A real cursor works only for the listing and the user it was issued to.
		for (let i = 0; i < 3; i++) await app.userOf('pharmacist');
		const page = await admin.api.get('/api/admin/users?role=pharmacist&limit=1');
		expect(page.body.nextCursor).toEqual(expect.any(String));
		expect((await admin.api.get(`/api/admin/users?role=pharmacist&limit=1&cursor=${page.body.nextCursor}`)).status).toBe(200);
		expect((await admin.api.get(`/api/admin/users?role=nurse&limit=1&cursor=${page.body.nextCursor}`)).body.error.code).toBe('INVALID_CURSOR');
		const tampered = page.body.nextCursor.replace(/^./, (c: string) => (c === 'e' ? 'f' : 'e'));
		expect((await admin.api.get(`/api/admin/users?role=pharmacist&limit=1&cursor=${tampered}`)).status).toBe(400);
	});

	it('an oversized query string or header block gets the error shape, not a bare status', async () => {
		const user = await app.userOf('front_desk');
		const long = await user.api.get(`/api/patients?name=a&cursor=${'x'.repeat(5_000)}`);
		expect(long.status).toBe(414);
		expect(long.body.error).toMatchObject({ code: 'URI_TOO_LONG', message: expect.any(String) });
		const huge = await user.api.get(`/api/patients?name=${'a'.repeat(20_000)}`);
		expect([414, 431]).toContain(huge.status);
		expect(huge.body.error.code).toMatch(/URI_TOO_LONG|HEADERS_TOO_LARGE/);
		const headers = await fetch(`${app.url}/api/health`, { headers: { 'x-padding': 'p'.repeat(20_000) } });
		expect(headers.status).toBe(431);
		expect((await headers.json()).error.code).toBe('HEADERS_TOO_LARGE');
	});
});
