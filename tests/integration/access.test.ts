import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp, type TestUser } from '../fixtures/app';
import { ROLES, type Role } from '../../src/lib/shared/roles';
import { auditEntries, putAppointment, requestId, storedVersion, uniqueEmail } from './helpers';

/**
 * SPEC §2's access matrix, endpoint by endpoint and role by role, against the real server.
 * Every 403/404 the guard gives must leave an audit entry with outcome `denied` for the user.
 */
type Who = 'anonymous' | Role;
const WHO: Who[] = ['anonymous', ...ROLES];
const PASSWORD = 'Acc3ss&Matrix';

let app: TestApp;
const users = {} as Record<Role, TestUser>;
/** The patient whose record the matrix reads and writes; nobody has them in care. */
let subject: TestUser;
/** A staff account the user-admin endpoints modify. */
let staffTarget: TestUser;

beforeAll(async () => {
	app = await startTestApp();
	for (const role of ROLES) users[role] = await app.userOf(role);
	subject = await app.userOf('patient', { name: 'Matrix Subject' });
	staffTarget = await app.userOf('paramedic');
});
afterAll(async () => app?.close());

type Call = { method: 'GET' | 'POST' | 'PATCH'; path: string; body?: unknown };
type Row = {
	endpoint: string;
	/** The resource the guard names in a denial's audit entry. */
	resource?: string;
	expected: Record<Who, number>;
	request: (who: Who) => Promise<Call> | Call;
};

/** Everyone gets the same status. */
const all = (status: number): Record<Who, number> =>
	Object.fromEntries(WHO.map((w) => [w, status])) as Record<Who, number>;
/** Signed-in users get `status`, anonymous callers 401. */
const signedIn = (status: number, over: Partial<Record<Role, number>> = {}): Record<Who, number> => ({
	...all(status),
	anonymous: 401,
	...over
});

const MATRIX: Row[] = [
	{ endpoint: 'GET /api/health', expected: all(200), request: () => ({ method: 'GET', path: '/api/health' }) },
	{
		endpoint: 'POST /api/auth/register',
		expected: all(201),
		request: () => ({
			method: 'POST',
			path: '/api/auth/register',
			body: {
				name: 'Walk In',
				email: uniqueEmail('walkin'),
				phone: '+12025559999',
				dateOfBirth: '1999-09-09',
				bloodGroup: 'AB+',
				password: PASSWORD
			}
		})
	},
	{
		endpoint: 'POST /api/auth/login',
		expected: all(200),
		request: (who) => {
			const u = who === 'anonymous' ? subject : users[who];
			return { method: 'POST', path: '/api/auth/login', body: { email: u.email, password: u.password } };
		}
	},
	{
		endpoint: 'POST /api/auth/password-reset',
		expected: all(202),
		request: (who) => ({
			method: 'POST',
			path: '/api/auth/password-reset',
			body: { email: who === 'anonymous' ? uniqueEmail('nobody') : users[who].email }
		})
	},
	{
		endpoint: 'POST /api/auth/password-reset/confirm (unknown token)',
		expected: all(400),
		request: () => ({
			method: 'POST',
			path: '/api/auth/password-reset/confirm',
			body: { token: 'abcdefghijklmnopqrstuvwxyz234567', password: PASSWORD }
		})
	},
	{ endpoint: 'GET /api/me', expected: signedIn(200), request: () => ({ method: 'GET', path: '/api/me' }) },
	{
		endpoint: 'PATCH /api/me',
		expected: signedIn(200),
		request: async (who) => ({
			method: 'PATCH',
			path: '/api/me',
			body: { version: who === 'anonymous' ? 1 : await storedVersion(app, 'users', users[who].id), notifyEmail: false }
		})
	},
	{
		endpoint: 'GET /api/patients?name=',
		resource: 'patient',
		// Doctors and nurses search to identify a patient (name, date of birth) before emergency access.
		expected: signedIn(403, { front_desk: 200, pharmacist: 200, admin: 200, super_admin: 200, doctor: 200, nurse: 200 }),
		request: () => ({ method: 'GET', path: '/api/patients?name=matrix' })
	},
	{
		endpoint: 'GET /api/patients/:id (another patient, not in care)',
		resource: 'patient',
		expected: signedIn(403, { patient: 404, front_desk: 200, pharmacist: 200, admin: 200, super_admin: 200 }),
		request: () => ({ method: 'GET', path: `/api/patients/${subject.patientId}` })
	},
	{
		endpoint: 'PATCH /api/patients/:id (another patient)',
		resource: 'patient',
		expected: signedIn(403, { patient: 404, front_desk: 200, admin: 200, super_admin: 200 }),
		request: async (who) => ({
			method: 'PATCH',
			path: `/api/patients/${subject.patientId}`,
			body: { version: await storedVersion(app, 'patients', subject.patientId!), address: `${who} street 1` }
		})
	},
	{
		endpoint: 'GET /api/admin/users',
		resource: 'users',
		expected: signedIn(403, { admin: 200, super_admin: 200 }),
		request: () => ({ method: 'GET', path: '/api/admin/users' })
	},
	{
		endpoint: 'POST /api/admin/users (a nurse)',
		resource: 'users',
		expected: signedIn(403, { admin: 201, super_admin: 201 }),
		request: () => ({
			method: 'POST',
			path: '/api/admin/users',
			body: { name: 'New Nurse', email: uniqueEmail('newnurse'), role: 'nurse', password: PASSWORD }
		})
	},
	{
		endpoint: 'PATCH /api/admin/users/:id (a staff account)',
		resource: 'users',
		expected: signedIn(403, { admin: 200, super_admin: 200 }),
		request: async (who) => ({
			method: 'PATCH',
			path: `/api/admin/users/${staffTarget.id}`,
			body: { version: await storedVersion(app, 'users', staffTarget.id), department: `Ward of ${who}` }
		})
	},
	{
		endpoint: 'GET /api/audit-logs',
		resource: 'audit_log',
		expected: signedIn(403, { super_admin: 200 }),
		request: () => ({ method: 'GET', path: '/api/audit-logs?limit=5' })
	}
];

