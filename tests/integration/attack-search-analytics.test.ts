import { socketPool, connected, type ClientSocket } from '../fixtures/sockets';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startDynamoLocal, type LocalDb } from '../../src/lib/server/db/embedded';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, getItem, recountAnalytics, requestId, scanAll, sleep, storedAnalytics, storedVersion } from './helpers';
import { createUser } from '../../src/lib/server/services/users';
import { systemCaller } from '../../src/lib/server/actor';
import { putIndexEntries } from '../../src/lib/server/db/search-index';
import { patientSearchEntry } from '../../src/lib/server/repositories/patients';
import { userSearchEntry } from '../../src/lib/server/repositories/users';
import { getAppointment } from '../../src/lib/server/repositories/appointments';
import { markMissed } from '../../src/lib/server/services/appointments';
import { categorize } from '../../src/lib/shared/symptom-categories';
import { addDays } from '../../src/lib/shared/time';

/**
 * Attack review of issue #11 (patient and account search, analytics), from outside: the real
 * HTTP API and sockets on DynamoDB Local. Each finding was first written here as a failing
 * test, then fixed in the layer it belongs to.
 */
type Hit = { id: string; name: string; phone?: string; bloodGroup?: string; dateOfBirth?: string };

let app: TestApp;
let tz: string;
let today: string;
let desk: TestUser;
let admin: TestUser;
let superAdmin: TestUser;
let doctor: TestUser;
let otherDoctor: TestUser;
let nurse: TestUser;
let pharmacist: TestUser;
let paramedic: TestUser;
let patient: TestUser;
const { socketOf, closeAll } = socketPool(() => app);

/** DynamoDB commands the app sends, and the items its Queries evaluated (a middleware on the one client). */
const sent: { command: string; scanned: number; table?: string }[] = [];

beforeAll(async () => {
	tz = morningZone();
	today = todayInZone(tz);
	app = await startTestApp({ HOSPITAL_TIMEZONE: tz });
	app.ctx.db.doc.middlewareStack.add(
		(next, context) => async (args) => {
			const out = await next(args);
			const o = out.output as { ScannedCount?: number };
			sent.push({ command: String(context.commandName), scanned: o.ScannedCount ?? 0, table: (args.input as { TableName?: string }).TableName });
			return out;
		},
		{ step: 'initialize', name: 'attackCounter' }
	);
	[desk, admin, superAdmin, doctor, otherDoctor, nurse, pharmacist, paramedic, patient] = await Promise.all([
		app.userOf('front_desk', { name: 'Desk Attack' }),
		app.userOf('admin', { name: 'Ada Attack' }),
		app.userOf('super_admin', { name: 'Sue Attack' }),
		alwaysOpenDoctor(app, { name: 'Doc Attack' }),
		alwaysOpenDoctor(app, { name: 'Other Attack' }),
		app.userOf('nurse', { name: 'Nina Attack' }),
		app.userOf('pharmacist', { name: 'Phil Attack' }),
		app.userOf('paramedic', { name: 'Pam Attack' }),
		app.userOf('patient', { name: 'Pat Attack' })
	]);
}, 120_000);

afterAll(async () => {
	closeAll();
	await app?.close();
});

async function newPatient(name: string, phone: string, bloodGroup: string, dateOfBirth = '1970-01-01') {
	const email = `${crypto.randomBytes(5).toString('hex')}@patients.test`;
	return createUser(app.ctx, systemCaller(), { name, email, role: 'patient', password: TEST_PASSWORD, phone, dateOfBirth, bloodGroup }, { allowSuperAdmin: true });
}

const qs = (params: Record<string, string | number | undefined>) =>
	new URLSearchParams(Object.entries(params).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))).toString();
const search = (u: TestUser, params: Record<string, string | number | undefined>, headers?: Record<string, string>) =>
	u.api.get<{ patients: Hit[]; nextCursor: string | null; error?: any }>(`/api/patients/search?${qs(params)}`, headers);

/** The index items of one record as stored, as comparable strings (term, sort, carried attributes). */
async function indexOf(entityId: string): Promise<string[]> {
	const items = (await scanAll(app, 'search_terms')).filter((i) => i.entity_id === entityId);
	return items.map((i) => JSON.stringify(Object.entries(i).sort(([a], [b]) => a.localeCompare(b)))).sort();
}
/** The index items the record as stored now must have, and nothing else. */
async function expectedIndexOf(kind: 'patient' | 'user', entityId: string): Promise<string[]> {
	const rec = await getItem(app, kind === 'patient' ? 'patients' : 'users', { id: entityId });
	const entry = kind === 'patient' ? patientSearchEntry(rec as never) : userSearchEntry(rec as never);
	const { normalizeText } = await import('../../src/lib/shared/search');
	return [...new Set(entry.terms)]
		.map((t) => {
			const data = Object.fromEntries(Object.entries(entry.data).filter(([, v]) => v !== undefined));
			const item: Record<string, string> = { ...data, term: `${kind}#${t}`, sort: `${normalizeText(entry.name)}\u0001${entry.id}`, kind, entity_id: entry.id, name: entry.name, name_key: ` ${normalizeText(entry.name)}` };
			return JSON.stringify(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)));
		})
		.sort();
}

/** Index items of the record that the stored record does not have (orphans) and the ones it lacks. */
async function indexDrift(kind: 'patient' | 'user', entityId: string): Promise<{ orphans: string[]; missing: string[] }> {
	const [have, want] = await Promise.all([indexOf(entityId), expectedIndexOf(kind, entityId)]);
	const short = (s: string) => (JSON.parse(s) as [string, string][]).filter(([k]) => k === 'term' || k === 'name' || k === 'phone').map(([, v]) => v).join(' ');
	return { orphans: have.filter((x) => !want.includes(x)).map(short), missing: want.filter((x) => !have.includes(x)).map(short) };
}

