import {
	CreateTableCommand,
	DescribeTableCommand,
	DynamoDBClient,
	ListTablesCommand,
	UpdateTableCommand,
	UpdateTimeToLiveCommand,
	type AttributeDefinition,
	type GlobalSecondaryIndex,
	type KeySchemaElement
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES, tableNames, type TableDef, type TableName, type TableNames } from './tables';
import { DbGuard, type GuardOptions } from './guard';

export type Db = {
	raw: DynamoDBClient;
	doc: DynamoDBDocumentClient;
	tables: TableNames;
	endpoint: string | undefined;
	/** Cap, deadline and breaker every command of `raw` and `doc` goes through (see guard.ts). */
	guard: DbGuard;
};

export type DbOptions = {
	endpoint: string | undefined;
	region: string;
	tablePrefix: string;
	/** DynamoDB Local accepts any credentials; real AWS uses the default chain (instance role). */
	local: boolean;
	/** DB_MAX_IN_FLIGHT: commands in flight at once; the rest queue. */
	maxInFlight: number;
	/** DB_DEADLINE_MS: overall deadline of one command, SDK retries included. */
	deadlineMs: number;
	log?: GuardOptions['log'];
};

type SendOptions = { abortSignal?: AbortSignal };
type Send = (command: unknown, options?: SendOptions) => Promise<unknown>;

/** Routes every `send` of `client` through the guard, with the guard's deadline as abort signal. */
function guardSends(client: DynamoDBClient | DynamoDBDocumentClient, guard: DbGuard): void {
	const send = client.send.bind(client) as Send;
	const guarded = (command: unknown, options?: unknown, callback?: unknown) => {
		if (typeof options === 'function' || typeof callback === 'function') {
			throw new TypeError('MedTrack sends DynamoDB commands with promises only (send(cmd) returns one).');
		}
		const opts = options as SendOptions | undefined;
		return guard.run((abortSignal) => send(command, { ...opts, abortSignal }), opts?.abortSignal);
	};
	client.send = guarded as typeof client.send;
}

/**
 * The one DynamoDB client of a process. Both `raw` and `doc` send through one DbGuard: at most
 * `maxInFlight` commands in flight (the HTTP agent gets a few sockets more, for the probe), an
 * overall deadline per command, and a breaker that makes calls fail fast with
 * DbUnavailableError while DynamoDB is unreachable.
 */
export function createDb(opts: DbOptions): Db {
	const tables = tableNames(opts.tablePrefix);
	const agent = { keepAlive: true, maxSockets: opts.maxInFlight + 8 };
	const raw = new DynamoDBClient({
		region: opts.region,
		endpoint: opts.endpoint,
		maxAttempts: 3,
		...(opts.local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
		requestHandler: {
			// Per attempt; the guard's deadline bounds the whole command, retries included.
			connectionTimeout: Math.min(1_000, opts.deadlineMs),
			requestTimeout: opts.deadlineMs,
			throwOnRequestTimeout: true,
			httpAgent: agent,
			httpsAgent: agent
		}
	});
	const doc = DynamoDBDocumentClient.from(raw, {
		marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false }
	});
	const unguarded = raw.send.bind(raw) as Send;
	const guard = new DbGuard({
		maxInFlight: opts.maxInFlight,
		deadlineMs: opts.deadlineMs,
		// Any answer proves DynamoDB is back (a missing table is the caller's problem, not an outage).
		probe: (abortSignal) => unguarded(new DescribeTableCommand({ TableName: tables.users }), { abortSignal }),
		log: opts.log
	});
	guardSends(raw, guard);
	guardSends(doc, guard);
	const destroy = raw.destroy.bind(raw);
	raw.destroy = () => {
		guard.dispose();
		destroy();
	};
	return { raw, doc, tables, endpoint: opts.endpoint, guard };
}

function keySchema(pk: { name: string }, sk?: { name: string }): KeySchemaElement[] {
	const out: KeySchemaElement[] = [{ AttributeName: pk.name, KeyType: 'HASH' }];
	if (sk) out.push({ AttributeName: sk.name, KeyType: 'RANGE' });
	return out;
}

function attributeDefinitions(def: TableDef): AttributeDefinition[] {
	const seen = new Map<string, 'S' | 'N'>();
	const add = (k?: { name: string; type: 'S' | 'N' }) => k && seen.set(k.name, k.type);
	add(def.pk);
	add(def.sk);
	for (const ix of def.indexes ?? []) {
		add(ix.pk);
		add(ix.sk);
	}
	return [...seen].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

function gsi(ix: NonNullable<TableDef['indexes']>[number]): GlobalSecondaryIndex {
	return {
		IndexName: ix.name,
		KeySchema: keySchema(ix.pk, ix.sk),
		Projection: { ProjectionType: 'ALL' }
	};
}

async function waitActive(db: Db, table: string) {
	for (let i = 0; i < 600; i++) {
		const d = await db.raw.send(new DescribeTableCommand({ TableName: table }));
		const busy =
			d.Table?.TableStatus !== 'ACTIVE' ||
			(d.Table?.GlobalSecondaryIndexes ?? []).some((g) => g.IndexStatus !== 'ACTIVE');
		if (!busy) return d;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`table ${table} did not become active`);
}

/**
 * Creates every table and index of TABLES that does not exist yet. Safe to run any number
 * of times, and by several processes at once.
 */
export async function ensureTables(
	db: Db,
	onProgress?: (table: string, action: 'exists' | 'created' | 'index-added') => void
): Promise<void> {
	const existing = new Set<string>();
	let start: string | undefined;
	do {
		const page = await db.raw.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
		for (const t of page.TableNames ?? []) existing.add(t);
		start = page.LastEvaluatedTableName;
	} while (start);

	for (const [logical, def] of Object.entries(TABLES) as [TableName, TableDef][]) {
		const name = db.tables[logical];
		if (!existing.has(name)) {
			try {
				await db.raw.send(
					new CreateTableCommand({
						TableName: name,
						BillingMode: 'PAY_PER_REQUEST',
						KeySchema: keySchema(def.pk, def.sk),
						AttributeDefinitions: attributeDefinitions(def),
						GlobalSecondaryIndexes: def.indexes?.length ? def.indexes.map(gsi) : undefined
					})
				);
			} catch (err) {
				if ((err as Error).name !== 'ResourceInUseException') throw err;
			}
			await waitActive(db, name);
			if (def.ttl) {
				await db.raw.send(
					new UpdateTimeToLiveCommand({
						TableName: name,
						TimeToLiveSpecification: { AttributeName: def.ttl, Enabled: true }
					})
				);
			}
			onProgress?.(name, 'created');
			continue;
		}
		const desc = await waitActive(db, name);
		const have = new Set((desc.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
		let added = false;
		for (const ix of def.indexes ?? []) {
			if (have.has(ix.name)) continue;
			await db.raw.send(
				new UpdateTableCommand({
					TableName: name,
					AttributeDefinitions: attributeDefinitions(def),
					GlobalSecondaryIndexUpdates: [{ Create: gsi(ix) }]
				})
			);
			await waitActive(db, name);
			added = true;
		}
		onProgress?.(name, added ? 'index-added' : 'exists');
	}
}

/**
 * A cheap round trip (DescribeTable) that proves the database answers; used by /api/health.
 * Outside the concurrency cap, with the guard's short probe deadline; fails at once while the
 * breaker is open. Its round-trip time in ms.
 */
export function pingDb(db: Db): Promise<number> {
	return db.guard.ping();
}
