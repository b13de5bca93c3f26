import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiClient, type ApiResponse, type TestApp, type TestUser } from '../fixtures/app';
import type { AuditEntry } from '../../src/lib/server/services/audit';
import {
	auditEntries,
	countItems,
	getItem,
	requestId,
	resetTokenFromOutbox,
	scanAll,
	storedVersion,
	uniqueEmail
} from './helpers';

const AUDIT_IP_KEY = 'test-audit-ip-key-0123456789'; // what tests/fixtures/app.ts configures

let app: TestApp;
let frontDesk: TestUser;
let superAdmin: TestUser;
beforeAll(async () => {
	app = await startTestApp();
	frontDesk = await app.userOf('front_desk');
	superAdmin = await app.userOf('super_admin');
});
afterAll(async () => app?.close());

const byRequest = (rid: string) => auditEntries(app, (e) => e.request_id === rid);
const withRid = (tag: string) => {
	const rid = requestId(tag);
	return { rid, headers: { 'x-request-id': rid } };
};

describe('audit atomicity: a failed write leaves neither the change nor its entry', () => {
	it('a stale-version PATCH (409) leaves the record unchanged and no update entry for it', async () => {
		const patient = await app.userOf('patient');
		const pid = patient.patientId!;
		const ok = await frontDesk.api.patch(`/api/patients/${pid}`, { version: 1, address: '10 Downing St' });
		expect(ok.status).toBe(200);
		const storedBefore = await getItem(app, 'patients', { id: pid });
		const updatesBefore = await auditEntries(app, (e) => e.resource_key === `patient#${pid}` && e.action === 'update');
		expect(updatesBefore).toHaveLength(1);

		const { rid, headers } = withRid('stale');
		const stale = await frontDesk.api.patch(`/api/patients/${pid}`, { version: 1, address: '221B Baker St' }, headers);
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		expect(await getItem(app, 'patients', { id: pid })).toEqual(storedBefore);
		expect(await byRequest(rid)).toEqual([]);
		const updatesAfter = await auditEntries(app, (e) => e.resource_key === `patient#${pid}` && e.action === 'update');
		expect(updatesAfter).toEqual(updatesBefore);
	});

	it('a duplicate-email registration (409) leaves no user, no patient and no audit entry', async () => {
		const email = uniqueEmail('dup');
		const input = { name: 'First Owner', email, phone: '+12025552222', dateOfBirth: '1970-01-02', bloodGroup: 'A-', password: 'Dupl1cate&Pass' };
		expect((await app.client().post('/api/auth/register', input)).status).toBe(201);
		const counts = async () => [await countItems(app, 'users'), await countItems(app, 'patients'), await countItems(app, 'audit_logs')];
		const before = await counts();
		const { rid, headers } = withRid('dup');
		const dup = await app.client().post('/api/auth/register', { ...input, name: 'Second Claimant', email: email.toUpperCase() }, headers);
		expect(dup.status).toBe(409);
		expect(dup.body.error.code).toBe('ALREADY_EXISTS');
		expect(await counts()).toEqual(before);
		expect(await byRequest(rid)).toEqual([]);
		expect((await scanAll(app, 'patients')).filter((p) => p.name === 'Second Claimant')).toEqual([]);
	});

	it('an admin creating an account with a taken e-mail (409) writes nothing', async () => {
		const admin = await app.userOf('admin');
		const before = [await countItems(app, 'users'), await countItems(app, 'doctors'), await countItems(app, 'audit_logs')];
		const { rid, headers } = withRid('dup-staff');
		const res = await admin.api.post(
			'/api/admin/users',
			{ name: 'Copy Cat', email: frontDesk.email, role: 'doctor', password: 'Dupl1cate&Pass', specialization: 'ENT', licenceNumber: 'LIC-9999' },
			headers
		);
		expect(res.status).toBe(409);
		expect([await countItems(app, 'users'), await countItems(app, 'doctors'), await countItems(app, 'audit_logs')]).toEqual(before);
		expect(await byRequest(rid)).toEqual([]);
	});
});