// ——— Search: rename races ———

describe('rename races leave the index holding exactly the stored record', () => {
	it('20 concurrent renames of one patient, all from the version read: one wins, the index has only its terms', async () => {
		const p = await newPatient('Racer Original', '+12025550601', 'O+');
		const v = await storedVersion(app, 'patients', p.patientId!);
		const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => desk.api.patch(`/api/patients/${p.patientId}`, { version: v, name: `Racer Number${i} Z${'abcdefghijklmnopqrst'[i]}` })));
		expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
		expect(rs.filter((r) => r.status === 409)).toHaveLength(19);
		expect(await indexDrift('patient', p.patientId!)).toEqual({ orphans: [], missing: [] });
	});

	it('20 concurrent renames sent with versions v..v+19 (a client guessing the next version): no orphan terms of the losers', async () => {
		const p = await newPatient('Guesser Original', '+12025550602', 'A+');
		const v = await storedVersion(app, 'patients', p.patientId!);
		const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => desk.api.patch(`/api/patients/${p.patientId}`, { version: v + i, name: `Guesser Take${i} Q${'abcdefghijklmnopqrst'[i]}` })));
		const ok = rs.filter((r) => r.status === 200).length;
		console.log(`renames with guessed versions: ${ok} × 200, ${rs.filter((r) => r.status === 409).length} × 409`);
		expect(ok + rs.filter((r) => r.status === 409).length).toBe(20);
		const stored = await getItem(app, 'patients', { id: p.patientId! });
		expect(await indexDrift('patient', p.patientId!)).toEqual({ orphans: [], missing: [] });
		// Found by the stored name, never by a loser's.
		const found = await search(desk, { q: 'guesser' });
		expect(found.body.patients.filter((h) => h.id === p.patientId).map((h) => h.name)).toEqual([stored!.name]);
	});

	it('a rename racing a phone change (each with the next version): the phone term and the name terms agree with the record', async () => {
		const p = await newPatient('Phoney Before', '+12025550603', 'B+');
		for (let round = 0; round < 5; round++) {
			const v = await storedVersion(app, 'patients', p.patientId!);
			await Promise.all([
				desk.api.patch(`/api/patients/${p.patientId}`, { version: v, name: `Phoney Round${round}` }),
				admin.api.patch(`/api/patients/${p.patientId}`, { version: v + 1, phone: `+1202555070${round}` })
			]);
			expect(await indexDrift('patient', p.patientId!), `round ${round}`).toEqual({ orphans: [], missing: [] });
		}
		const stored = await getItem(app, 'patients', { id: p.patientId! });
		const byPhone = await search(desk, { phone: stored!.phone });
		expect(byPhone.body.patients.map((h) => [h.id, h.name, h.phone])).toEqual([[p.patientId, stored!.name, stored!.phone]]);
	});

	it('20 concurrent renames of one account with guessed versions: the account index holds only the winner', async () => {
		const u = await app.userOf('nurse', { name: 'Account Racer' });
		const v = await storedVersion(app, 'users', u.id);
		await Promise.all(Array.from({ length: 20 }, (_, i) => admin.api.patch(`/api/admin/users/${u.id}`, { version: v + (i % 5), name: `Account Runner${i}` })));
		expect(await indexDrift('user', u.id)).toEqual({ orphans: [], missing: [] });
	});
});

// ——— Search: who gets what ———

describe('every role × the search endpoints: who gets what', () => {
	let target: Awaited<ReturnType<typeof newPatient>>;
	beforeAll(async () => {
		target = await newPatient('Leaky Matrixperson', '+12025550611', 'AB+', '1961-02-03');
	});

	it('patient search: all fields for front desk and administrators, name + date of birth for doctors and nurses, the name for pharmacists, 403 for patients and paramedics, 401 signed out', async () => {
		const want: Record<string, string[] | number> = {
			front_desk: ['bloodGroup', 'dateOfBirth', 'id', 'name', 'phone'],
			admin: ['bloodGroup', 'dateOfBirth', 'id', 'name', 'phone'],
			super_admin: ['bloodGroup', 'dateOfBirth', 'id', 'name', 'phone'],
			doctor: ['dateOfBirth', 'id', 'name'],
			nurse: ['dateOfBirth', 'id', 'name'],
			pharmacist: ['id', 'name'],
			patient: 403,
			paramedic: 403
		};
		for (const u of [desk, admin, superAdmin, doctor, nurse, pharmacist, patient, paramedic]) {
			for (const path of [`/api/patients/search?q=matrixperson`, `/api/patients?name=matrixperson`]) {
				const r = await u.api.get(path);
				const w = want[u.role]!;
				if (typeof w === 'number') {
					expect(r.status, `${u.role} ${path}`).toBe(w);
					continue;
				}
				expect(r.status, `${u.role} ${path}`).toBe(200);
				const hits = (r.body.patients ?? r.body.items) as Hit[];
				expect(hits.map((h) => h.id), u.role).toEqual([target.patientId]);
				expect(Object.keys(hits[0]!).sort(), `${u.role} ${path}`).toEqual(w);
				// Nothing of the phone or blood group anywhere in the answer, cursor included.
				if (!w.includes('phone')) expect(JSON.stringify(r.body), u.role).not.toMatch(/2025550611|AB\+/);
			}
		}
		expect((await app.client().get('/api/patients/search?q=matrixperson')).status).toBe(401);
	});

	it('doctors, nurses and pharmacists cannot filter by phone or blood group (a filter is an answer), and the refused filter never reaches the index (no timing channel)', async () => {
		for (const u of [doctor, nurse, pharmacist]) {
			for (const params of [{ q: 'leaky', phone: '+12025550611' }, { q: 'leaky', phone: '+12025550612' }, { q: 'leaky', bloodGroup: 'AB+' }, { phone: '+12025550611' }, { bloodGroup: 'AB+' }]) {
				const before = sent.length;
				const r = await search(u, params);
				expect(r.status, `${u.role} ${JSON.stringify(params)}`).toBe(403);
				expect(sent.slice(before).filter((c) => c.command === 'QueryCommand' && c.table === app.ctx.db.tables.search_terms), u.role).toEqual([]);
			}
		}
	});

	it('account search (/api/admin/users?q=) is for administrators only; other roles 403 whatever the query', async () => {
		for (const u of [admin, superAdmin]) expect((await u.api.get('/api/admin/users?q=attack')).status, u.role).toBe(200);
		for (const u of [desk, doctor, nurse, pharmacist, paramedic, patient]) {
			for (const q of ['attack', 'a', 'nina@', '%']) {
				const r = await u.api.get(`/api/admin/users?${qs({ q })}`);
				expect([403, 400], `${u.role} ${q}`).toContain(r.status);
				expect(JSON.stringify(r.body)).not.toMatch(/@test\.medtrack/);
			}
		}
	});
});

