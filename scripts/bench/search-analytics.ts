import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { auditEntry } from '../../src/lib/server/db/audit';
import { startDynamoLocal } from '../../src/lib/server/db/embedded';
import { loadConfig } from '../../src/lib/server/config';
import { createContext, type Ctx } from '../../src/lib/server/context';
import { ensureTables } from '../../src/lib/server/db/client';
import { startHttpServer } from '../../src/lib/server/http/server';
import { createUser } from '../../src/lib/server/services/users';
import { systemCaller, type Caller } from '../../src/lib/server/actor';
import { putIndexEntries } from '../../src/lib/server/db/search-index';
import { patientSearchEntry, type PatientItem } from '../../src/lib/server/repositories/patients';
import type { AppointmentItem } from '../../src/lib/server/repositories/appointments';
import { rebuildAnalytics } from '../../src/lib/server/services/analytics';
import { findPatients, type PatientSearch } from '../../src/lib/server/services/patients';
import { getUserByEmail } from '../../src/lib/server/repositories/users';
import { addDays, todayIn } from '../../src/lib/shared/time';
import { BLOOD_GROUPS } from '../../src/lib/shared/blood';
import { countFlag, orExit, parseFlags, progress } from '../cli';
import { barChartSvg } from './chart';
import { percentile } from './stats';

/**
 * `npm run bench:search-analytics [-- --patients 10000 --appointments 100000 --samples 60]`:
 * patient search over a large registry, and the admin dashboard at two sizes of history.
 *
 * It loads N patients (their rows, and their search index items through the same
 * `putIndexEntries` the backfill job uses) and M appointments spread over the last year into a
 * fresh DynamoDB Local, with progress bars (today's lists are the same 100 appointments at both
 * history sizes; the rest is history on the 365 days before). Then, over HTTP as the front desk / an admin:
 * - name (prefix `mar`, a whole surname), phone (typed with spaces and brackets) and blood-group
 *   searches, each `samples` times, beside a raw 20-item `Query` of the same index term through
 *   the SDK in the same run: search p95 ÷ raw p95 (target ≤ 2);
 * - the admin dashboard (`/api/analytics/admin?days=7`) and a doctor's, first with 1,000
 *   appointments of history, then with all M: dashboard p95 at M ÷ at 1,000 (target ≤ 1.5).
 * The aggregates are built by `rebuildAnalytics` (the maintenance job, which the tests prove
 * equal to what the writes themselves maintain). Writes bench/results/search-analytics.json
 * and .svg.
 */
const f = orExit(() =>
	parseFlags({ patients: { type: 'string', value: '<count>' }, appointments: { type: 'string', value: '<count>' }, samples: { type: 'string', value: '<count>' } })
);
const PATIENTS = orExit(() => countFlag(f.patients, 'patients', 10_000));
const APPOINTMENTS = orExit(() => countFlag(f.appointments, 'appointments', 100_000));
const SAMPLES = orExit(() => countFlag(f.samples, 'samples', 100));
const SMALL = Math.min(1_000, APPOINTMENTS);
const TODAY_LIST = Math.min(100, SMALL);

const pct = percentile;
type Stat = { p50: number; p95: number; samples: number };
const stat = (xs: number[]): Stat => ({ p50: +pct(xs, 50).toFixed(2), p95: +pct(xs, 95).toFixed(2), samples: xs.length });

const FIRST = ['María', 'Anne', 'Tomás', 'Omar', 'Li', 'Chloé', 'João', 'Fatima', 'Ivan', 'Zoë', 'Mark', 'Priya', 'Sean', 'Ingrid', 'Kwame', 'Hana', 'Marta', 'Ali', 'Noor', 'Ewa'];
const LAST = ['Gómez', 'Marshall', 'Martínez', 'Haddad', 'Nguyen', 'Okafor', 'Schmidt', 'Dubois', 'Kowalski', 'Silva', 'Marino', 'Kim', 'Byrne', 'Larsen', 'Mensah', 'Sato', 'Novak', 'Rossi', 'Patel', 'Ólafsson'];
const SYMPTOMS = ['fever and chills', 'persistent cough', 'headache', 'chest pain on exertion', 'skin rash', 'back pain', 'routine check-up', 'sore throat and fever', 'shortness of breath', 'knee pain'];
const STATUSES = ['COMPLETED', 'COMPLETED', 'COMPLETED', 'CANCELLED', 'MISSED', 'CONFIRMED', 'PENDING'] as const;