describe('every successful write leaves exactly one audit entry for it', () => {
	it('register, login, profile edit, patient edit, account creation, update, deactivation, reset, logout', async () => {
		const admin = await app.userOf('admin');
		const c = app.client();
		const email = uniqueEmail('one');
		const password = 'Exactly0ne&Entry';
		const expectOne = async (rid: string, action: string, more: Partial<AuditEntry> = {}) => {
			const entries = (await byRequest(rid)).filter((e) => e.action === action);
			expect(entries, `${action} entries for ${rid}`).toHaveLength(1);
			expect(entries[0]).toMatchObject({ outcome: 'success', ...more });
			return entries[0]!;
		};

		let r = withRid('register');
		const reg = await c.post('/api/auth/register', { name: 'Una Entry', email, phone: '+12025554444', dateOfBirth: '1991-11-11', bloodGroup: 'O-', password }, r.headers);
		expect(reg.status).toBe(201);
		const userId = reg.body.user.id as string;
		const patientId = reg.body.user.patientId as string;
		await expectOne(r.rid, 'register', { resource_type: 'patient', resource_id: patientId, user_id: userId });
		await expectOne(r.rid, 'login', { user_id: userId });
		expect(await byRequest(r.rid)).toHaveLength(2);

		r = withRid('me');
		expect((await c.patch('/api/me', { version: 1, name: 'Una Entryway' }, r.headers)).status).toBe(200);
		const me = await expectOne(r.rid, 'update', { resource_type: 'user', resource_id: userId });
		expect(me.changed_fields).toEqual(['name', 'name_lower']);
		expect(await byRequest(r.rid)).toHaveLength(1);

		r = withRid('patient');
		expect((await c.patch(`/api/patients/${patientId}`, { version: 1, address: '5 Elm St', gender: 'other' }, r.headers)).status).toBe(200);
		const pe = await expectOne(r.rid, 'update', { resource_type: 'patient', resource_id: patientId });
		expect(pe.changed_fields).toEqual(['address', 'gender']);
		expect(await byRequest(r.rid)).toHaveLength(1);

		r = withRid('create');
		const created = await admin.api.post('/api/admin/users', { name: 'Nia Nurse', email: uniqueEmail('nia'), role: 'nurse', password }, r.headers);
		expect(created.status).toBe(201);
		const nurseId = created.body.user.id as string;
		const ce = await expectOne(r.rid, 'create', { resource_type: 'user', resource_id: nurseId, user_id: admin.id });
		expect(ce.changed_fields).toContain('password_hash');
		expect(await byRequest(r.rid)).toHaveLength(1);

		r = withRid('dept');
		expect((await admin.api.patch(`/api/admin/users/${nurseId}`, { version: 1, department: 'ICU' }, r.headers)).status).toBe(200);
		expect((await expectOne(r.rid, 'update', { resource_id: nurseId })).changed_fields).toEqual(['department']);
		expect(await byRequest(r.rid)).toHaveLength(1);

		r = withRid('deactivate');
		expect((await admin.api.patch(`/api/admin/users/${nurseId}`, { version: 2, active: false }, r.headers)).status).toBe(200);
		await expectOne(r.rid, 'deactivate', { resource_id: nurseId });
		expect(await byRequest(r.rid)).toHaveLength(1);

		r = withRid('reset');
		expect((await app.client().post('/api/auth/password-reset', { email }, r.headers)).status).toBe(202);
		await expectOne(r.rid, 'password_reset_requested', { resource_id: userId, user_id: userId });
		expect(await byRequest(r.rid)).toHaveLength(1);

		r = withRid('confirm');
		const token = await resetTokenFromOutbox(app, userId);
		expect((await app.client().post('/api/auth/password-reset/confirm', { token, password: 'Brand&New9pass' }, r.headers)).status).toBe(200);
		await expectOne(r.rid, 'password_reset', { resource_id: userId, user_id: userId });
		expect(await byRequest(r.rid)).toHaveLength(1);

		const again = app.client();
		await again.post('/api/auth/login', { email, password: 'Brand&New9pass' });
		r = withRid('logout');
		expect((await again.post('/api/auth/logout', {}, r.headers)).status).toBe(204);
		await expectOne(r.rid, 'logout', { user_id: userId });
		expect(await byRequest(r.rid)).toHaveLength(1);
	});
});