// ——— Search: cursors, limits and odd queries ———

describe('cursors, limits and odd queries', () => {
	const FILLERS = 2_100;
	beforeAll(async () => {
		// 2,100 patients under one name term (`n:zqxfiller`), as the backfill writes them.
		const entries = Array.from({ length: FILLERS }, (_, i) =>
			patientSearchEntry({ id: `fill-${String(i).padStart(5, '0')}-${crypto.randomBytes(3).toString('hex')}`, name: `Zqxfiller${String(i).padStart(5, '0')} Person`, phone: '+12025550999', blood_group: 'O+', date_of_birth: '1980-01-01' })
		);
		await putIndexEntries(app.ctx, entries);
	}, 300_000);

	it('a forged, truncated, edited or replayed-across-queries cursor is 400 INVALID_CURSOR, never 500', async () => {
		const first = await search(desk, { q: 'zqxfiller', limit: 5 });
		expect(first.status).toBe(200);
		const c = first.body.nextCursor!;
		expect(c).toBeTruthy();
		expect((await search(desk, { q: 'zqxfiller', limit: 5, cursor: c })).status).toBe(200);
		const [payload, tag] = c.split('.');
		const edited = Buffer.from(JSON.stringify({ after: 'zqxfiller01999 person\u0001x' })).toString('base64url');
		const bad = [
			'abc.def',
			c.slice(0, -1),
			c.slice(0, 10),
			`${payload}.`,
			`.${tag}`,
			`${payload}.${tag}.x`,
			`${edited}.${tag}`,
			Buffer.from(JSON.stringify({ after: 'a' })).toString('base64url'),
			'%00',
			'\u202e'
		];
		for (const cursor of bad) {
			const r = await search(desk, { q: 'zqxfiller', limit: 5, cursor });
			expect(r.status, cursor).toBe(400);
			expect(['INVALID_CURSOR', 'VALIDATION_FAILED'], cursor).toContain(r.body.error.code);
		}
		// The same cursor on another query: another word, an added filter, a phone, the account search.
		for (const params of [{ q: 'zqxfille' }, { q: 'zqxfiller', bloodGroup: 'O+' }, { q: 'zqxfiller person' }, { phone: '+12025550999' }]) {
			const r = await search(desk, { ...params, limit: 5, cursor: c });
			expect(r.status, JSON.stringify(params)).toBe(400);
			expect(r.body.error.code).toBe('INVALID_CURSOR');
		}
		const users = await admin.api.get(`/api/admin/users?${qs({ q: 'zqxfiller', cursor: c })}`);
		expect(users.status).toBe(400);
		expect(users.body.error.code).toBe('INVALID_CURSOR');
		// A doctor replaying the front desk's cursor gets the same page, with the doctor's fields only.
		const asDoctor = await search(doctor, { q: 'zqxfiller', limit: 5, cursor: c });
		expect(asDoctor.status).toBe(200);
		expect(asDoctor.body.patients.every((h) => h.phone === undefined && h.bloodGroup === undefined)).toBe(true);
	});

	it('limit=0/101/1e9/-1/1;DROP/empty/2.5 is 400 naming limit; 1 and 100 are accepted', async () => {
		for (const limit of ['0', '101', '1e9', '-1', '1;DROP', '', '2.5', 'NaN', 'Infinity', '9'.repeat(400)]) {
			const r = await desk.api.get(`/api/patients/search?q=zqxfiller&limit=${encodeURIComponent(limit)}`);
			expect(r.status, limit).toBe(400);
			expect(r.body.error.details.map((d: { field: string }) => d.field), limit).toContain('limit');
		}
		expect((await search(desk, { q: 'zqxfiller', limit: 1 })).body.patients).toHaveLength(1);
		expect((await search(desk, { q: 'zqxfiller', limit: 100 })).body.patients).toHaveLength(100);
	});

	it('q with control, bidi or invisible characters is 400 naming q; 5 KB is 414, 200 KB 431; 121 characters 400', async () => {
		for (const q of ['zqx\u0000', 'zqx\u0007', 'zqx\nfiller', 'zqx\u202efiller', 'zqx\u2066', 'zqx\u0085', 'zq\u200bx', 'zqx\ufeff']) {
			const r = await desk.api.get(`/api/patients/search?q=${encodeURIComponent(q)}`);
			expect(r.status, JSON.stringify(q)).toBe(400);
			expect(r.body.error.details[0].field).toBe('q');
		}
		// A surrogate's bytes (CESU-8) are not UTF-8: decoded as replacement characters, never a 500.
		const lone = await desk.api.get('/api/patients/search?q=zqx%ED%A0%80');
		expect([200, 400]).toContain(lone.status);
		const huge = await desk.api.get(`/api/patients/search?q=${'a'.repeat(200_000)}`);
		// Past Node's 16 KB header limit the request line itself is refused (431), in the error shape.
		expect([414, 431]).toContain(huge.status);
		expect(huge.body.error.code).toBeTruthy();
		const long = await desk.api.get(`/api/patients/search?q=${'a'.repeat(5_000)}`);
		expect(long.status).toBe(414);
		expect(long.body.error.code).toBeTruthy();
		expect((await search(desk, { q: 'a'.repeat(121) })).status).toBe(400);
	});

	it('wildcard-like characters are not wildcards: `%`, `*`, `_` alone are 400; `zqxfiller%` is the word zqxfiller', async () => {
		for (const q of ['%', '*', '_', '%%', '.*', '?']) expect((await search(desk, { q })).status, q).toBe(400);
		const p = await newPatient('Wilma Wildcard', '+12025550620', 'O+');
		expect((await search(desk, { q: 'wildc%' })).body.patients.map((h) => h.id)).toEqual([p.patientId]);
		expect((await search(desk, { q: 'w*ldcard' })).body.patients.map((h) => h.id)).toEqual([]);
		expect((await search(desk, { q: 'zqxfiller%', limit: 3 })).body.patients).toHaveLength(3);
	});

	it('unicode tricks: combining marks, full-width letters, Turkish dotted and dotless i, ß and ẞ find the same people', async () => {
		const maria = await newPatient('Mariá Unicodé', '+12025550621', 'O+');
		const isik = await newPatient('Işık Yılmaz', '+12025550622', 'O+');
		const strauss = await newPatient('Johann Strauß', '+12025550623', 'O+');
		const wide = await newPatient('Ｆｕｌｌｗｉｄｔｈ Ｐｅｒｓｏｎ', '+12025550624', 'O+');
		const ids = async (q: string) => (await search(desk, { q })).body.patients.map((h) => h.id);
		for (const q of ['unicode', 'UNICODÉ', 'unicode\u0301', 'u\u0308nicode', 'ＵＮＩＣＯＤＥ', 'ｕｎｉｃｏｄｅ']) expect(await ids(q), q).toEqual([maria.patientId]);
		for (const q of ['isik', 'IŞIK', 'İŞIK', 'ışık', 'yilmaz', 'YILMAZ']) expect(await ids(q), q).toEqual([isik.patientId]);
		for (const q of ['strauss', 'STRAUSS', 'strauß', 'STRAUẞ']) expect(await ids(q), q).toEqual([strauss.patientId]);
		for (const q of ['fullwidth', 'FULLWIDTH', 'Ｆｕｌｌ']) expect(await ids(q), q).toEqual([wide.patientId]);
		// Combining marks alone are no query at all.
		expect((await search(desk, { q: '\u0301\u0301\u0301' })).status).toBe(400);
	});

	it('one request costs a bounded number of DynamoDB reads: a single letter is one Query of limit+1; a filter that matches nothing reads at most 10 Queries / 2,000 items, then a short page with a cursor', async () => {
		const cost = async (u: TestUser, params: Record<string, string | number>) => {
			const before = sent.length;
			const r = await search(u, params);
			const mine = sent.slice(before).filter((c) => c.command === 'QueryCommand' && c.table === app.ctx.db.tables.search_terms);
			return { r, queries: mine.length, items: mine.reduce((s, c) => s + c.scanned, 0) };
		};
		const letter = await cost(desk, { q: 'z', limit: 100 });
		expect(letter.r.body.patients).toHaveLength(100);
		expect(letter.r.body.nextCursor).not.toBeNull();
		expect(letter.queries).toBe(1);
		expect(letter.items).toBe(101);

		const worst = await cost(desk, { q: 'zqxfiller nomatch', limit: 100 });
		console.log(`filtered search that matches nothing over ${FILLERS} items: ${worst.queries} Queries, ${worst.items} items read, ${worst.r.body.patients.length} hits`);
		expect(worst.r.status).toBe(200);
		expect(worst.queries).toBeLessThanOrEqual(10);
		expect(worst.items).toBeLessThanOrEqual(2_000);
		expect(worst.r.body.patients).toEqual([]);
		expect(worst.r.body.nextCursor).not.toBeNull();
		// Following the cursors walks the rest in bounded steps and ends.
		let cursor = worst.r.body.nextCursor;
		let pages = 1;
		while (cursor) {
			const next = await cost(desk, { q: 'zqxfiller nomatch', limit: 100, cursor });
			expect(next.queries).toBeLessThanOrEqual(10);
			expect(next.items).toBeLessThanOrEqual(2_000);
			cursor = next.r.body.nextCursor;
			pages++;
			expect(pages).toBeLessThan(10);
		}
		console.log(`…and ${pages} requests to walk all ${FILLERS} items`);

		// The account search: the same bound, plus one BatchGet of the page's accounts.
		const before = sent.length;
		const users = await admin.api.get(`/api/admin/users?${qs({ q: 'attack', limit: 100 })}`);
		expect(users.status).toBe(200);
		const mine = sent.slice(before);
		expect(mine.filter((c) => c.command === 'QueryCommand').length).toBeLessThanOrEqual(10);
		expect(mine.filter((c) => c.command === 'BatchGetCommand').length).toBeLessThanOrEqual(1);
	});

	it('search audit entries name the filters used, never their values', async () => {
		const rid = requestId('search-audit');
		const r = await search(desk, { q: 'Leaky Matrixperson', phone: '+12025550611', bloodGroup: 'AB+' }, { 'x-request-id': rid });
		expect(r.status).toBe(200);
		const ridD = requestId('search-audit-denied');
		expect((await search(doctor, { q: 'Leaky', phone: '+12025550611' }, { 'x-request-id': ridD })).status).toBe(403);
		const entries = await auditEntries(app, (e) => e.request_id === rid || e.request_id === ridD);
		expect(entries.map((e) => [e.action, e.outcome]).sort()).toEqual([['read_denied', 'denied'], ['search', 'success']]);
		expect(entries.find((e) => e.action === 'search')!.changed_fields).toEqual(['bloodGroup', 'phone', 'q']);
		for (const e of entries) expect(JSON.stringify(e)).not.toMatch(/leaky|matrixperson|2025550611|AB\+/i);
	});
});

