import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../fixtures/app';
import { countItems, encodeTestCursor as cursor, uniqueEmail } from './helpers';

/**
 * SPEC §5 "Input": every body, query and route param is parsed with zod. Bad input gets 400
 * with { error: { code, message, details } }, never a 500 and never a partial write.
 */
let app: TestApp;
let patient: TestUser;
let frontDesk: TestUser;
let superAdmin: TestUser;
let staff: TestUser;

beforeAll(async () => {
	app = await startTestApp();
	patient = await app.userOf('patient');
	frontDesk = await app.userOf('front_desk');
	superAdmin = await app.userOf('super_admin');
	staff = await app.userOf('nurse');
});
afterAll(async () => app?.close());

type Who = 'anonymous' | 'patient' | 'frontDesk' | 'superAdmin';
/** A raw body string is sent as is (with content-type application/json); anything else as JSON. */
type Case = { name: string; who: Who; method: 'GET' | 'POST' | 'PATCH'; path: () => string; body?: unknown; headers?: Record<string, string> };

const PW = 'Val1d&Password';
const reg = () => ({ name: 'Mal Formed', email: uniqueEmail('mal'), phone: '+12025557777', dateOfBirth: '1988-08-08', bloodGroup: 'A+', password: PW });
const newStaff = () => ({ name: 'Staff Member', email: uniqueEmail('staff'), role: 'nurse', password: PW });
const json = (v: unknown) => JSON.stringify(v);
const huge = 'x'.repeat(100_000); // big, but under the 256 KB body limit: the schema must refuse it

const post = (who: Who, path: string, name: string, body: unknown, headers?: Record<string, string>): Case => ({ name, who, method: 'POST', path: () => path, body, headers });
const patch = (who: Who, path: () => string, name: string, body: unknown, headers?: Record<string, string>): Case => ({ name, who, method: 'PATCH', path, body, headers });
const get = (who: Who, path: () => string, name: string): Case => ({ name, who, method: 'GET', path });

const patientPath = () => `/api/patients/${patient.patientId}`;
const staffPath = () => `/api/admin/users/${staff.id}`;

