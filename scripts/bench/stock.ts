import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoLocal } from '../../src/lib/server/db/embedded';
import { loadConfig } from '../../src/lib/server/config';
import { createContext } from '../../src/lib/server/context';
import { ensureTables } from '../../src/lib/server/db/client';
import { startHttpServer } from '../../src/lib/server/http/server';
import { createUser } from '../../src/lib/server/services/users';
import { systemCaller } from '../../src/lib/server/actor';
import { addDays, todayIn } from '../../src/lib/shared/time';
import { countFlag, orExit, parseFlags, progress } from '../cli';
import { barChartSvg } from './chart';
import { percentile } from './stats';
import { BLOOD_GROUPS, BLOOD_COMPONENTS } from '../../src/lib/shared/blood';

/**
 * `npm run bench:stock [-- --n 200 --rounds 3]`: stock that never goes negative, at what cost.
 * For each of the two stocks (a medicine; a blood group × component) it runs N concurrent
 * takes of 1 through the HTTP API against N in stock (a dispense: batch, counter, dispensing
 * record, movement and audit entry in one transaction; a blood issue: counter, bag and audit
 * entry) beside N concurrent raw conditional UpdateItem decrements of one counter on the same
 * DynamoDB Local, interleaved round by round in the same run, then N against N/2 to show the
 * refusals. It checks the outcome every time (exactly min(N, stock) taken, none below zero),
 * prints times and ratios, and writes bench/results/stock.json and stock.svg.
 */
const f = orExit(() => parseFlags({ n: { type: 'string', value: '<count>' }, rounds: { type: 'string', value: '<count>' } }));
const N = orExit(() => countFlag(f.n, 'n', 200));
const ROUNDS = orExit(() => countFlag(f.rounds, 'rounds', 3));

