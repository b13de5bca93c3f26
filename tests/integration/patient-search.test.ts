import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, encodeTestCursor, runWorkerOnce, scanAll, storedVersion } from './helpers';
import { createUser } from '../../src/lib/server/services/users';
import { rebuildSearchIndex } from '../../src/lib/server/services/search-index';
import { putIndexEntries } from '../../src/lib/server/db/search-index';
import { patientSearchEntry } from '../../src/lib/server/repositories/patients';
import { systemCaller } from '../../src/lib/server/actor';
import { normalizeText } from '../../src/lib/shared/search';

/**
 * Issue #11, search: any word of the name by prefix, accents and case ignored; phone in any
 * format; blood group; combinations; paging with signed cursors; the index follows a rename in
 * the patient's own transaction; who may search and what they see; and no Scan on any request.
 */
let app: TestApp;
let desk: TestUser;
let admin: TestUser;
let superAdmin: TestUser;
let doctor: TestUser;
let nurse: TestUser;
let pharmacist: TestUser;
let paramedic: TestUser;
let patient: TestUser;
const ids: Record<string, string> = {};

type Hit = { id: string; name: string; phone?: string; bloodGroup?: string; dateOfBirth?: string };

async function newPatient(name: string, phone: string, bloodGroup: string, dateOfBirth = '1970-01-01') {
	const email = `${crypto.randomBytes(5).toString('hex')}@patients.test`;
	const u = await createUser(app.ctx, systemCaller(), { name, email, role: 'patient', password: TEST_PASSWORD, phone, dateOfBirth, bloodGroup }, { allowSuperAdmin: true });
	ids[name] = u.patientId!;
	return u;
}

const search = (u: TestUser, params: Record<string, string | number | undefined>) =>
	u.api.get<{ patients: Hit[]; nextCursor: string | null; error?: any }>(`/api/patients/search?${new URLSearchParams(Object.entries(params).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])))}`);
const names = (r: { body: { patients: Hit[] } }) => r.body.patients.map((p) => p.name);

const INTERNAL_TOKEN = crypto.randomBytes(24).toString('hex');

beforeAll(async () => {
	app = await startTestApp({ INTERNAL_TOKEN });
	[desk, admin, superAdmin, doctor, nurse, pharmacist, paramedic, patient] = await Promise.all([
		app.userOf('front_desk', { name: 'Desk Person' }),
		app.userOf('admin', { name: 'Ada Admin' }),
		app.userOf('super_admin', { name: 'Sue Super' }),
		app.userOf('doctor', { name: 'Doc Holliday' }),
		app.userOf('nurse', { name: 'Marco Nurse', email: 'marco.nurse@ward.test' }),
		app.userOf('pharmacist', { name: 'Phil Pharma' }),
		app.userOf('paramedic', { name: 'Pam Medic' }),
		app.userOf('patient', { name: 'Pat Ient' })
	]);
	await newPatient('María Gómez', '+12025550143', 'A+', '1985-03-02');
	await newPatient('Anne Marshall', '+442079460958', 'O-', '1990-07-15');
	await newPatient('Tomás Martínez', '+12025550177', 'AB-', '1978-11-30');
	await newPatient('Omar Haddad', '+12025550188', 'A+', '1966-05-05');
	await newPatient('Zoë Ångström-Øberg', '+12025550199', 'B+');
});
afterAll(async () => app?.close());