// ——— Analytics ———

type Appt = { id: string; version: number; status: string; date: string; start: string };
const slotPool = new Map<string, { start: string; date: string }[]>();
async function takeSlot(d: TestUser, date: string): Promise<{ start: string; date: string }> {
	const key = `${d.doctorId}|${date}`;
	if (!slotPool.has(key)) slotPool.set(key, (await freeSlots(desk, d.doctorId!, date)).map((s) => ({ start: s.start, date })));
	const s = slotPool.get(key)!.shift();
	if (!s) throw new Error(`no free slot left for ${key}`);
	return s;
}
async function book(d: TestUser, p: TestUser, date = today, symptoms = 'fever and cough'): Promise<Appt> {
	const s = await takeSlot(d, date);
	const r = await desk.api.post('/api/appointments', { doctorId: d.doctorId, patientId: p.patientId, start: s.start, symptoms });
	if (r.status !== 201) throw new Error(`booking: ${r.status} ${JSON.stringify(r.body)}`);
	return r.body.appointment;
}
const patchAppt = (u: TestUser, a: { id: string }, body: Record<string, unknown>) => u.api.patch(`/api/appointments/${a.id}`, body);
const current = async (a: { id: string }) => (await desk.api.get(`/api/appointments/${a.id}`)).body.appointment as Appt;
async function expectAggregatesEqualRecount(label: string) {
	expect(await storedAnalytics(app), label).toEqual(await recountAnalytics(app));
}

