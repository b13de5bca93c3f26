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

export type Db = {
	raw: DynamoDBClient;
	doc: DynamoDBDocumentClient;
	tables: TableNames;
	endpoint: string | undefined;
};

export type DbOptions = {
	endpoint: string | undefined;
	region: string;
	tablePrefix: string;
	/** DynamoDB Local accepts any credentials; real AWS uses the default chain (instance role). */
	local: boolean;
};

/** The one DynamoDB client of a process. */
export function createDb(opts: DbOptions): Db {
	const raw = new DynamoDBClient({
		region: opts.region,
		endpoint: opts.endpoint,
		maxAttempts: 3,
		...(opts.local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
		requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 }
	});
	const doc = DynamoDBDocumentClient.from(raw, {
		marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false }
	});
	return { raw, doc, tables: tableNames(opts.tablePrefix), endpoint: opts.endpoint };
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

/** A cheap round trip that proves the database answers; used by /api/health. */
export async function pingDb(db: Db): Promise<number> {
	const t0 = performance.now();
	await db.raw.send(new DescribeTableCommand({ TableName: db.tables.users }));
	return Math.round((performance.now() - t0) * 10) / 10;
}