describe('by name: any word, by prefix, accents and case ignored', () => {
	it('`mar` finds María Gómez, Anne Marshall and Tomás Martínez, ordered by name, but not Omar Haddad', async () => {
		const r = await search(desk, { q: 'mar' });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		expect(names(r)).toEqual(['Anne Marshall', 'María Gómez', 'Tomás Martínez']);
		expect(r.body.nextCursor).toBeNull();
	});

	it('`GOMEZ` finds María Gómez; so do `gómez`, `MARÍA gó` and `ma go`', async () => {
		for (const q of ['GOMEZ', 'gómez', 'MARÍA gó', 'ma go', 'Gómez, María']) {
			expect(names(await search(desk, { q })), q).toEqual(['María Gómez']);
		}
	});

	it('every word must match: `maria hal` finds nobody; letters the name does not decompose still fold (oberg, angstrom, zoe)', async () => {
		expect(names(await search(desk, { q: 'maria hal' }))).toEqual([]);
		for (const q of ['oberg', 'ANGSTROM', 'zoe ob']) expect(names(await search(desk, { q })), q).toEqual(['Zoë Ångström-Øberg']);
	});

	it('a query word longer than the indexed prefix is matched in full', async () => {
		await newPatient('Wolfeschlegelsteinhausen Bergerdorff', '+12025550111', 'O+');
		expect(names(await search(desk, { q: 'wolfeschlegelstein' }))).toEqual(['Wolfeschlegelsteinhausen Bergerdorff']);
		expect(names(await search(desk, { q: 'wolfeschlegelsteinz' }))).toEqual([]);
	});

	it('front desk sees phone, blood group and date of birth in each result', async () => {
		const r = await search(desk, { q: 'gomez' });
		expect(r.body.patients).toEqual([{ id: ids['María Gómez'], name: 'María Gómez', phone: '+12025550143', bloodGroup: 'A+', dateOfBirth: '1985-03-02' }]);
	});
});

describe('by phone and blood group, and combined', () => {
	it('a phone number in any format a person types finds the patient stored in E.164', async () => {
		for (const phone of ['+12025550143', '(202) 555-0143', '202.555.0143', '202 555 0143', '+1 202-555-0143']) {
			const r = await search(desk, { phone });
			expect(r.status, phone).toBe(200);
			expect(names(r), phone).toEqual(['María Gómez']);
		}
		expect(names(await search(desk, { phone: '+44 20 7946 0958' }))).toEqual(['Anne Marshall']);
	});

	it('an impossible phone number is 400 naming the field', async () => {
		const r = await search(desk, { phone: '12' });
		expect(r.status).toBe(400);
		expect(r.body.error!.details[0].field).toBe('phone');
	});

	it('a blood group lists its patients by name', async () => {
		expect(names(await search(desk, { bloodGroup: 'A+' }))).toEqual(['María Gómez', 'Omar Haddad']);
		expect(names(await search(desk, { bloodGroup: 'AB-' }))).toEqual(['Tomás Martínez']);
	});

	it('filters combine: name + blood group, name + phone, phone + blood group', async () => {
		expect(names(await search(desk, { q: 'mar', bloodGroup: 'A+' }))).toEqual(['María Gómez']);
		expect(names(await search(desk, { q: 'mar', bloodGroup: 'O-' }))).toEqual(['Anne Marshall']);
		expect(names(await search(desk, { q: 'omar', bloodGroup: 'O-' }))).toEqual([]);
		expect(names(await search(desk, { q: 'maria', phone: '202 555 0143' }))).toEqual(['María Gómez']);
		expect(names(await search(desk, { q: 'anne', phone: '202 555 0143' }))).toEqual([]);
		expect(names(await search(desk, { phone: '202-555-0188', bloodGroup: 'A+' }))).toEqual(['Omar Haddad']);
		expect(names(await search(desk, { phone: '202-555-0188', bloodGroup: 'B+' }))).toEqual([]);
	});
});