const CASES: Case[] = [
	// POST /api/auth/register
	post('anonymous', '/api/auth/register', 'register: truncated JSON', '{"name": "Mal",'),
	post('anonymous', '/api/auth/register', 'register: form-encoded body', 'name=Bob&email=bob%40example.org'),
	post('anonymous', '/api/auth/register', 'register: an array', []),
	post('anonymous', '/api/auth/register', 'register: null', null),
	post('anonymous', '/api/auth/register', 'register: a JSON string', json('register me')),
	post('anonymous', '/api/auth/register', 'register: a number', '42'),
	post('anonymous', '/api/auth/register', 'register: empty object', {}),
	post('anonymous', '/api/auth/register', 'register: missing password', { ...reg(), password: undefined }),
	post('anonymous', '/api/auth/register', 'register: missing email', { ...reg(), email: undefined }),
	post('anonymous', '/api/auth/register', 'register: extra field role', { ...reg(), role: 'super_admin' }),
	post('anonymous', '/api/auth/register', 'register: __proto__ key', `{"__proto__":{"role":"admin"},${json(reg()).slice(1)}`),
	post('anonymous', '/api/auth/register', 'register: name is a number', { ...reg(), name: 12345 }),
	post('anonymous', '/api/auth/register', 'register: 100 000-character name', { ...reg(), name: huge }),
	post('anonymous', '/api/auth/register', 'register: markup in the name', { ...reg(), name: '<script>alert(1)</script>' }),
	post('anonymous', '/api/auth/register', 'register: bad e-mail', { ...reg(), email: 'not-an-email' }),
	post('anonymous', '/api/auth/register', 'register: e-mail as an array', { ...reg(), email: ['a@example.org'] }),
	post('anonymous', '/api/auth/register', 'register: 260-character e-mail', { ...reg(), email: `${'a'.repeat(250)}@x.org` }),
	post('anonymous', '/api/auth/register', 'register: phone in words', { ...reg(), phone: 'call me maybe' }),
	post('anonymous', '/api/auth/register', 'register: phone too short', { ...reg(), phone: '12345' }),
	post('anonymous', '/api/auth/register', 'register: date of birth 2023-02-30', { ...reg(), dateOfBirth: '2023-02-30' }),
	post('anonymous', '/api/auth/register', 'register: date of birth month 13', { ...reg(), dateOfBirth: '1990-13-01' }),
	post('anonymous', '/api/auth/register', 'register: date of birth not ISO', { ...reg(), dateOfBirth: '01/02/1990' }),
	post('anonymous', '/api/auth/register', 'register: date of birth in the future', { ...reg(), dateOfBirth: '2999-01-01' }),
	post('anonymous', '/api/auth/register', 'register: blood group C+', { ...reg(), bloodGroup: 'C+' }),
	post('anonymous', '/api/auth/register', 'register: blood group lower case', { ...reg(), bloodGroup: 'ab-' }),
	post('anonymous', '/api/auth/register', 'register: blood group null', { ...reg(), bloodGroup: null }),
	post('anonymous', '/api/auth/register', 'register: password is a number', { ...reg(), password: 12345678 }),
	post('anonymous', '/api/auth/register', 'register: 300-character password', { ...reg(), password: `Aa1!${'x'.repeat(296)}` }),
	// POST /api/auth/login
	post('anonymous', '/api/auth/login', 'login: truncated JSON', '{"email":'),
	post('anonymous', '/api/auth/login', 'login: empty object', {}),
	post('anonymous', '/api/auth/login', 'login: empty password', { email: 'x@example.org', password: '' }),
	post('anonymous', '/api/auth/login', 'login: e-mail is a number', { email: 42, password: PW }),
	post('anonymous', '/api/auth/login', 'login: extra field', { email: 'x@example.org', password: PW, remember: true }),
	post('anonymous', '/api/auth/login', 'login: 257-character password', { email: 'x@example.org', password: 'p'.repeat(257) }),
	// POST /api/auth/logout
	post('patient', '/api/auth/logout', 'logout: not JSON', '{{{'),
	// POST /api/auth/password-reset
	post('anonymous', '/api/auth/password-reset', 'reset request: missing e-mail', {}),
	post('anonymous', '/api/auth/password-reset', 'reset request: bad e-mail', { email: 'nobody@' }),
	post('anonymous', '/api/auth/password-reset', 'reset request: extra field', { email: 'x@example.org', admin: true }),
	post('anonymous', '/api/auth/password-reset', 'reset request: not JSON', "{'email': 'x'}"),
	// POST /api/auth/password-reset/confirm
	post('anonymous', '/api/auth/password-reset/confirm', 'reset confirm: empty object', {}),
	post('anonymous', '/api/auth/password-reset/confirm', 'reset confirm: token is a number', { token: 1234, password: PW }),
	post('anonymous', '/api/auth/password-reset/confirm', 'reset confirm: 101-character token', { token: 'a'.repeat(101), password: PW }),
	post('anonymous', '/api/auth/password-reset/confirm', 'reset confirm: weak password', { token: 'a'.repeat(32), password: 'weak' }),
	post('anonymous', '/api/auth/password-reset/confirm', 'reset confirm: extra field', { token: 'a'.repeat(32), password: PW, userId: 'x' }),
	// PATCH /api/me
	patch('patient', () => '/api/me', 'me: not JSON', 'version=1'),
	patch('patient', () => '/api/me', 'me: missing version', { name: 'New Name' }),
	patch('patient', () => '/api/me', 'me: version 0', { version: 0, name: 'New Name' }),
	patch('patient', () => '/api/me', 'me: version -1', { version: -1, name: 'New Name' }),
	patch('patient', () => '/api/me', 'me: version 1.5', { version: 1.5, name: 'New Name' }),
	patch('patient', () => '/api/me', 'me: version as a string', { version: '1', name: 'New Name' }),
	patch('patient', () => '/api/me', 'me: version 1e309 (Infinity)', '{"version": 1e309, "name": "New Name"}'),
	patch('patient', () => '/api/me', 'me: name null', { version: 1, name: null }),
	patch('patient', () => '/api/me', 'me: notifyEmail as a string', { version: 1, notifyEmail: 'yes' }),
	patch('patient', () => '/api/me', 'me: extra field role', { version: 1, role: 'super_admin' }),
	patch('patient', () => '/api/me', 'me: If-Match not a number', { name: 'New Name' }, { 'if-match': 'W/"abc"' }),
	patch('patient', () => '/api/me', 'me: If-Match negative', { name: 'New Name' }, { 'if-match': '"-3"' }),
	// GET /api/patients?name=
	get('frontDesk', () => '/api/patients', 'search: no name'),
	get('frontDesk', () => '/api/patients?name=', 'search: empty name'),
	get('frontDesk', () => `/api/patients?name=${'a'.repeat(121)}`, 'search: 121-character name'),
	get('frontDesk', () => '/api/patients?name=a&limit=abc', 'search: limit not a number'),
	get('frontDesk', () => '/api/patients?name=a&limit=0', 'search: limit 0'),
	get('frontDesk', () => '/api/patients?name=a&limit=51', 'search: limit over 50'),
	get('frontDesk', () => '/api/patients?name=a&limit=1.5', 'search: fractional limit'),
	get('frontDesk', () => '/api/patients?name=a&sort=desc', 'search: unknown parameter'),
	get('frontDesk', () => '/api/patients?name=a&name=b', 'search: name given twice'),
	get('frontDesk', () => '/api/patients?name=a&cursor=!!not-base64!!', 'search: cursor not base64 JSON'),
	get('frontDesk', () => `/api/patients?name=a&cursor=${cursor({ foo: { bar: 1 } })}`, 'search: forged cursor shape'),
	get('frontDesk', () => `/api/patients?name=a&cursor=${cursor([1, 2])}`, 'search: cursor is an array'),
	get('frontDesk', () => `/api/patients?name=a&cursor=${cursor({ id: 'x', name_initial: 'z', name_lower: 'zed' })}`, 'search: cursor of another query'),
	// GET /api/patients/:id
	get('frontDesk', () => '/api/patients/abc$def', 'read patient: $ in the id'),
	get('frontDesk', () => '/api/patients/a%20b', 'read patient: space in the id'),
	get('frontDesk', () => `/api/patients/${'a'.repeat(65)}`, 'read patient: 65-character id'),
	get('frontDesk', () => '/api/patients/%E0%A4%A', 'read patient: broken %-encoding'),
	get('frontDesk', () => '/api/patients/..%2F..%2Fadmin', 'read patient: encoded path traversal'),
	// PATCH /api/patients/:id
	patch('frontDesk', patientPath, 'edit patient: not JSON', '<patient/>'),
	patch('frontDesk', patientPath, 'edit patient: missing version', { address: '1 Road' }),
	patch('frontDesk', patientPath, 'edit patient: version 0', { version: 0, address: '1 Road' }),
	patch('frontDesk', patientPath, 'edit patient: version 2.5', { version: 2.5, address: '1 Road' }),
	patch('frontDesk', patientPath, 'edit patient: date of birth 2023-02-30', { version: 1, dateOfBirth: '2023-02-30' }),
	patch('frontDesk', patientPath, 'edit patient: blood group Z-', { version: 1, bloodGroup: 'Z-' }),
	patch('frontDesk', patientPath, 'edit patient: unknown gender', { version: 1, gender: 'unknown' }),
	patch('frontDesk', patientPath, 'edit patient: 301-character address', { version: 1, address: 'a'.repeat(301) }),
	patch('frontDesk', patientPath, 'edit patient: e-mail is not editable here', { version: 1, email: 'new@example.org' }),
	patch('frontDesk', patientPath, 'edit patient: bad emergency phone', { version: 1, emergencyContactPhone: 'none' }),
	patch('frontDesk', () => '/api/patients/bad id!', 'edit patient: illegal id', { version: 1, address: '1 Road' }),
	// GET /api/admin/users
	get('superAdmin', () => '/api/admin/users?role=wizard', 'list users: unknown role'),
	get('superAdmin', () => '/api/admin/users?limit=101', 'list users: limit over 100'),
	get('superAdmin', () => `/api/admin/users?cursor=${cursor({ role: 'janitor' })}`, 'list users: cursor with an unknown role'),
	// POST /api/admin/users
	post('superAdmin', '/api/admin/users', 'create user: unknown role', { ...newStaff(), role: 'janitor' }),
	post('superAdmin', '/api/admin/users', 'create user: unknown specialization', { ...newStaff(), role: 'doctor', specialization: 'Astrology', licenceNumber: 'LIC-1234' }),
	post('superAdmin', '/api/admin/users', 'create user: licence number too short', { ...newStaff(), role: 'doctor', specialization: 'ENT', licenceNumber: 'ab' }),
	post('superAdmin', '/api/admin/users', 'create user: extra field active', { ...newStaff(), active: false }),
	// PATCH /api/admin/users/:id
	patch('superAdmin', staffPath, 'update user: nothing to change', { version: 1 }),
	patch('superAdmin', staffPath, 'update user: active as a string', { version: 1, active: 'false' }),
	patch('superAdmin', staffPath, 'update user: password is not settable here', { version: 1, password: PW }),
	// GET /api/audit-logs
	get('superAdmin', () => '/api/audit-logs?from=yesterday', 'audit: from not a date-time'),
	get('superAdmin', () => '/api/audit-logs?to=2023-02-30T00:00:00Z', 'audit: to 2023-02-30'),
	get('superAdmin', () => '/api/audit-logs?limit=201', 'audit: limit over 200'),
	get('superAdmin', () => '/api/audit-logs?resourceType=Patient!', 'audit: illegal resource type'),
	get('superAdmin', () => `/api/audit-logs?cursor=${cursor({ day: 5 })}`, 'audit: forged cursor day')
];

