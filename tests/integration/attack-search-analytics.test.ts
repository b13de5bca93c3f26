import { io, type Socket } from 'socket.io-client';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_PASSWORD, type TestApp, type TestUser } from '../fixtures/app';
import { alwaysOpenDoctor, freeSlots, morningZone, todayInZone } from '../fixtures/clinic';
import { auditEntries, getItem, requestId, scanAll, sleep, storedVersion } from './helpers';
import { createUser } from '../../src/lib/server/services/users';
import { systemCaller } from '../../src/lib/server/actor';
import { putIndexEntries } from '../../src/lib/server/db/search-index';
import { patientSearchEntry } from '../../src/lib/server/repositories/patients';
import { userSearchEntry } from '../../src/lib/server/repositories/users';
import { getAppointment } from '../../src/lib/server/repositories/appointments';
import { markMissed } from '../../src/lib/server/services/appointments';
import { categorize } from '../../src/lib/shared/symptom-categories';
import { addDays } from '../../src/lib/shared/time';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/realtime';

/**
 * Attack review of issue #11 (patient and account search, analytics), from outside: the real
 * HTTP API and sockets on DynamoDB Local. Each finding was first written here as a failing
 * test, then fixed in the layer it belongs to.
 */
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
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
const sockets: ClientSocket[] = [];

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
	for (const s of sockets) s.close();
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