/** BatchWrite in chunks of 25, `parallel` requests at a time, unprocessed items retried. */
async function putAll(ctx: Ctx, table: string, items: Record<string, unknown>[], bar: ReturnType<typeof progress>, base = 0, parallel = 8) {
	const chunks: Record<string, unknown>[][] = [];
	for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
	let done = 0;
	let next = 0;
	await Promise.all(
		Array.from({ length: parallel }, async () => {
			while (next < chunks.length) {
				const chunk = chunks[next++]!;
				let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
				for (let attempt = 0; requests.length; attempt++) {
					const res = await ctx.db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
					requests = (res.UnprocessedItems?.[table] ?? []) as typeof requests;
					if (requests.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
				}
				done += chunk.length;
				bar.tick(base + done);
			}
		})
	);
}

const db = await startDynamoLocal({ log: (l) => console.log(l) });
let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
let appCtx: Ctx | undefined;
try {
	const config = loadConfig({
		NODE_ENV: 'production',
		DYNAMODB_ENDPOINT: db.endpoint,
		TABLE_PREFIX: `bench${crypto.randomBytes(3).toString('hex')}_`,
		AUDIT_IP_KEY: 'bench-audit-ip-key-0123456789',
		HOSPITAL_TIMEZONE: 'UTC',
		LOG_LEVEL: 'silent'
	});
	const ctx = (appCtx = createContext(config));
	await ensureTables(ctx.db);
	server = await startHttpServer(ctx, { port: 0, host: '127.0.0.1' });
	const url = server.url;
	const password = 'Bench-Passw0rd!';
	const caller = systemCaller('bench');
	async function tokenOf(email: string): Promise<string> {
		const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ email, password }) });
		return ((await login.json()) as { token: string }).token;
	}
	await createUser(ctx, caller, { name: 'Bench Admin', email: 'admin@bench.local', role: 'admin', password }, { allowSuperAdmin: true });
	await createUser(ctx, caller, { name: 'Bench Desk', email: 'desk@bench.local', role: 'front_desk', password }, { allowSuperAdmin: true });
	const doctors: { id: string; userId: string; name: string }[] = [];
	for (let i = 0; i < 10; i++) {
		const u = await createUser(ctx, caller, { name: `Doctor ${LAST[i]}`, email: `doctor${i}@bench.local`, role: 'doctor', password, specialization: 'General Practice', licenceNumber: `BENCH-${1000 + i}` }, { allowSuperAdmin: true });
		doctors.push({ id: u.doctorId!, userId: u.id, name: u.name });
	}
	const tokens = { admin: await tokenOf('admin@bench.local'), desk: await tokenOf('desk@bench.local'), doctor: await tokenOf('doctor0@bench.local') };

	// ——— Patients ———
	const now = new Date().toISOString();
	const stamp = { version: 1, updated_at: now, updated_by: 'system', updated_by_name: 'MedTrack', created_at: now };
	const patients: PatientItem[] = Array.from({ length: PATIENTS }, (_, i) => {
		const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i > 399 ? `${String.fromCharCode(65 + (i % 26))}.` : ''}`.trim();
		return {
			...stamp,
			id: `pat_bench${String(i).padStart(6, '0')}`,
			name,
			name_lower: name.toLowerCase(),
			phone: `+1202555${String(i).padStart(4, '0')}`,
			date_of_birth: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
			blood_group: BLOOD_GROUPS[i % BLOOD_GROUPS.length]!
		} as PatientItem;
	});
	const bar = progress('patients', PATIENTS);
	await putAll(ctx, ctx.db.tables.patients, patients, bar);
	bar.done();
	const ibar = progress('search index', PATIENTS);
	let indexItems = 0;
	for (let i = 0; i < PATIENTS; i += 500) {
		indexItems += await putIndexEntries(ctx, patients.slice(i, i + 500).map(patientSearchEntry));
		ibar.tick(Math.min(PATIENTS, i + 500));
	}
	ibar.done(`${indexItems} index items`);

	// ——— Appointments ———
	const today = todayIn(config.timezone);
	const appointment = (i: number): AppointmentItem => {
		const p = patients[(i * 7919) % PATIENTS]!;
		const d = doctors[i % doctors.length]!;
		// The first TODAY_LIST are today's lists (10 a doctor, the same at both history sizes);
		// every other appointment is history, on one of the 365 days before today.
		const date = i < TODAY_LIST ? today : addDays(today, -1 - Math.floor((i * 2654435761) % 365));
		const status = date === today ? (['PENDING', 'CONFIRMED', 'CHECKED_IN', 'COMPLETED'] as const)[i % 4] : STATUSES[i % STATUSES.length]!;
		const start = `${date}T${String(8 + (i % 9)).padStart(2, '0')}:${i % 2 ? '30' : '00'}:00.000Z`;
		const end = new Date(Date.parse(start) + 30 * 60_000).toISOString();
		const completed = status === 'COMPLETED';
		return {
			...stamp,
			id: `apt_bench${String(i).padStart(7, '0')}`,
			patient_id: p.id,
			patient_name: p.name,
			doctor_id: d.id,
			doctor_user_id: d.userId,
			doctor_name: d.name,
			specialization: 'General Practice',
			start,
			end,
			date,
			status,
			priority: 'routine',
			symptoms: SYMPTOMS[i % SYMPTOMS.length]!,
			...(completed ? { consultation_started_at: start, completed_at: new Date(Date.parse(start) + (10 + (i % 20)) * 60_000).toISOString() } : {})
		} as unknown as AppointmentItem;
	};
	async function loadAppointments(from: number, to: number) {
		const abar = progress('appointments', to);
		for (let i = from; i < to; i += 5_000) {
			const items = Array.from({ length: Math.min(5_000, to - i) }, (_, j) => appointment(i + j));
			await putAll(ctx, ctx.db.tables.appointments, items, abar, i);
		}
		abar.done();
		const t0 = performance.now();
		const r = await rebuildAnalytics(ctx);
		console.log(`  aggregates rebuilt from ${r.appointments} appointments into ${r.rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
	}

	const get = async (token: string, p: string) => {
		const s = performance.now();
		const res = await fetch(url + p, { headers: { authorization: `Bearer ${token}` } });
		const body = (await res.json()) as Record<string, unknown>;
		if (res.status !== 200) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
		return { ms: performance.now() - s, body };
	};
	async function sample(token: string, p: string, check?: (body: Record<string, unknown>) => void): Promise<Stat> {
		await get(token, p); // warm
		const xs: number[] = [];
		for (let i = 0; i < SAMPLES; i++) {
			const r = await get(token, p);
			check?.(r.body);
			xs.push(r.ms);
		}
		return stat(xs);
	}
	const pages = (n: number) => (b: Record<string, unknown>) => {
		const got = (b.patients as unknown[]).length;
		if (got !== n) throw new Error(`expected a page of ${n}, got ${got}`);
	};

	// ——— Dashboards at 1,000 appointments of history ———
	await loadAppointments(0, SMALL);
	const dash = (label: string) => (b: Record<string, unknown>) => {
		if ((b.days as unknown[]).length !== 7) throw new Error(`${label}: 7 days expected`);
	};
	const dashboardSmall = await sample(tokens.admin, '/api/analytics/admin?days=7', dash('admin'));
	const doctorSmall = await sample(tokens.doctor, `/api/analytics/doctor/${doctors[0]!.id}`);

	// ——— All the history ———
	if (APPOINTMENTS > SMALL) await loadAppointments(SMALL, APPOINTMENTS);
	const dashboardLarge = await sample(tokens.admin, '/api/analytics/admin?days=7', dash('admin'));
	const doctorLarge = await sample(tokens.doctor, `/api/analytics/doctor/${doctors[0]!.id}`);

	// ——— Searches, each beside a raw Query of its index term ———
	const searches = [
		{ name: 'name prefix "mar"', path: '/api/patients/search?q=mar', input: { q: 'mar' }, term: 'n:mar', check: pages(20) },
		{ name: 'surname "gomez"', path: '/api/patients/search?q=GOMEZ', input: { q: 'GOMEZ' }, term: 'n:gomez', check: pages(20) },
		{ name: 'phone as typed', path: `/api/patients/search?phone=${encodeURIComponent('(202) 555-0042')}`, input: { phone: '+12025550042' }, term: 'p:+12025550042', check: pages(1) },
		{ name: 'blood group AB-', path: `/api/patients/search?bloodGroup=${encodeURIComponent('AB-')}`, input: { bloodGroup: 'AB-' }, term: 'b:AB-', check: pages(20) }
	];
	// The same search through the service in this process (the request's DynamoDB work without HTTP).
	const desk = await getUserByEmail(ctx, 'desk@bench.local');
	const deskCaller: Caller = { actor: { id: desk!.id, email: desk!.email, name: desk!.name, role: desk!.role }, requestId: 'bench', ip: '127.0.0.1' };
	const timed = async (f: () => Promise<void>) => {
		const t = performance.now();
		await f();
		return performance.now() - t;
	};
	const searchResults: { name: string; api: Stat; service: Stat; raw: Stat; rawWithAudit: Stat; ratioP95: number; serviceRatioP95: number; serviceOverRawWithAuditP95: number }[] = [];
	for (const s of searches) {
		// The three sides take turns, sample by sample, so the machine's drift falls on all of them alike.
		const xs = { api: [] as number[], service: [] as number[], raw: [] as number[], rawWithAudit: [] as number[] };
		const rawQuery = () =>
			ctx.db.doc.send(
				new QueryCommand({ TableName: ctx.db.tables.search_terms, KeyConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'term' }, ExpressionAttributeValues: { ':t': `patient#${s.term}` }, Limit: 20 })
			);
		for (let i = 0; i <= SAMPLES; i++) {
			const api = await timed(async () => s.check((await get(tokens.desk, s.path)).body));
			const inProcess = await timed(async () => {
				if (!(await findPatients(ctx, deskCaller, { ...s.input, limit: 20 })).patients.length) throw new Error('the service found nothing');
			});
			const r = await timed(async () => {
				const res = await rawQuery();
				if (!res.Items?.length) throw new Error(`raw query of ${s.term} found nothing`);
			});
			// What a search must do at the least: the query and, beside it, its audit entry (every staff search is audited).
			const ra = await timed(async () => {
				await Promise.all([rawQuery(), ctx.db.doc.send(new PutCommand({ TableName: ctx.db.tables.audit_logs, Item: auditEntry(ctx, deskCaller, { action: 'search', resourceType: 'patient', changedFields: ['q'] }) }))]);
			});
			if (i === 0) continue; // warm-up
			xs.api.push(api);
			xs.service.push(inProcess);
			xs.raw.push(r);
			xs.rawWithAudit.push(ra);
		}
		const [api, service, raw, rawWithAudit] = [stat(xs.api), stat(xs.service), stat(xs.raw), stat(xs.rawWithAudit)];
		searchResults.push({
			name: s.name,
			api,
			service,
			raw,
			rawWithAudit,
			ratioP95: +(api.p95 / raw.p95).toFixed(2),
			serviceRatioP95: +(service.p95 / raw.p95).toFixed(2),
			serviceOverRawWithAuditP95: +(service.p95 / rawWithAudit.p95).toFixed(2)
		});
	}

	const result = {
		at: new Date().toISOString(),
		patients: PATIENTS,
		indexItems,
		appointments: APPOINTMENTS,
		samples: SAMPLES,
		search: searchResults,
		dashboard: {
			admin: { at1000: dashboardSmall, atAll: dashboardLarge, ratioP95: +(dashboardLarge.p95 / dashboardSmall.p95).toFixed(2) },
			doctor: { at1000: doctorSmall, atAll: doctorLarge, ratioP95: +(doctorLarge.p95 / doctorSmall.p95).toFixed(2) }
		}
	};
	console.log('\nSearch (front desk over HTTP) against a raw 20-item Query of the same index term:');
	for (const s of searchResults)
		console.log(
			`  ${s.name.padEnd(18)} HTTP p50 ${s.api.p50} / p95 ${s.api.p95} ms · service p50 ${s.service.p50} / p95 ${s.service.p95} ms · raw Query p50 ${s.raw.p50} / p95 ${s.raw.p95} ms · raw Query ∥ audit Put p50 ${s.rawWithAudit.p50} / p95 ${s.rawWithAudit.p95} ms · p95 ÷ raw: HTTP ${s.ratioP95}, service ${s.serviceRatioP95} (target ≤ 2); service ÷ (Query ∥ Put) ${s.serviceOverRawWithAuditP95}`
		);
	console.log(`\nDashboards, ${SMALL} vs ${APPOINTMENTS} appointments of history:`);
	for (const [k, v] of Object.entries(result.dashboard)) console.log(`  ${k.padEnd(7)} p50 ${v.at1000.p50} → ${v.atAll.p50} ms   p95 ${v.at1000.p95} → ${v.atAll.p95} ms   p95 ratio ${v.ratioP95} (target ≤ 1.5)`);

	const out = path.resolve('bench/results');
	fs.mkdirSync(out, { recursive: true });
	fs.writeFileSync(path.join(out, 'search-analytics.json'), JSON.stringify(result, null, 2) + '\n');
	fs.writeFileSync(
		path.join(out, 'search-analytics.svg'),
		barChartSvg(`p95 latency: patient search over ${PATIENTS.toLocaleString('en')} patients, dashboards at two history sizes`, [
			...searchResults.map((s) => ({ group: s.name, bars: [{ label: 'MedTrack search over HTTP', value: s.api.p95 }, { label: 'MedTrack search in server', value: s.service.p95 }, { label: 'raw Query', value: s.raw.p95 }, { label: 'raw Query + audit Put', value: s.rawWithAudit.p95 }] })),
			{ group: 'admin dashboard', bars: [{ label: `MedTrack at ${SMALL.toLocaleString('en')}`, value: dashboardSmall.p95 }, { label: `MedTrack at ${APPOINTMENTS.toLocaleString('en')}`, value: dashboardLarge.p95 }] },
			{ group: 'doctor dashboard', bars: [{ label: `MedTrack at ${SMALL.toLocaleString('en')}`, value: doctorSmall.p95 }, { label: `MedTrack at ${APPOINTMENTS.toLocaleString('en')}`, value: doctorLarge.p95 }] }
		])
	);
	console.log(`\nWrote ${path.join(out, 'search-analytics.json')} and .svg`);
} finally {
	await server?.close();
	appCtx?.db.raw.destroy();
	await db.stop();
}
