import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { TestApp } from '../fixtures/app';
import type { TableName } from '../../src/lib/server/db/tables';
import type { AuditEntry } from '../../src/lib/server/services/audit';
import { categorize } from '../../src/lib/shared/symptom-categories';
import { addDays } from '../../src/lib/shared/time';

/** Helpers that read what DynamoDB Local actually stored (never a mock). */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every item of a table, strongly consistent; fine for the small tables of one test file. Through the setup client: the app's own refuses Scan. */
export async function scanAll<T = Record<string, any>>(app: TestApp, table: TableName): Promise<T[]> {
	const out: T[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await app.setup.doc.send(
			new ScanCommand({ TableName: app.ctx.db.tables[table], ConsistentRead: true, ExclusiveStartKey: startKey })
		);
		out.push(...((page.Items ?? []) as T[]));
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return out;
}

export async function countItems(app: TestApp, table: TableName): Promise<number> {
	let n = 0;
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await app.setup.doc.send(
			new ScanCommand({
				TableName: app.ctx.db.tables[table],
				ConsistentRead: true,
				Select: 'COUNT',
				ExclusiveStartKey: startKey
			})
		);
		n += page.Count ?? 0;
		startKey = page.LastEvaluatedKey;
	} while (startKey);
	return n;
}

export async function auditEntries(app: TestApp, where: (e: AuditEntry) => boolean = () => true): Promise<AuditEntry[]> {
	return (await scanAll<AuditEntry>(app, 'audit_logs')).filter(where);
}

export async function getItem<T = Record<string, any>>(
	app: TestApp,
	table: TableName,
	key: Record<string, string>
): Promise<T | undefined> {
	const res = await app.ctx.db.doc.send(
		new GetCommand({ TableName: app.ctx.db.tables[table], Key: key, ConsistentRead: true })
	);
	return res.Item as T | undefined;
}

/** The version of a patient record as stored right now. */
export async function storedVersion(app: TestApp, table: 'patients' | 'users', id: string): Promise<number> {
	const item = await getItem(app, table, { id });
	if (!item) throw new Error(`${table} ${id} not found`);
	return item.version as number;
}

/** The reset token of the newest password-reset message in the outbox for a user. */
export async function resetTokenFromOutbox(app: TestApp, userId: string): Promise<string> {
	const rows = (await scanAll(app, 'outbox'))
		.filter((r) => r.user_id === userId && r.kind === 'password_reset')
		.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
	const m = /reset-password\?token=([a-z2-7]+)/.exec(String(rows[0]?.body ?? ''));
	if (!m?.[1]) throw new Error(`no reset token in the outbox for ${userId}`);
	return m[1];
}

/** Makes `doctorId` care for `patientId` (SPEC §2 "care"): an appointment row between them. */
export async function putAppointment(
	app: TestApp,
	row: { patientId: string; doctorId: string; date?: string; start?: string; status?: string }
): Promise<string> {
	const id = crypto.randomUUID();
	const date = row.date ?? new Date().toISOString().slice(0, 10);
	await app.ctx.db.doc.send(
		new PutCommand({
			TableName: app.ctx.db.tables.appointments,
			Item: {
				id,
				patient_id: row.patientId,
				doctor_id: row.doctorId,
				date,
				start: row.start ?? `${date}T09:00:00.000Z`,
				status: row.status ?? 'CONFIRMED',
				version: 1
			}
		})
	);
	return id;
}

export const encodeTestCursor = (state: unknown) => Buffer.from(JSON.stringify(state)).toString('base64url');

let seq = 0;
/** An e-mail address unique to this run. */
export const uniqueEmail = (tag = 'user') =>
	`${tag}.${++seq}.${crypto.randomBytes(4).toString('hex')}@test.medtrack`;

/** A request id the server will adopt (X-Request-Id), to find the audit entries of one request. */
export const requestId = (tag = 'req') => `${tag}-${crypto.randomBytes(8).toString('hex')}`;

/**
 * The environment of a worker process for this test app (the compiled `build-server/worker.js`,
 * as production runs it): same database and table prefix, relaying to the app's sockets.
 */
export function workerEnv(app: TestApp, extra: Record<string, string>): NodeJS.ProcessEnv {
	return {
		...process.env,
		NODE_ENV: 'test',
		DYNAMODB_ENDPOINT: app.ctx.config.db.endpoint ?? '',
		TABLE_PREFIX: app.ctx.config.tablePrefix,
		AUDIT_IP_KEY: 'test-audit-ip-key-0123456789',
		HOSPITAL_TIMEZONE: app.ctx.config.timezone,
		LOG_LEVEL: 'warn',
		INTERNAL_URL: app.url,
		AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
		...extra
	};
}