const clients = () => ({ anonymous: app.client(), patient: patient.api, frontDesk: frontDesk.api, superAdmin: superAdmin.api });

describe('malformed requests', () => {
	it('the table holds exactly 100 malformed requests with distinct names', () => {
		expect(CASES).toHaveLength(100);
		expect(new Set(CASES.map((c) => c.name)).size).toBe(100);
	});

	it('every one gets 400 with { error: { code, message, details } } and nothing is written', async () => {
		const tables = ['users', 'patients', 'audit_logs', 'outbox', 'doctors'] as const;
		const count = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await countItems(app, t)] as const)));
		const before = await count();
		const failures: string[] = [];
		const c = clients();
		for (const k of CASES) {
			const res = await c[k.who].request(k.method, k.path(), k.method === 'GET' ? undefined : k.body, k.headers);
			const e = res.body?.error;
			const ok =
				res.status === 400 &&
				res.headers.get('content-type')?.startsWith('application/json') &&
				(e?.code === 'VALIDATION_FAILED' || e?.code === 'INVALID_JSON' || e?.code === 'INVALID_CURSOR') &&
				typeof e.message === 'string' &&
				e.message.length > 0 &&
				e.details !== undefined &&
				(!Array.isArray(e.details) || e.details.every((d: { field?: unknown }) => typeof d.field === 'string'));
			if (!ok) failures.push(`${k.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
		}
		expect(failures).toEqual([]);
		expect(await count()).toEqual(before);
		// The users behind the requests are untouched, and the patient is still signed in.
		expect((await patient.api.get('/api/me')).body.user.version).toBe(1);
		expect((await frontDesk.api.get(patientPath())).body.patient.version).toBe(1);
	});

	it('a body over 256 KB is refused with 413 in the same error shape', async () => {
		const res = await app.client().post('/api/auth/register', { ...reg(), name: 'x'.repeat(300_000) });
		expect(res.status).toBe(413);
		expect(res.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
	});

	it('a body that claims to be gzip but does not inflate is a 400, not a 500', async () => {
		const res = await app.client().request('POST', '/api/auth/login', json({ email: 'x@example.org', password: PW }), { 'content-encoding': 'gzip' });
		expect(res.status).toBe(400);
		expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: '(body)', message: expect.any(String) }] });
	});

	it('an unknown API path is a JSON 404 in the same error shape', async () => {
		const res = await frontDesk.api.get('/api/no-such-thing');
		expect(res.status).toBe(404);
		expect(res.body.error.code).toBe('NOT_FOUND');
	});
});