const pct = percentile;
type Side = { wallMs: number; perSecond: number; p50: number; p95: number; ok: number; refused: number };
const side = (lat: number[], wallMs: number, ok: number, refused: number): Side => ({
	wallMs: Math.round(wallMs),
	perSecond: Math.round((ok / wallMs) * 1000),
	p50: +pct(lat, 50).toFixed(1),
	p95: +pct(lat, 95).toFixed(1),
	ok,
	refused
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const db = await startDynamoLocal({ log: (l) => console.log(l) });
try {
	const config = loadConfig({
		NODE_ENV: 'production',
		DYNAMODB_ENDPOINT: db.endpoint,
		TABLE_PREFIX: `bench${crypto.randomBytes(3).toString('hex')}_`,
		AUDIT_IP_KEY: 'bench-audit-ip-key-0123456789',
		LOG_LEVEL: 'silent'
	});
	const ctx = createContext(config);
	await ensureTables(ctx.db);
	const server = await startHttpServer(ctx, { port: 0, host: '127.0.0.1' });
	const password = 'Bench-Passw0rd!';
	async function tokenOf(role: 'pharmacist' | 'admin'): Promise<string> {
		const email = `${role}@bench.local`;
		await createUser(ctx, systemCaller('bench'), { name: `Bench ${role}`, email, role, password }, { allowSuperAdmin: true });
		const login = await fetch(`${server.url}/api/auth/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', origin: server.url },
			body: JSON.stringify({ email, password })
		});
		return ((await login.json()) as { token: string }).token;
	}
	const tokens = { pharmacist: await tokenOf('pharmacist'), admin: await tokenOf('admin') };
	let token = tokens.pharmacist;
	const call = async (method: string, p: string, body?: unknown) => {
		const res = await fetch(server.url + p, {
			method,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		return { status: res.status, body: (await res.json()) as Record<string, any> };
	};
	const today = todayIn(config.timezone);
	let lot = 0;
	/** One stock under test: fill it with `units`, take one, read what is left, and the raw counter beside it. */
	type Subject = {
		name: string;
		as: keyof typeof tokens;
		stocked(units: number): Promise<string>;
		take(id: string): Promise<number>;
		left(id: string): Promise<number>;
		rawTable: string;
		rawKey(id: string): Record<string, string>;
	};
	const medicine: Subject = {
		name: 'Pharmacy dispense',
		as: 'pharmacist',
		async stocked(units) {
			const m = await call('POST', '/api/medicines', { name: `Bench medicine ${crypto.randomBytes(3).toString('hex')}`, form: 'tablet', strength: '1 mg', threshold: 0 });
			const id = m.body.medicine.id as string;
			// Two batches: the first-expiring one runs out half way, so takes move to the second.
			for (const [q, d] of [[Math.floor(units / 2), 30], [units - Math.floor(units / 2), 300]] as const) {
				const r = await call('POST', `/api/medicines/${id}/batches`, { batchNumber: `B-${++lot}`, quantity: q, expiresOn: addDays(today, d) });
				if (r.status !== 201) throw new Error(JSON.stringify(r.body));
			}
			return id;
		},
		take: async (id) => (await call('POST', '/api/dispensations', { medicineId: id, quantity: 1 })).status,
		left: async (id) => (await call('GET', `/api/medicines/${id}`)).body.medicine.onHand as number,
		rawTable: ctx.db.tables.medicines,
		rawKey: (id) => ({ id })
	};
	// Each round takes a group × component of its own, so every round starts from the stock it was given.
	const combos = BLOOD_GROUPS.flatMap((g) => BLOOD_COMPONENTS.map((c) => [g, c] as const));
	let combo = 0;
	const blood: Subject = {
		name: 'Blood issue',
		as: 'admin',
		async stocked(units) {
			const [bloodGroup, component] = combos[combo++ % combos.length]!;
			const bar = progress(`bags of ${bloodGroup} ${component}`, units);
			for (let i = 0; i < units; i += 20) {
				// Bags expiring over several days, as a real shelf holds them.
				await Promise.all(
					Array.from({ length: Math.min(20, units - i) }, (_, j) =>
						call('POST', '/api/blood-bank/units', {
							bloodGroup,
							component,
							bagNumber: `BB-${++lot}`,
							collectedAt: new Date(Date.now() - ((i + j) % 5) * 3_600_000).toISOString()
						}).then((r) => {
							if (r.status !== 201) throw new Error(JSON.stringify(r.body));
						})
					)
				);
				bar.tick(Math.min(units, i + 20));
			}
			bar.done();
			return `${bloodGroup}#${component}`;
		},
		async take(id) {
			const [bloodGroup, component] = id.split('#');
			return (await call('POST', '/api/blood-bank/issues', { bloodGroup, component, count: 1, reason: 'benchmark transfusion' })).status;
		},
		async left(id) {
			const rows = (await call('GET', '/api/blood-bank/stock')).body.stock as { bloodGroup: string; component: string; available: number }[];
			return rows.find((r) => `${r.bloodGroup}#${r.component}` === id)!.available;
		},
		rawTable: ctx.db.tables.blood_stock,
		rawKey: (id) => ({ stock_key: id })
	};

	async function api(subject: Subject, units: number): Promise<Side> {
		token = tokens[subject.as];
		const id = await subject.stocked(units);
		const lat: number[] = [];
		const t0 = performance.now();
		const results = await Promise.all(
			Array.from({ length: N }, async () => {
				const s = performance.now();
				const status = await subject.take(id);
				lat.push(performance.now() - s);
				return status;
			})
		);
		const wall = performance.now() - t0;
		const other = results.filter((s) => s !== 201 && s !== 409);
		if (other.length) throw new Error(`${subject.name}: unexpected statuses: ${other.join(', ')}`);
		const left = await subject.left(id);
		const ok = results.filter((s) => s === 201).length;
		if (left !== Math.max(0, units - N) || ok !== Math.min(N, units)) throw new Error(`${subject.name}: stock ${left} after ${ok} taken of ${units}`);
		return side(lat, wall, ok, results.length - ok);
	}
	async function raw(subject: Subject, units: number): Promise<Side> {
		const key = subject.rawKey(`raw-${crypto.randomUUID()}`);
		await ctx.db.doc.send(new PutCommand({ TableName: subject.rawTable, Item: { ...key, on_hand: units } }));
		const lat: number[] = [];
		const t0 = performance.now();
		const results = await Promise.all(
			Array.from({ length: N }, async () => {
				const s = performance.now();
				try {
					await ctx.db.doc.send(
						new UpdateCommand({
							TableName: subject.rawTable,
							Key: key,
							UpdateExpression: 'SET on_hand = on_hand - :one',
							ConditionExpression: 'on_hand >= :one',
							ExpressionAttributeValues: { ':one': 1 }
						})
					);
					return true;
				} catch (err) {
					if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
					return false;
				} finally {
					lat.push(performance.now() - s);
				}
			})
		);
		const wall = performance.now() - t0;
		const ok = results.filter(Boolean).length;
		return side(lat, wall, ok, N - ok);
	}

	const summaries: Record<string, unknown>[] = [];
	const chart: { group: string; bars: { label: string; value: number }[] }[] = [];
	for (const subject of [medicine, blood]) {
		const rounds: { api: Side; raw: Side }[] = [];
		for (let i = 0; i < ROUNDS; i++) {
			const r = await raw(subject, N);
			const a = await api(subject, N);
			rounds.push({ api: a, raw: r });
			console.log(`${subject.name}, round ${i + 1}: API ${a.ok} in ${a.wallMs} ms (${a.perSecond}/s, p50 ${a.p50} ms, p95 ${a.p95} ms) · raw UpdateItem ${r.ok} in ${r.wallMs} ms (${r.perSecond}/s, p50 ${r.p50} ms, p95 ${r.p95} ms)`);
		}
		const short = await api(subject, Math.floor(N / 2));
		console.log(`${subject.name}, oversubscribed: ${N} against ${Math.floor(N / 2)}: ${short.ok} taken, ${short.refused} refused (409 INSUFFICIENT_STOCK), ${short.wallMs} ms`);
		const m = {
			apiPerSecond: median(rounds.map((r) => r.api.perSecond)),
			rawPerSecond: median(rounds.map((r) => r.raw.perSecond)),
			apiP50: median(rounds.map((r) => r.api.p50)),
			rawP50: median(rounds.map((r) => r.raw.p50)),
			apiP95: median(rounds.map((r) => r.api.p95)),
			rawP95: median(rounds.map((r) => r.raw.p95))
		};
		const ratio = +(m.rawPerSecond / m.apiPerSecond).toFixed(1);
		console.log(`${subject.name}, median throughput: API ${m.apiPerSecond}/s, raw ${m.rawPerSecond}/s (raw ÷ API ${ratio}); p50 ${m.apiP50} vs ${m.rawP50} ms, p95 ${m.apiP95} vs ${m.rawP95} ms`);
		summaries.push({ subject: subject.name, n: N, rounds, median: m, rawOverApi: ratio, oversubscribed: short });
		chart.push({
			group: subject.name,
			bars: [
				{ label: 'MedTrack API p50', value: m.apiP50 },
				{ label: 'MedTrack API p95', value: m.apiP95 },
				{ label: 'raw DB write p50', value: m.rawP50 },
				{ label: 'raw DB write p95', value: m.rawP95 }
			]
		});
	}
	fs.mkdirSync('bench/results', { recursive: true });
	fs.writeFileSync(path.join('bench/results', 'stock.json'), `${JSON.stringify({ at: new Date().toISOString(), n: N, stocks: summaries }, null, 2)}\n`);
	fs.writeFileSync(
		path.join('bench/results', 'stock.svg'),
		barChartSvg(`${N} concurrent takes of 1 (latency, median of ${ROUNDS} rounds): MedTrack vs a raw conditional UpdateItem`, chart)
	);
	console.log('Wrote bench/results/stock.json and stock.svg');
	await server.close();
	ctx.db.raw.destroy();
} finally {
	await db.stop();
}
