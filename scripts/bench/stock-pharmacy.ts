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
import { countFlag, orExit, parseFlags } from '../cli';

/**
 * The pharmacy half of `bench:stock`: N concurrent dispenses of 1 through the HTTP API
 * against one medicine with N in stock (each a transaction of batch, counter, dispensing
 * record, movement and audit entry), against N concurrent raw conditional UpdateItem
 * decrements of one counter on the same DynamoDB Local, interleaved, in the same run; then N
 * against N/2 to show the refusals. Writes bench/results/stock-pharmacy.json.
 * `npx tsx scripts/bench/stock-pharmacy.ts [--n 200 --rounds 3]`
 */
const f = orExit(() => parseFlags({ n: { type: 'string', value: '<count>' }, rounds: { type: 'string', value: '<count>' } }));
const N = orExit(() => countFlag(f.n, 'n', 200));
const ROUNDS = orExit(() => countFlag(f.rounds, 'rounds', 3));

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
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
	await createUser(ctx, systemCaller('bench'), { name: 'Bench Pharmacist', email: 'pharmacist@bench.local', role: 'pharmacist', password }, { allowSuperAdmin: true });
	const login = await fetch(`${server.url}/api/auth/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: server.url },
		body: JSON.stringify({ email: 'pharmacist@bench.local', password })
	});
	const token = ((await login.json()) as { token: string }).token;
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
	async function stocked(units: number): Promise<string> {
		const m = await call('POST', '/api/medicines', { name: `Bench medicine ${crypto.randomBytes(3).toString('hex')}`, form: 'tablet', strength: '1 mg', threshold: 0 });
		const id = m.body.medicine.id as string;
		// Two batches: the first-expiring one runs out half way, so takes move to the second.
		for (const [q, d] of [[Math.floor(units / 2), 30], [units - Math.floor(units / 2), 300]] as const) {
			const r = await call('POST', `/api/medicines/${id}/batches`, { batchNumber: `B-${++lot}`, quantity: q, expiresOn: addDays(today, d) });
			if (r.status !== 201) throw new Error(JSON.stringify(r.body));
		}
		return id;
	}
	async function api(units: number): Promise<Side> {
		const id = await stocked(units);
		const lat: number[] = [];
		const t0 = performance.now();
		const results = await Promise.all(
			Array.from({ length: N }, async () => {
				const s = performance.now();
				const r = await call('POST', '/api/dispensations', { medicineId: id, quantity: 1 });
				lat.push(performance.now() - s);
				return r.status;
			})
		);
		const wall = performance.now() - t0;
		const other = results.filter((s) => s !== 201 && s !== 409);
		if (other.length) throw new Error(`unexpected statuses: ${other.join(', ')}`);
		const left = (await call('GET', `/api/medicines/${id}`)).body.medicine.onHand as number;
		const ok = results.filter((s) => s === 201).length;
		if (left !== Math.max(0, units - N) || ok !== Math.min(N, units)) throw new Error(`stock ${left} after ${ok} dispensed of ${units}`);
		return side(lat, wall, ok, results.length - ok);
	}
	async function raw(units: number): Promise<Side> {
		const id = `raw-${crypto.randomUUID()}`;
		await ctx.db.doc.send(new PutCommand({ TableName: ctx.db.tables.medicines, Item: { id, on_hand: units } }));
		const lat: number[] = [];
		const t0 = performance.now();
		const results = await Promise.all(
			Array.from({ length: N }, async () => {
				const s = performance.now();
				try {
					await ctx.db.doc.send(
						new UpdateCommand({
							TableName: ctx.db.tables.medicines,
							Key: { id },
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

	const rounds: { api: Side; raw: Side }[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const r = await raw(N);
		const a = await api(N);
		rounds.push({ api: a, raw: r });
		console.log(`round ${i + 1}: API ${a.ok} dispensed in ${a.wallMs} ms (${a.perSecond}/s, p50 ${a.p50} ms, p95 ${a.p95} ms) · raw UpdateItem ${r.ok} in ${r.wallMs} ms (${r.perSecond}/s, p50 ${r.p50} ms, p95 ${r.p95} ms)`);
	}
	const short = await api(Math.floor(N / 2));
	console.log(`oversubscribed: ${N} against ${Math.floor(N / 2)}: ${short.ok} dispensed, ${short.refused} refused (409 INSUFFICIENT_STOCK), ${short.wallMs} ms`);
	const summary = {
		n: N,
		rounds,
		median: {
			apiPerSecond: median(rounds.map((r) => r.api.perSecond)),
			rawPerSecond: median(rounds.map((r) => r.raw.perSecond)),
			apiP50: median(rounds.map((r) => r.api.p50)),
			rawP50: median(rounds.map((r) => r.raw.p50)),
			apiP95: median(rounds.map((r) => r.api.p95)),
			rawP95: median(rounds.map((r) => r.raw.p95))
		},
		oversubscribed: short
	};
	const ratio = (summary.median.rawPerSecond / summary.median.apiPerSecond).toFixed(1);
	console.log(`median throughput: API ${summary.median.apiPerSecond}/s, raw ${summary.median.rawPerSecond}/s (raw ÷ API ${ratio}); p50 ${summary.median.apiP50} vs ${summary.median.rawP50} ms`);
	fs.mkdirSync('bench/results', { recursive: true });
	fs.writeFileSync(path.join('bench/results', 'stock-pharmacy.json'), `${JSON.stringify({ at: new Date().toISOString(), ...summary, rawOverApi: Number(ratio) }, null, 2)}\n`);
	await server.close();
	ctx.db.raw.destroy();
} finally {
	await db.stop();
}