describe('analytics: who gets what', () => {
	it('the hospital dashboard and drill-down are for administrators; a doctor\'s dashboard for that doctor and administrators only', async () => {
		const everyone = [desk, admin, superAdmin, doctor, otherDoctor, nurse, pharmacist, paramedic, patient];
		for (const u of everyone) {
			const admins = u.role === 'admin' || u.role === 'super_admin';
			expect((await u.api.get('/api/analytics/admin')).status, `${u.role} admin`).toBe(admins ? 200 : 403);
			expect((await u.api.get(`/api/analytics/appointments?status=PENDING&date=${today}`)).status, `${u.role} drill`).toBe(admins ? 200 : 403);
			const own = await u.api.get(`/api/analytics/doctor/${doctor.doctorId}`);
			expect(own.status, `${u.role} doctor`).toBe(admins || u === doctor ? 200 : 403);
			if (own.status !== 200) expect(JSON.stringify(own.body)).not.toMatch(/patientsServed|nextPatient/);
		}
		// Another doctor's dashboard, by that doctor's id or by their user id, or an id that is no doctor.
		for (const id of [otherDoctor.doctorId, otherDoctor.id, crypto.randomUUID()]) expect((await doctor.api.get(`/api/analytics/doctor/${id}`)).status, id).toBe(403);
		expect((await admin.api.get(`/api/analytics/doctor/${crypto.randomUUID()}`)).status).toBe(404);
		for (const bad of ['..%2f', 'x'.repeat(300), '%00']) expect((await admin.api.get(`/api/analytics/doctor/${bad}`)).status, bad).toBe(400);
	});

	it('odd dashboard and drill-down queries are 400, never 500; a drill-down cursor is bound to its status and date', async () => {
		for (const q of ['days=0', 'days=32', 'days=-1', 'days=1e3', 'days=7;DROP', 'days=', 'x=1']) expect((await admin.api.get(`/api/analytics/admin?${q}`)).status, q).toBe(400);
		for (const q of [`status=NOPE&date=${today}`, 'status=PENDING&date=2026-02-30', 'status=PENDING', `status=PENDING&date=${today}&cursor=abc.def`]) {
			expect((await admin.api.get(`/api/analytics/appointments?${q}`)).status, q).toBe(400);
		}
		const p = await app.userOf('patient');
		for (let i = 0; i < 21; i++) await book(otherDoctor, p, addDays(today, 5), 'rash');
		const page = await admin.api.get(`/api/analytics/appointments?status=PENDING&date=${addDays(today, 5)}`);
		expect(page.status).toBe(200);
		const cursor = page.body.nextCursor as string;
		expect(cursor).toBeTruthy();
		expect(page.body.items[0]).not.toHaveProperty('symptoms');
		expect((await admin.api.get(`/api/analytics/appointments?status=PENDING&date=${addDays(today, 5)}&cursor=${cursor}`)).status).toBe(200);
		for (const q of [`status=CONFIRMED&date=${addDays(today, 5)}`, `status=PENDING&date=${addDays(today, 6)}`]) {
			const r = await admin.api.get(`/api/analytics/appointments?${q}&cursor=${cursor}`);
			expect(r.status, q).toBe(400);
			expect(r.body.error.code).toBe('INVALID_CURSOR');
		}
	});
});