/** Sends a request as `who` (bearer token; no cookie) with a request id to find its audit entries. */
async function send(who: Who, call: Call, rid: string): Promise<ApiResponse> {
	const headers: Record<string, string> = { 'x-request-id': rid };
	if (who !== 'anonymous') headers.authorization = `Bearer ${users[who].token}`;
	return app.client().request(call.method, call.path, call.method === 'GET' ? undefined : (call.body ?? {}), headers);
}

const CASES = MATRIX.flatMap((row) =>
	WHO.map((who) => ({ row, who, label: `${row.endpoint}: ${who} → ${row.expected[who]}` }))
);

describe('access matrix (SPEC §2), every endpoint × every role', () => {
	it.each(CASES)('$label', async ({ row, who }) => {
		const rid = requestId('matrix');
		const res = await send(who, await row.request(who), rid);
		expect(res.status, JSON.stringify(res.body)).toBe(row.expected[who]);
		if (res.status >= 400) {
			expect(res.body.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
		}
		const denials = await auditEntries(app, (e) => e.request_id === rid && e.outcome === 'denied');
		if (who !== 'anonymous' && (res.status === 403 || res.status === 404)) {
			expect(denials).toHaveLength(1);
			expect(denials[0]).toMatchObject({
				user_id: users[who].id,
				user: users[who].email,
				role: who,
				resource_type: row.resource
			});
			expect(denials[0]!.action).toMatch(/^(read|write)_denied$/);
		} else {
			expect(denials).toEqual([]);
		}
	});

	it('logout answers 204 for every caller and ends only the session it was sent with', async () => {
		for (const who of WHO) {
			if (who === 'anonymous') {
				expect((await app.client().post('/api/auth/logout')).status).toBe(204);
				continue;
			}
			const u = users[who];
			const extra = await app.client().post('/api/auth/login', { email: u.email, password: u.password });
			const headers = { authorization: `Bearer ${extra.body.token}` };
			expect((await app.client().post('/api/auth/logout', {}, headers)).status).toBe(204);
			expect((await app.client().get('/api/me', headers)).status).toBe(401);
			expect((await u.api.get('/api/me')).status).toBe(200);
		}
	});

	it('the session cookie gives the same answers as the bearer token', async () => {
		expect((await users.patient.api.get(`/api/patients/${subject.patientId}`)).status).toBe(404);
		expect((await users.front_desk.api.get(`/api/patients/${subject.patientId}`)).status).toBe(200);
		expect((await users.admin.api.get('/api/audit-logs')).status).toBe(403);
		expect((await users.super_admin.api.get('/api/audit-logs')).status).toBe(200);
	});
});

describe('patient demographics', () => {
	it('a patient reads and edits their own record', async () => {
		const p = users.patient;
		const read = await p.api.get(`/api/patients/${p.patientId}`);
		expect(read.status).toBe(200);
		expect(read.body.patient).toMatchObject({ id: p.patientId, phone: '+12025551111', dateOfBirth: '1980-04-12' });
		const edit = await p.api.patch(`/api/patients/${p.patientId}`, { version: read.body.patient.version, gender: 'female' });
		expect(edit.status).toBe(200);
	});

	it("a patient reading another patient gets the same 404 as for a record that does not exist (existence is private), and it is audited", async () => {
		const p = users.patient;
		const rid = requestId('peek');
		const other = await p.api.get(`/api/patients/${subject.patientId}`, { 'x-request-id': rid });
		const missing = await p.api.get('/api/patients/no-such-patient-0000');
		expect(other.status).toBe(404);
		expect(missing.status).toBe(404);
		expect(other.body).toEqual(missing.body);
		const denied = await auditEntries(app, (e) => e.request_id === rid);
		expect(denied).toEqual([
			expect.objectContaining({ action: 'read_denied', outcome: 'denied', user_id: p.id, resource_id: subject.patientId })
		]);
	});

	it('a pharmacist gets only the name and the allergies they dispense against (no phone, date of birth, e-mail, blood group), by id and in search', async () => {
		const ph = users.pharmacist;
		const one = await ph.api.get(`/api/patients/${subject.patientId}`);
		expect(one.status).toBe(200);
		expect(Object.keys(one.body.patient).sort()).toEqual(['access', 'allergies', 'id', 'name', 'updatedAt', 'updatedBy', 'version']);
		expect(one.body.patient.access).toEqual({ kind: 'name' });
		expect(one.body.patient).toMatchObject({ id: subject.patientId, name: 'Matrix Subject' });
		const search = await ph.api.get('/api/patients?name=matrix');
		expect(search.status).toBe(200);
		expect(search.body.items.length).toBeGreaterThan(0);
		for (const item of search.body.items) {
			expect(Object.keys(item).sort()).toEqual(['id', 'name']);
		}
		const full = await users.front_desk.api.get(`/api/patients/${subject.patientId}`);
		expect(full.body.patient).toMatchObject({ phone: '+12025551111', dateOfBirth: '1980-04-12', bloodGroup: 'O+' });
	});

	it('a doctor reads a patient only once an appointment puts them in care, and even then cannot edit (care R)', async () => {
		const doctor = await app.userOf('doctor');
		const patient = await app.userOf('patient');
		const before = await doctor.api.get(`/api/patients/${patient.patientId}`);
		expect(before.status).toBe(403);
		expect(before.body.error.code).toBe('FORBIDDEN');

		await putAppointment(app, { patientId: patient.patientId!, doctorId: doctor.doctorId!, date: '2031-03-04' });
		const after = await doctor.api.get(`/api/patients/${patient.patientId}`);
		expect(after.status).toBe(200);
		expect(after.body.patient).toMatchObject({ id: patient.patientId, phone: '+12025551111' });

		const rid = requestId('doc-write');
		const write = await doctor.api.patch(`/api/patients/${patient.patientId}`, { version: 1, address: 'x' }, { 'x-request-id': rid });
		expect(write.status).toBe(403);
		expect(await auditEntries(app, (e) => e.request_id === rid)).toEqual([
			expect.objectContaining({ action: 'write_denied', outcome: 'denied', user_id: doctor.id })
		]);
		// Another doctor's appointment does not put this patient in the first doctor's care.
		const stranger = await app.userOf('doctor');
		expect((await stranger.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
		// A nurse's care is today's arrivals: an appointment on another day does not count.
		expect((await users.nurse.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
	});

	it("a nurse reads a patient who has an appointment today", async () => {
		const patient = await app.userOf('patient');
		const doctor = await app.userOf('doctor');
		expect((await users.nurse.api.get(`/api/patients/${patient.patientId}`)).status).toBe(403);
		await putAppointment(app, { patientId: patient.patientId!, doctorId: doctor.doctorId! });
		expect((await users.nurse.api.get(`/api/patients/${patient.patientId}`)).status).toBe(200);
	});

	it('staff reads of a patient record are audited as reads; a patient reading their own is not', async () => {
		const rid = requestId('fd-read');
		await users.front_desk.api.get(`/api/patients/${subject.patientId}`, { 'x-request-id': rid });
		expect(await auditEntries(app, (e) => e.request_id === rid)).toEqual([
			expect.objectContaining({ action: 'read', outcome: 'success', resource_type: 'patient', resource_id: subject.patientId })
		]);
		const own = requestId('own-read');
		await users.patient.api.get(`/api/patients/${users.patient.patientId}`, { 'x-request-id': own });
		expect(await auditEntries(app, (e) => e.request_id === own)).toEqual([]);
	});
});

describe('user administration', () => {
	it('an admin cannot create a super admin, promote anyone to super admin, or modify a super admin (403, audited)', async () => {
		const admin = users.admin;
		const target = await app.userOf('super_admin');
		const rids = [requestId('mk-sa'), requestId('promote'), requestId('mod-sa')];
		const create = await admin.api.post(
			'/api/admin/users',
			{ name: 'Wannabe Root', email: uniqueEmail('root'), role: 'super_admin', password: PASSWORD },
			{ 'x-request-id': rids[0]! }
		);
		expect(create.status).toBe(403);
		const promote = await admin.api.patch(
			`/api/admin/users/${staffTarget.id}`,
			{ version: await storedVersion(app, 'users', staffTarget.id), role: 'super_admin' },
			{ 'x-request-id': rids[1]! }
		);
		expect(promote.status).toBe(403);
		const modify = await admin.api.patch(
			`/api/admin/users/${target.id}`,
			{ version: await storedVersion(app, 'users', target.id), active: false },
			{ 'x-request-id': rids[2]! }
		);
		expect(modify.status).toBe(403);
		for (const rid of rids) {
			expect(await auditEntries(app, (e) => e.request_id === rid)).toEqual([
				expect.objectContaining({ action: 'write_denied', outcome: 'denied', user_id: admin.id, resource_type: 'users' })
			]);
		}
		expect(await storedVersion(app, 'users', target.id)).toBe(1);
		expect((await target.api.get('/api/me')).status).toBe(200);
	});

	it('a super admin can modify another super admin; even a super admin creates none through the API (CLI only)', async () => {
		const other = await app.userOf('super_admin');
		const res = await users.super_admin.api.patch(`/api/admin/users/${other.id}`, { version: 1, department: 'Board' });
		expect(res.status).toBe(200);
		expect(res.body.user).toMatchObject({ department: 'Board', version: 2 });
		const create = await users.super_admin.api.post('/api/admin/users', {
			name: 'Second Root',
			email: uniqueEmail('root'),
			role: 'super_admin',
			password: PASSWORD
		});
		expect(create.status).toBe(403);
	});

	it('only a super admin reads the audit log', async () => {
		const res = await users.super_admin.api.get(`/api/audit-logs?user=${users.admin.id}&limit=200`);
		expect(res.status).toBe(200);
		expect(res.body.items.length).toBeGreaterThan(0);
		for (const e of res.body.items) expect(e.user_id).toBe(users.admin.id);
		for (const role of ROLES.filter((r) => r !== 'super_admin')) {
			const denied = await users[role].api.get('/api/audit-logs');
			expect(denied.status).toBe(403);
			expect(denied.body.items).toBeUndefined();
		}
	});
});