/** `npm run worker -- --once <job>` in a process of its own: exit code, output, and the job's result line. */
export async function runWorkerOnce(
	app: TestApp,
	job: string,
	env: Record<string, string> & { INTERNAL_TOKEN: string }
): Promise<{ code: number | null; out: string; result: Record<string, unknown> | undefined }> {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `medtrack-${job}-`));
	try {
		const child = spawn(process.execPath, ['build-server/worker.js', '--once', job], {
			cwd: process.cwd(),
			env: workerEnv(app, { DATA_DIR: dataDir, ...env }),
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let out = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (out += d.toString()));
		const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
		const line = out.split('\n').find((l) => l.startsWith('{"job"'));
		return { code, out, result: line ? (JSON.parse(line) as { result: Record<string, unknown> }).result : undefined };
	} finally {
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
}

// ——— The dashboards' aggregates recounted from the raw tables, written independently of the app's builders ———
type Rows = Map<string, Record<string, number>>;
function addTo(rows: Rows, key: string, counters: Record<string, number>) {
	const into = rows.get(key) ?? {};
	for (const [k, v] of Object.entries(counters)) into[k] = (into[k] ?? 0) + v;
	rows.set(key, into);
}
const cleanRows = (rows: Rows): Record<string, Record<string, number>> =>
	Object.fromEntries(
		[...rows]
			.map(([k, c]) => [k, Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)))] as const)
			.filter(([, c]) => Object.keys(c).length)
			.sort(([a], [b]) => a.localeCompare(b))
	);
const mondayOf = (date: string) => {
	const wd = new Date(`${date}T00:00:00Z`).getUTCDay() || 7;
	return addDays(date, 1 - wd);
};

/** What `analytics_daily` must hold, recounted from `appointments` and `invoices` (`scope|date` → counters). */
export async function recountAnalytics(app: TestApp): Promise<Record<string, Record<string, number>>> {
	const rows: Rows = new Map();
	const raw = await scanAll<any>(app, 'appointments');
	for (const a of raw) {
		if (!a.date || !a.doctor_id) continue;
		const day = { total: 1, [`s_${a.status}`]: 1 };
		const done = a.status === 'COMPLETED' && a.consultation_started_at && a.completed_at;
		const consult: Record<string, number> = done ? { consult_ms: Date.parse(a.completed_at) - Date.parse(a.consultation_started_at), consult_n: 1 } : {};
		addTo(rows, `all|${a.date}`, { ...day, ...consult, ...Object.fromEntries(categorize(a.symptoms).map((c) => [`c_${c}`, 1])) });
		addTo(rows, `doctor#${a.doctor_id}|${a.date}`, { ...day, ...consult });
		if (done) addTo(rows, `doctor#${a.doctor_id}|total`, consult);
	}
	const completed = raw.filter((a) => a.status === 'COMPLETED').sort((x, y) => x.date.localeCompare(y.date));
	const ever = new Set<string>();
	const week = new Set<string>();
	for (const a of completed) {
		if (!ever.has(`${a.doctor_id}|${a.patient_id}`)) {
			ever.add(`${a.doctor_id}|${a.patient_id}`);
			addTo(rows, `doctor#${a.doctor_id}|total`, { patients_served: 1 });
		}
		if (!week.has(`${a.doctor_id}|${a.patient_id}|${mondayOf(a.date)}`)) {
			week.add(`${a.doctor_id}|${a.patient_id}|${mondayOf(a.date)}`);
			addTo(rows, `doctor#${a.doctor_id}|${a.date}`, { first_week: 1 });
		}
	}
	for (const i of await scanAll<any>(app, 'invoices')) addTo(rows, `all|${i.date}`, { revenue_cents: i.total_cents });
	return cleanRows(rows);
}

/** The stored aggregates, shards added up (guards left out), in the shape of `recountAnalytics`. */
export async function storedAnalytics(app: TestApp): Promise<Record<string, Record<string, number>>> {
	const rows: Rows = new Map();
	for (const r of await scanAll<any>(app, 'analytics_daily')) {
		if (r.kind === 'served_guard') continue;
		const scope = String(r.pk).replace(/#\d+$/, '');
		addTo(rows, `${scope}|${r.sk}`, Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v === 'number')) as Record<string, number>);
	}
	return cleanRows(rows);
}