describe('analytics: aggregates under attack', () => {
	let pts: TestUser[];
	beforeAll(async () => {
		pts = await Promise.all(Array.from({ length: 6 }, () => app.userOf('patient')));
	}, 60_000);

	it('30 concurrent status changes on one appointment, from every role, at the version read: at most one applies; then 30 with guessed versions: only legal steps apply; counters equal a recount', async () => {
		const a = await book(doctor, pts[0]!);
		const owner = pts[0]!;
		const moves: [TestUser, string][] = [
			[desk, 'CONFIRMED'],
			[desk, 'CANCELLED'],
			[nurse, 'CHECKED_IN'],
			[doctor, 'CONSULTING'],
			[doctor, 'COMPLETED'],
			[owner, 'CANCELLED'],
			[otherDoctor, 'CONFIRMED'],
			[pharmacist, 'CANCELLED'],
			[desk, 'MISSED'],
			[nurse, 'COMPLETED']
		];
		const first = await Promise.all(Array.from({ length: 30 }, (_, i) => patchAppt(moves[i % moves.length]![0], a, { version: a.version, status: moves[i % moves.length]![1] })));
		const applied = first.filter((r) => r.status === 200);
		console.log(`30 status changes at one version: ${JSON.stringify(first.reduce<Record<number, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {}))}`);
		expect(applied.length).toBeLessThanOrEqual(1);
		expect(first.every((r) => r.status < 500)).toBe(true);
		await expectAggregatesEqualRecount('after 30 at one version');

		const b = await book(doctor, pts[1]!);
		const chain = ['CONFIRMED', 'CHECKED_IN', 'CONSULTING', 'COMPLETED'];
		const by = (s: string) => (s === 'CHECKED_IN' ? nurse : s === 'CONFIRMED' ? desk : doctor);
		const guessed = await Promise.all(Array.from({ length: 30 }, (_, i) => patchAppt(by(chain[i % 4]!), b, { version: b.version + (i % 6), status: chain[i % 4] })));
		expect(guessed.every((r) => r.status < 500)).toBe(true);
		const after = await current(b);
		expect(after.version - b.version).toBe(guessed.filter((r) => r.status === 200).length);
		await expectAggregatesEqualRecount('after 30 with guessed versions');
	});

	it('a cancellation racing the completion: one wins; an invoice exists exactly when it completed; counters equal a recount', async () => {
		for (let round = 0; round < 4; round++) {
			let a = await book(doctor, pts[2 + (round % 2)]!);
			for (const [u, status] of [[desk, 'CONFIRMED'], [nurse, 'CHECKED_IN'], [doctor, 'CONSULTING']] as const) {
				const r = await patchAppt(u, a, { version: a.version, status });
				expect(r.status, `${status} ${JSON.stringify(r.body)}`).toBe(200);
				a = r.body.appointment;
			}
			const [done, cancelled, cancelledByDoctor] = await Promise.all([
				patchAppt(doctor, a, { version: a.version, status: 'COMPLETED' }),
				patchAppt(desk, a, { version: a.version, status: 'CANCELLED', reason: 'race' }),
				patchAppt(doctor, a, { version: a.version + 1, status: 'CANCELLED', reason: 'race' })
			]);
			const final = await current(a);
			const invoice = await getItem(app, 'invoices', { id: `inv_${a.id}` });
			expect([done, cancelled, cancelledByDoctor].filter((r) => r.status === 200).length, `round ${round}`).toBeLessThanOrEqual(2);
			expect(!!invoice, `round ${round}: ${final.status}`).toBe(final.status === 'COMPLETED');
		}
		await expectAggregatesEqualRecount('after cancel × complete races');
	});

	it('moving one appointment to ten other dates at once (and with guessed versions): it is on one date, counted there only', async () => {
		const a = await book(doctor, pts[4]!, addDays(today, 1));
		const targets = await Promise.all(Array.from({ length: 10 }, (_, i) => takeSlot(doctor, addDays(today, 2 + (i % 3)))));
		const rs = await Promise.all(targets.map((s, i) => patchAppt(desk, a, { version: a.version + (i < 5 ? 0 : i - 4), start: s.start })));
		expect(rs.every((r) => r.status < 500)).toBe(true);
		const final = await current(a);
		const locks = (await scanAll(app, 'locks')).filter((l) => l.appointment_id === a.id);
		console.log(`10 concurrent moves: ${rs.filter((r) => r.status === 200).length} applied, on ${final.date}; slot locks held: ${locks.length}`);
		await expectAggregatesEqualRecount('after racing moves');
	});

	it('the missed sweep racing staff status changes on the same appointments: each ends in one state, counters equal a recount', async () => {
		const sweepPatients = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => newPatient(`Sweep Patient${i}`, `+1202555064${i}`, 'O+')));
		const appts = [];
		for (const p of sweepPatients) appts.push(await book(otherDoctor, { patientId: p.patientId } as TestUser, addDays(today, 3)));
		await Promise.all(
			appts.map(async (a) => {
				const item = (await getAppointment(app.ctx, a.id))!;
				return Promise.allSettled([
					markMissed(app.ctx, systemCaller(), item),
					markMissed(app.ctx, systemCaller(), item),
					patchAppt(desk, a, { version: a.version, status: 'CONFIRMED' }),
					patchAppt(desk, a, { version: a.version, status: 'CANCELLED', reason: 'sweep race' }),
					patchAppt(nurse, a, { version: a.version, status: 'CHECKED_IN' })
				]);
			})
		);
		const finals = await Promise.all(appts.map(current));
		console.log(`sweep × staff: ${JSON.stringify(finals.map((f) => `${f.status} v${f.version}`))}`);
		for (const [i, f] of finals.entries()) expect(f.version - appts[i]!.version).toBe(1);
		await expectAggregatesEqualRecount('after sweep races');
	});
});