describe('paging', () => {
	it('three pages of 20, 20 and 10: no duplicates, no gaps, in name order, nextCursor null on the last', async () => {
		// Stored as a seeded database has them (no index items), then indexed by the backfill job.
		const made: string[] = [];
		for (let i = 0; i < 50; i++) {
			const id = crypto.randomUUID();
			const name = `Quill ${['Abbott', 'Baker', 'Çelik', 'Dunn', 'Évora'][i % 5]} ${String(i).padStart(2, '0')}`;
			made.push(name);
			await app.setup.doc.send(
				new PutCommand({ TableName: app.ctx.db.tables.patients, Item: { id, name, phone: `+1202555${String(2000 + i)}`, date_of_birth: '1999-09-09', blood_group: 'B-', version: 1 } })
			);
		}
		expect(names(await search(desk, { q: 'quill' }))).toEqual([]);
		// The backfill scans (a maintenance job, not a request path), so it runs on the setup client here.
		const rebuilt = await rebuildSearchIndex({ ...app.ctx, db: app.setup });
		expect(rebuilt.patients).toBeGreaterThanOrEqual(55);
		expect((await rebuildSearchIndex({ ...app.ctx, db: app.setup })).items).toBe(rebuilt.items); // idempotent

		const seen: string[] = [];
		const sizes: number[] = [];
		let cursor: string | null = null;
		do {
			const r = await search(desk, { q: 'quill', limit: 20, ...(cursor ? { cursor } : {}) });
			expect(r.status, JSON.stringify(r.body)).toBe(200);
			sizes.push(r.body.patients.length);
			seen.push(...names(r));
			cursor = r.body.nextCursor;
		} while (cursor);
		expect(sizes).toEqual([20, 20, 10]);
		expect(new Set(seen).size).toBe(50);
		expect(seen).toEqual([...made].sort((a, b) => normalizeText(a).localeCompare(normalizeText(b))));
		// A filtered listing pages the same way (blood group B- on the name term).
		const f1 = await search(desk, { q: 'quill', bloodGroup: 'B-', limit: 30 });
		const f2 = await search(desk, { q: 'quill', bloodGroup: 'B-', limit: 30, cursor: f1.body.nextCursor! });
		expect([f1.body.patients.length, f2.body.patients.length, f2.body.nextCursor]).toEqual([30, 20, null]);
		expect(new Set([...names(f1), ...names(f2)]).size).toBe(50);
	});

	it('`npm run worker -- --once search-index` (its own process) indexes a patient stored without index items', async () => {
		const id = crypto.randomUUID();
		await app.setup.doc.send(new PutCommand({ TableName: app.ctx.db.tables.patients, Item: { id, name: 'Yusuf Backfill', phone: '+12025550122', date_of_birth: '1950-01-01', blood_group: 'O+', version: 1 } }));
		expect(names(await search(desk, { q: 'backfill' }))).toEqual([]);
		const run = await runWorkerOnce(app, 'search-index', { INTERNAL_TOKEN });
		expect(run.code, run.out).toBe(0);
		expect(run.result?.patients).toBeGreaterThanOrEqual(56);
		expect(names(await search(desk, { q: 'backfill' }))).toEqual(['Yusuf Backfill']);
		expect(names(await search(desk, { phone: '+1 202 555 0122' }))).toEqual(['Yusuf Backfill']);
	});

	it('a forged, edited or other query’s cursor is 400 INVALID_CURSOR', async () => {
		const first = await search(desk, { q: 'quill', limit: 5 });
		const good = first.body.nextCursor!;
		const [payload, tag] = good.split('.');
		const forged = [
			encodeTestCursor({ after: 'quill' }),
			`${encodeTestCursor({ after: 'a' })}.${tag}`,
			`${payload}.${tag}x`,
			'!!not-a-cursor!!'
		];
		for (const cursor of forged) {
			const r = await search(desk, { q: 'quill', limit: 5, cursor });
			expect(r.status, cursor).toBe(400);
			expect(r.body.error!.code).toBe('INVALID_CURSOR');
		}
		// Another query (another name, a filter added) cannot reuse it.
		expect((await search(desk, { q: 'quil', limit: 5, cursor: good })).status).toBe(400);
		expect((await search(desk, { q: 'quill', bloodGroup: 'B-', limit: 5, cursor: good })).status).toBe(400);
		expect((await search(desk, { q: 'quill', limit: 5, cursor: good })).status).toBe(200);
	});

	it('limit is 1..100; control characters and empty queries are 400', async () => {
		expect((await search(desk, { q: 'quill', limit: 100 })).status).toBe(200);
		for (const bad of [{ q: 'quill', limit: 101 }, { q: 'quill', limit: 0 }, { q: 'qu\u0001ill' }, { q: 'qu\u001bill' }, { q: 'a\u202Eb' }, { q: '' }, { q: '--' }, {}, { bloodGroup: 'Z+' }, { q: 'a', sort: 'desc' }]) {
			const r = await search(desk, bad as Record<string, string>);
			expect(r.status, JSON.stringify(bad)).toBe(400);
			expect(r.body.error!.code).toBe('VALIDATION_FAILED');
		}
	});
});