describe('what the audit log never holds', () => {
	it('no entry contains a password, a reset or session token, a phone number, a birth date, an address or the raw IP', async () => {
		const tag = crypto.randomBytes(3).toString('hex');
		const secrets = {
			password: `Pa55-${tag}-Orig!`,
			newPassword: `Pa55-${tag}-Reset!`,
			wrongPassword: `Pa55-${tag}-Wrong!`,
			phone: '+1 (202) 867-5309',
			userPhone: '+44 20 7946 0958',
			contactPhone: '+61 2 9374 4000',
			dob: '1977-03-21',
			address: `742 Evergreen Terrace ${tag}`
		};
		const email = uniqueEmail('secret');
		const c = app.client();
		const reg = await c.post('/api/auth/register', {
			name: 'Sam Secret',
			email,
			phone: secrets.phone,
			dateOfBirth: secrets.dob,
			bloodGroup: 'AB-',
			password: secrets.password
		});
		expect(reg.status).toBe(201);
		const tokens: string[] = [reg.body.token];
		const pid = reg.body.user.patientId as string;
		expect((await c.patch('/api/me', { version: 1, phone: secrets.userPhone })).status).toBe(200);
		const edit = await c.patch(`/api/patients/${pid}`, {
			version: 1,
			address: secrets.address,
			emergencyContactName: 'Kin Secret',
			emergencyContactPhone: secrets.contactPhone
		});
		expect(edit.status).toBe(200);
		expect((await frontDesk.api.get(`/api/patients/${pid}`)).status).toBe(200);
		expect((await app.client().post('/api/auth/login', { email, password: secrets.wrongPassword })).status).toBe(401);
		expect((await app.client().post('/api/auth/password-reset', { email })).status).toBe(202);
		const resetToken = await resetTokenFromOutbox(app, reg.body.user.id);
		tokens.push(resetToken);
		expect((await app.client().post('/api/auth/password-reset/confirm', { token: resetToken, password: secrets.newPassword })).status).toBe(200);
		const login = await app.client().post('/api/auth/login', { email, password: secrets.newPassword });
		expect(login.status).toBe(200);
		tokens.push(login.body.token);

		const entries = await scanAll<AuditEntry>(app, 'audit_logs');
		expect(entries.some((e) => e.user_id === reg.body.user.id && e.action === 'password_reset')).toBe(true);
		const digits = (s: string) => s.replace(/\D/g, '');
		const forbidden = [
			...Object.values(secrets),
			digits(secrets.phone),
			digits(secrets.userPhone),
			digits(secrets.contactPhone),
			...tokens,
			'127.0.0.1'
		];
		for (const entry of entries) {
			const text = JSON.stringify(entry);
			for (const secret of forbidden) expect(text, `audit entry ${entry.log_id}`).not.toContain(secret);
		}
	});

	it('ip_hash is a 64-hex keyed HMAC of the client IP, never the IP itself', async () => {
		const entries = await scanAll<AuditEntry>(app, 'audit_logs');
		expect(entries.length).toBeGreaterThan(10);
		const hmac = (ip: string) => crypto.createHmac('sha256', AUDIT_IP_KEY).update(ip).digest('hex');
		const loopback = [hmac('127.0.0.1'), hmac('::ffff:127.0.0.1'), hmac('::1')];
		const plainSha = crypto.createHash('sha256').update('127.0.0.1').digest('hex');
		for (const e of entries) {
			expect(e.ip_hash).toMatch(/^[0-9a-f]{64}$/);
			expect(loopback).toContain(e.ip_hash); // every request of this test came from loopback
			expect(e.ip_hash).not.toBe(plainSha); // keyed, not a bare hash anyone can recompute
		}
	});
});