describe('analytics:updated storms and rooms', () => {
	async function connect(u: TestUser): Promise<ClientSocket> {
		const s = socketOf(u, { auth: 'token' });
		await connected(s);
		return s;
	}

	it('only administrators join role:admin; nobody joins another user\'s room', async () => {
		for (const u of [patient, desk, nurse, doctor, pharmacist, paramedic]) {
			const s = await connect(u);
			expect(await s.timeout(5_000).emitWithAck('subscribe', { room: 'role:admin' }), u.role).toMatchObject({ ok: false });
			expect(await s.timeout(5_000).emitWithAck('subscribe', { room: `user:${otherDoctor.id}` }), u.role).toMatchObject({ ok: false });
			for (const room of ['role:Admin', 'role:admin ', 'role:super_admin', `user:${otherDoctor.id}:x`, `USER:${otherDoctor.id}`]) {
				expect(await s.timeout(5_000).emitWithAck('subscribe', { room }), `${u.role} ${room}`).toMatchObject({ ok: false });
			}
			s.close();
		}
		for (const u of [admin, superAdmin]) {
			const s = await connect(u);
			expect(await s.timeout(5_000).emitWithAck('subscribe', { room: 'role:admin' })).toEqual({ ok: true });
			s.close();
		}
	});

	it('200 bookings (50 at a time): each admin and the doctor hear a few coalesced analytics:updated carrying no names; nobody else hears any', async () => {
		const stormDoctor = await alwaysOpenDoctor(app, { name: 'Storm Doctor' });
		const listeners = { admin: await connect(admin), superAdmin: await connect(superAdmin), doctor: await connect(stormDoctor), otherDoctor: await connect(otherDoctor), desk: await connect(desk), nurse: await connect(nurse), patient: await connect(patient) };
		for (const s of [listeners.admin, listeners.superAdmin]) expect(await s.timeout(5_000).emitWithAck('subscribe', { room: 'role:admin' })).toEqual({ ok: true });
		const heard: Record<string, unknown[]> = Object.fromEntries(Object.keys(listeners).map((k) => [k, []]));
		for (const [k, s] of Object.entries(listeners)) s.on('analytics:updated', (payload) => heard[k]!.push(payload));
		await sleep(700); // earlier windows close
		for (const k of Object.keys(heard)) heard[k] = [];

		const stormPatients = await Promise.all(Array.from({ length: 50 }, (_, i) => newPatient(`Storm Patient${i}`, `+120255508${String(i).padStart(2, '0')}`, 'O+')));
		const days = [addDays(today, 7), addDays(today, 8), addDays(today, 9)];
		const slots: { start: string }[] = [];
		for (const d of days) slots.push(...(await freeSlots(desk, stormDoctor.doctorId!, d)));
		expect(slots.length).toBeGreaterThanOrEqual(200);
		const t0 = performance.now();
		let booked = 0;
		await Promise.all(
			stormPatients.map(async (p, i) => {
				for (let k = 0; k < 4; k++) {
					const s = slots[i * 4 + k]!;
					const r = await desk.api.post('/api/appointments', { doctorId: stormDoctor.doctorId, patientId: p.patientId, start: s.start, symptoms: 'storm cough' });
					if (r.status === 201) booked++;
				}
			})
		);
		const ms = performance.now() - t0;
		await sleep(700);
		const counts = Object.fromEntries(Object.entries(heard).map(([k, v]) => [k, v.length]));
		console.log(`200 bookings in ${Math.round(ms)} ms (${booked} booked): analytics:updated per socket ${JSON.stringify(counts)}`);
		expect(booked).toBe(200);
		// The first at once, then at most one per 300 ms window while the burst lasts, and one at its end.
		const bound = Math.ceil(ms / 300) + 2;
		for (const k of ['admin', 'superAdmin', 'doctor']) {
			expect(counts[k], k).toBeGreaterThanOrEqual(1);
			expect(counts[k], k).toBeLessThanOrEqual(bound);
		}
		for (const k of ['otherDoctor', 'desk', 'nurse', 'patient']) expect(counts[k], k).toBe(0);
		for (const payload of [...heard.admin!, ...heard.doctor!]) expect(Object.keys(payload as object)).toEqual(['at']);
		await expectAggregatesEqualRecount('after the storm');
	}, 180_000);
});

// ——— The rebuild job cleans what an older write or normalisation left ———