describe('the index follows every write in the same transaction', () => {
	it('a renamed patient is found by the new name at once, and not by the old one', async () => {
		const id = ids['Omar Haddad']!;
		const version = await storedVersion(app, 'patients', id);
		const r = await desk.api.patch(`/api/patients/${id}`, { version, name: 'Omar Quintero-Lüdke' });
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		expect(names(await search(desk, { q: 'haddad' }))).toEqual([]);
		expect(names(await search(desk, { q: 'ludke' }))).toEqual(['Omar Quintero-Lüdke']);
		expect(names(await search(desk, { q: 'quintero omar' }))).toEqual(['Omar Quintero-Lüdke']);
		// Phone and blood group items carry the new name too, and nothing is left under the old one.
		expect(names(await search(desk, { phone: '+12025550188' }))).toEqual(['Omar Quintero-Lüdke']);
		const left = (await scanAll(app, 'search_terms')).filter((i) => i.entity_id === id);
		expect(left.every((i) => i.name === 'Omar Quintero-Lüdke')).toBe(true);
		expect(left.some((i) => i.term === 'patient#n:hadd')).toBe(false);
	});

	it('a changed phone moves the patient to the new number; a stale version changes nothing in the index', async () => {
		const id = ids['Tomás Martínez']!;
		const version = await storedVersion(app, 'patients', id);
		expect((await desk.api.patch(`/api/patients/${id}`, { version, phone: '(202) 555-0166' })).status).toBe(200);
		expect(names(await search(desk, { phone: '202 555 0177' }))).toEqual([]);
		expect(names(await search(desk, { phone: '202 555 0166' }))).toEqual(['Tomás Martínez']);
		const stale = await desk.api.patch(`/api/patients/${id}`, { version, name: 'Tomás Stale' });
		expect(stale.status).toBe(409);
		expect(names(await search(desk, { q: 'stale' }))).toEqual([]);
		expect(names(await search(desk, { q: 'tomas' }))).toEqual(['Tomás Martínez']);
	});

	it('a patient who registers is found at once', async () => {
		const r = await app.client().post('/api/auth/register', {
			name: 'Ingrid Óðinsdóttir', email: `${crypto.randomBytes(4).toString('hex')}@reg.test`, password: TEST_PASSWORD, phone: '202-555-0155', dateOfBirth: '2001-02-03', bloodGroup: 'O+'
		});
		expect(r.status, JSON.stringify(r.body)).toBe(201);
		expect(names(await search(desk, { q: 'odinsdottir' }))).toEqual(['Ingrid Óðinsdóttir']);
		expect(names(await search(desk, { phone: '+12025550155' }))).toEqual(['Ingrid Óðinsdóttir']);
	});
});