describe('GET /api/audit-logs', () => {
	let patientId: string;
	let started: string;
	let editor: TestUser;

	/** Follows nextCursor to the end; returns every item in the order served. */
	async function allPages(api: ApiClient, query: string): Promise<{ items: AuditEntry[]; pages: number }> {
		const items: AuditEntry[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const res: ApiResponse = await api.get(`/api/audit-logs?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
			expect(res.status, JSON.stringify(res.body)).toBe(200);
			expect(res.body.items.length).toBeLessThanOrEqual(Number(/limit=(\d+)/.exec(query)?.[1] ?? 50));
			items.push(...res.body.items);
			cursor = res.body.nextCursor;
			pages++;
			expect(pages).toBeLessThan(100);
		} while (cursor);
		return { items, pages };
	}

	const ids = (xs: AuditEntry[]) => xs.map((x) => x.log_id);
	const expectSameEntries = (served: AuditEntry[], expected: AuditEntry[]) => {
		expect(new Set(ids(served)).size).toBe(served.length); // no duplicates
		expect([...ids(served)].sort()).toEqual([...ids(expected)].sort()); // no gaps, nothing extra
		const ts = served.map((e) => e.timestamp);
		expect(ts).toEqual([...ts].sort().reverse()); // newest first
	};

	beforeAll(async () => {
		started = new Date().toISOString();
		editor = await app.userOf('front_desk');
		const patient = await app.userOf('patient');
		patientId = patient.patientId!;
		// 25 versioned edits → 25 `update` entries on one record: more than two pages of 10.
		for (let v = 1; v <= 25; v++) {
			const res = await editor.api.patch(`/api/patients/${patientId}`, { version: v, address: `${v} Audit Road` });
			expect(res.status).toBe(200);
		}
	});

	it('pages a resource (resourceType + resourceId) with the cursor without duplicates or gaps', async () => {
		const expected = await auditEntries(app, (e) => e.resource_key === `patient#${patientId}`);
		expect(expected.length).toBeGreaterThanOrEqual(25);
		const { items, pages } = await allPages(superAdmin.api, `resourceType=patient&resourceId=${patientId}&limit=10`);
		expect(pages).toBeGreaterThanOrEqual(3);
		expectSameEntries(items, expected);
	});

	it('filters by user, alone and with a resource type', async () => {
		const mine = await auditEntries(app, (e) => e.user_id === editor.id);
		const { items, pages } = await allPages(superAdmin.api, `user=${editor.id}&limit=7`);
		expect(pages).toBeGreaterThanOrEqual(4);
		expectSameEntries(items, mine);
		const patientOnly = await allPages(superAdmin.api, `user=${editor.id}&resourceType=patient&limit=10`);
		expectSameEntries(patientOnly.items, mine.filter((e) => e.resource_type === 'patient'));
		expect(patientOnly.items.every((e) => e.resource_type === 'patient')).toBe(true);
	});

	it('filters by from/to (inclusive) on a resource', async () => {
		const updates = (await auditEntries(app, (e) => e.resource_key === `patient#${patientId}`)).sort((a, b) =>
			a.timestamp.localeCompare(b.timestamp)
		);
		const from = updates[5]!.timestamp;
		const to = updates[14]!.timestamp;
		const expected = updates.filter((e) => e.timestamp >= from && e.timestamp <= to);
		const { items } = await allPages(
			superAdmin.api,
			`resourceType=patient&resourceId=${patientId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=4`
		);
		expectSameEntries(items, expected);
	});

	it('lists everything in a time window (no user or resource filter), day by day, without duplicates or gaps', async () => {
		const to = new Date().toISOString();
		const expected = await auditEntries(app, (e) => e.timestamp >= started && e.timestamp <= to);
		expect(expected.length).toBeGreaterThan(25);
		const { items, pages } = await allPages(superAdmin.api, `from=${encodeURIComponent(started)}&to=${encodeURIComponent(to)}&limit=10`);
		expect(pages).toBeGreaterThanOrEqual(3);
		expectSameEntries(items, expected);
	});

	it('a cursor from another query, or a forged one, is a 400 naming cursor, not a 500', async () => {
		const first = await superAdmin.api.get(`/api/audit-logs?user=${editor.id}&limit=2`);
		expect(first.body.nextCursor).toEqual(expect.any(String));
		const foreign = await superAdmin.api.get(`/api/audit-logs?user=${frontDesk.id}&limit=2&cursor=${first.body.nextCursor}`);
		expect(foreign.status).toBe(400);
		expect(foreign.body.error.details).toEqual([expect.objectContaining({ field: 'cursor' })]);
		const forged = Buffer.from(JSON.stringify({ day: 'yesterday' })).toString('base64url');
		expect((await superAdmin.api.get(`/api/audit-logs?cursor=${forged}`)).status).toBe(400);
	});

	it('rejects from after to with a 400', async () => {
		const res = await superAdmin.api.get('/api/audit-logs?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z');
		expect(res.status).toBe(400);
		expect(res.body.error.details[0].field).toBe('from');
	});

	it("an edit's entry names the changed field, never its value", async () => {
		const v = await storedVersion(app, 'patients', patientId);
		const { rid, headers } = withRid('names-only');
		expect((await editor.api.patch(`/api/patients/${patientId}`, { version: v, phone: '+12025554242' }, headers)).status).toBe(200);
		const [entry] = await byRequest(rid);
		expect(entry!.changed_fields).toEqual(['phone']);
		expect(JSON.stringify(entry)).not.toContain('2025554242');
	});
});