describe('the search-index job removes index items no record has', () => {
	it('items of an old name (e.g. left by the rename race before the fix, or an older normalisation) and of records that do not exist are deleted; current items stay', async () => {
		const p = await newPatient('Current Realname', '+12025550631', 'O+');
		const stored = (await getItem(app, 'patients', { id: p.patientId! }))!;
		// What the rename race left behind before the fix: the items of a name the record no longer has.
		await putIndexEntries(app.ctx, [patientSearchEntry({ ...(stored as { id: string; name: string; phone: string; blood_group: string; date_of_birth: string }), name: 'Ghostly Oldname' }), patientSearchEntry({ id: crypto.randomUUID(), name: 'Nobody Ghostly', phone: '+12025550632', blood_group: 'A+', date_of_birth: '1990-01-01' })]);
		expect((await search(desk, { q: 'ghostly' })).body.patients).toHaveLength(2);
		expect((await indexDrift('patient', p.patientId!)).orphans.length).toBeGreaterThan(0);

		const { rebuildSearchIndex } = await import('../../src/lib/server/services/search-index');
		const report = await rebuildSearchIndex({ ...app.ctx, db: app.setup });
		console.log(`search-index job: ${JSON.stringify(report)}`);
		expect(report.deleted).toBeGreaterThanOrEqual(20); // and the fillers above, which have no records either
		expect((await search(desk, { q: 'ghostly' })).body.patients).toEqual([]);
		expect(await indexDrift('patient', p.patientId!)).toEqual({ orphans: [], missing: [] });
		expect((await search(desk, { q: 'realname' })).body.patients.map((h) => h.id)).toEqual([p.patientId]);
		// Every record's index is exact, and a second run deletes nothing.
		for (const u of [desk, admin, doctor, nurse]) expect(await indexDrift('user', u.id), u.role).toEqual({ orphans: [], missing: [] });
		expect((await rebuildSearchIndex({ ...app.ctx, db: app.setup })).deleted).toBe(0);
	}, 120_000);
});

// ——— DynamoDB killed in the middle of a burst of bookings and status changes ———

describe('DynamoDB killed mid-way (its own DynamoDB Local, as outage.test.ts does)', () => {
	it('a burst of bookings and status changes with the database killed under it: answers are 2xx, 409 or 503, never 500; after the restart every counter equals a recount', async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtrack-attack-outage-'));
		const port = await freePort();
		const dbs: LocalDb[] = [await startDynamoLocal({ port, dataDir })];
		const own = await startTestApp({ DYNAMODB_ENDPOINT: dbs[0]!.endpoint, HOSPITAL_TIMEZONE: tz, LOGIN_MAX_FAILURES_PER_IP: '1000' });
		try {
			const [d, frontDesk, ward] = await Promise.all([alwaysOpenDoctor(own, { name: 'Outage Doctor' }), own.userOf('front_desk'), own.userOf('nurse')]);
			const people = await Promise.all(
				Array.from({ length: 12 }, (_, i) =>
					createUser(own.ctx, systemCaller(), { name: `Outage Patient${i}`, email: `outage${i}.${crypto.randomBytes(3).toString('hex')}@patients.test`, role: 'patient', password: TEST_PASSWORD, phone: `+120255506${String(60 + i)}`, dateOfBirth: '1980-01-01', bloodGroup: 'O+' }, { allowSuperAdmin: true })
				)
			);
			const slots = [...(await freeSlots(frontDesk, d.doctorId!, today)), ...(await freeSlots(frontDesk, d.doctorId!, addDays(today, 1)))];
			const first = await Promise.all(people.slice(0, 6).map((p, i) => frontDesk.api.post('/api/appointments', { doctorId: d.doctorId, patientId: p.patientId, start: slots[i]!.start, symptoms: 'fever' })));
			expect(first.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
			const statuses: number[] = [];
			const burst = async (i: number) => {
				for (let k = 0; k < 6; k++) {
					const a = first[i % 6]!.body.appointment;
					const r =
						k % 2 === 0
							? await frontDesk.api.post('/api/appointments', { doctorId: d.doctorId, patientId: people[6 + (i % 6)]!.patientId, start: slots[10 + i * 6 + k]!.start, symptoms: 'cough' })
							: await (k === 1 ? frontDesk : ward).api.patch(`/api/appointments/${a.id}`, { version: (await frontDesk.api.get(`/api/appointments/${a.id}`)).body?.appointment?.version ?? 1, status: k === 1 ? 'CONFIRMED' : 'CHECKED_IN' });
					statuses.push(r.status);
				}
			};
			const running = Promise.all(Array.from({ length: 12 }, (_, i) => burst(i)));
			// Killed once the burst is under way: some writes answered, others in flight.
			while (statuses.filter((x) => x < 300).length < 12 && statuses.length < 72) await sleep(5);
			await dbs[0]!.kill();
			await running;
			dbs.push(await startDynamoLocal({ port, dataDir }));
			const t0 = performance.now();
			while ((await frontDesk.api.get('/api/health')).status !== 200 && performance.now() - t0 < 15_000) await sleep(100);
			const tally = statuses.reduce<Record<number, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
			console.log(`burst with DynamoDB killed: ${JSON.stringify(tally)}`);
			expect(statuses.filter((x) => x >= 500 && x !== 503)).toEqual([]);
			expect(statuses.filter((x) => x === 503).length).toBeGreaterThan(0);
			expect(statuses.filter((x) => x < 300).length).toBeGreaterThanOrEqual(12);
			expect(await storedAnalytics(own)).toEqual(await recountAnalytics(own));
		} finally {
			for (const db of dbs) db.thaw();
			await own.close();
			await Promise.all(dbs.map((db) => db.stop()));
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	}, 180_000);
});