describe('who may search, and what they see', () => {
	it('a patient gets 403, and so does a paramedic', async () => {
		for (const u of [patient, paramedic]) {
			const r = await search(u, { q: 'mar' });
			expect(r.status, u.role).toBe(403);
		}
		expect((await app.client().get('/api/patients/search?q=mar')).status).toBe(401);
	});

	it('doctors and nurses find anyone by name, seeing name and date of birth only (what the emergency-access refusal shows)', async () => {
		for (const u of [doctor, nurse]) {
			const r = await search(u, { q: 'gomez' });
			expect(r.status).toBe(200);
			expect(r.body.patients).toEqual([{ id: ids['María Gómez'], name: 'María Gómez', dateOfBirth: '1985-03-02' }]);
			const chart = await u.api.get(`/api/patients/${ids['María Gómez']}`);
			expect(chart.status).toBe(403);
			expect(Object.keys(chart.body.error.details.patient).sort()).toEqual(['dateOfBirth', 'name']);
			for (const f of [{ phone: '202 555 0143' }, { bloodGroup: 'A+' }, { q: 'maria', bloodGroup: 'A+' }]) {
				expect((await search(u, f)).status, JSON.stringify(f)).toBe(403);
			}
		}
	});

	it('pharmacists search by name only and see names only', async () => {
		const r = await search(pharmacist, { q: 'mar' });
		expect(r.status).toBe(200);
		expect(r.body.patients).toEqual([
			{ id: ids['Anne Marshall'], name: 'Anne Marshall' },
			{ id: ids['María Gómez'], name: 'María Gómez' },
			{ id: ids['Tomás Martínez'], name: 'Tomás Martínez' }
		]);
		expect((await search(pharmacist, { phone: '202 555 0143' })).status).toBe(403);
		expect((await search(pharmacist, { q: 'mar', bloodGroup: 'A+' })).status).toBe(403);
	});

	it('administrators see every field', async () => {
		const r = await search(admin, { q: 'anne' });
		expect(r.body.patients[0]).toMatchObject({ name: 'Anne Marshall', phone: '+442079460958', bloodGroup: 'O-' });
	});

	it('every search is audited with the filters used, never their values; refusals too', async () => {
		const rid = `search-${crypto.randomBytes(6).toString('hex')}`;
		await desk.api.get('/api/patients/search?q=gomez&bloodGroup=A%2B', { 'x-request-id': rid });
		const [entry] = await auditEntries(app, (e) => e.request_id === rid);
		expect(entry).toMatchObject({ user_id: desk.id, action: 'search', resource_type: 'patient', changed_fields: ['bloodGroup', 'q'] });
		expect(JSON.stringify(entry)).not.toMatch(/gomez|A\+/i);
		const denied = await auditEntries(app, (e) => e.user_id === patient.id && e.outcome === 'denied' && e.resource_type === 'patient');
		expect(denied.length).toBeGreaterThan(0);
	});

	it('the old GET /api/patients?name= answers from the new search', async () => {
		const r = await desk.api.get('/api/patients?name=mar');
		expect(r.status).toBe(200);
		expect(r.body.items.map((p: Hit) => p.name)).toEqual(['Anne Marshall', 'María Gómez', 'Tomás Martínez']);
		expect((await patient.api.get('/api/patients?name=mar')).status).toBe(403);
	});

	it('30 concurrent searches all answer, in order', async () => {
		const rs = await Promise.all(Array.from({ length: 30 }, () => search(desk, { q: 'quill', limit: 7 })));
		expect(rs.every((r) => r.status === 200 && r.body.patients.length === 7)).toBe(true);
		expect(new Set(rs.map((r) => names(r).join('|'))).size).toBe(1);
	});
});

describe('accounts: the admin list searches by name or e-mail through the same index', () => {
	it('`mar` finds accounts by any name word or e-mail word; `marco.n` and an address prefix find the nurse', async () => {
		const r = await admin.api.get('/api/admin/users?q=mar');
		expect(r.status, JSON.stringify(r.body)).toBe(200);
		const found = r.body.items.map((u: { name: string }) => u.name);
		expect(found).toEqual(expect.arrayContaining(['Anne Marshall', 'María Gómez', 'Marco Nurse', 'Tomás Martínez']));
		expect(found).not.toContain('Omar Quintero-Lüdke');
		for (const q of ['marco.n', 'MARCO.NURSE@WARD', 'nurse marco']) {
			const one = await admin.api.get(`/api/admin/users?q=${encodeURIComponent(q)}`);
			expect(one.body.items.map((u: { email: string }) => u.email), q).toEqual(['marco.nurse@ward.test']);
		}
		expect((await admin.api.get('/api/admin/users?q=marco.nurse@other')).body.items).toEqual([]);
		const nurses = await admin.api.get('/api/admin/users?q=mar&role=nurse');
		expect(nurses.body.items.map((u: { name: string }) => u.name)).toEqual(['Marco Nurse']);
		expect(nurses.body.items[0].passwordHash).toBeUndefined();
	});

	it('pages with a cursor bound to the query; a renamed account is found by its new name only', async () => {
		const p1 = await admin.api.get('/api/admin/users?q=quill&limit=1');
		expect(p1.status).toBe(200);
		const a = await admin.api.get('/api/admin/users?q=mar&limit=2');
		const b = await admin.api.get(`/api/admin/users?q=mar&limit=2&cursor=${a.body.nextCursor}`);
		expect(a.body.items).toHaveLength(2);
		expect(b.status).toBe(200);
		expect(new Set([...a.body.items, ...b.body.items].map((u: { id: string }) => u.id)).size).toBe(a.body.items.length + b.body.items.length);
		expect((await admin.api.get(`/api/admin/users?q=ma&limit=2&cursor=${a.body.nextCursor}`)).status).toBe(400);

		const version = await storedVersion(app, 'users', nurse.id);
		expect((await admin.api.patch(`/api/admin/users/${nurse.id}`, { version, name: 'Nadia Nurse' })).status).toBe(200);
		expect((await admin.api.get('/api/admin/users?q=marco')).body.items.map((u: { name: string }) => u.name)).toEqual(['Nadia Nurse']); // by e-mail still
		expect((await admin.api.get('/api/admin/users?q=nadia')).body.items.map((u: { name: string }) => u.name)).toEqual(['Nadia Nurse']);
		expect((await admin.api.get('/api/admin/users?q=marco&role=doctor')).body.items).toEqual([]);
	});

	it('only administrators search accounts', async () => {
		expect((await desk.api.get('/api/admin/users?q=mar')).status).toBe(403);
		expect((await superAdmin.api.get('/api/admin/users?q=sue')).body.items.map((u: { name: string }) => u.name)).toEqual(['Sue Super']);
	});
});

describe('no Scan on any request path', () => {
	it('the app context’s DynamoDB client refuses a Scan (the middleware every test app installs)', async () => {
		const before = app.scanViolations.length;
		await expect(app.ctx.db.doc.send(new ScanCommand({ TableName: app.ctx.db.tables.patients }))).rejects.toThrow(/no request path may Scan/);
		expect(app.scanViolations.length).toBe(before + 1);
		// ...while the setup client may (scanAll, countItems).
		expect((await scanAll(app, 'patients')).length).toBeGreaterThan(50);
		app.scanViolations.splice(before); // this one was the test's own
	});

	it('nothing this file did through the API scanned', () => {
		expect(app.scanViolations).toEqual([]);
	});
});

describe.runIf(process.env.SEARCH_TIMING)('timing (SEARCH_TIMING=1)', () => {
	it('a name search over a few thousand patients', async () => {
		const first = ['María', 'José', 'Anne', 'Omar', 'Li', 'Fatima', 'Tomás', 'Ingrid', 'Kwame', 'Sofia', 'Marek', 'Aiko'];
		const last = ['Gómez', 'Marshall', 'Martínez', 'Haddad', 'Chen', 'Okafor', 'Novak', 'Schmidt', 'Rossi', 'Tanaka', 'Kowalski', 'Silva', 'Dubois', 'Marino'];
		const n = Number(process.env.SEARCH_TIMING_N ?? 3000);
		const entries = Array.from({ length: n }, (_, i) =>
			patientSearchEntry({ id: crypto.randomUUID(), name: `${first[i % first.length]} ${last[(i * 7) % last.length]} ${String(i)}`, phone: `+1202555${String(i % 10000).padStart(4, '0')}`, blood_group: 'O+', date_of_birth: '1980-01-01' })
		);
		const t0 = performance.now();
		for (let i = 0; i < entries.length; i += 200) await putIndexEntries({ ...app.ctx, db: app.setup }, entries.slice(i, i + 200));
		const loadMs = performance.now() - t0;
		const time = async (params: Record<string, string | number>) => {
			const ms: number[] = [];
			let count = 0;
			for (let i = 0; i < 15; i++) {
				const t = performance.now();
				const r = await search(desk, params);
				ms.push(performance.now() - t);
				count = r.body.patients.length;
			}
			ms.sort((a, b) => a - b);
			return { p50: +ms[7]!.toFixed(1), max: +ms.at(-1)!.toFixed(1), count };
		};
		const out = {
			patients: n,
			loadMs: Math.round(loadMs),
			mar: await time({ q: 'mar' }),
			'maria gomez': await time({ q: 'maria gomez' }),
			'mar + O+': await time({ q: 'mar', bloodGroup: 'O+' }),
			'mar + AB- (no match: the filter reads every mar item)': await time({ q: 'mar', bloodGroup: 'AB-' }),
			'bloodGroup O+': await time({ bloodGroup: 'O+' }),
			phone: await time({ phone: '+12025550042' })
		};
		console.log(`SEARCH_TIMING ${JSON.stringify(out)}`);
	}, 600_000);
});
