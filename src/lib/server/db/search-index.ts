import { BatchWriteCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from './transaction';
import { normalizeText } from '$lib/shared/search';

/**
 * The one search-index mechanism (patients and users both use it). A record is indexed as one
 * item per term in `search_terms`: partition `<kind>#<term>`, sort `<normalised name>\u0001<id>`,
 * so every search is one Query on one term, ordered by name and paged natively. Each item
 * carries the attributes a result shows and filters on (`data`) plus `name_key` (" " + the
 * normalised words) for "another query word starts a word" filters. The items are written by
 * `indexWrites` inside the record's own transaction, so a rename is visible to search at once
 * and the old name is gone in the same commit. No Scan.
 */
export type SearchKind = 'patient' | 'user';

export type SearchEntry = {
	kind: SearchKind;
	id: string;
	/** The name as shown; results are ordered by its normalised form. */
	name: string;
	/** Terms without the kind: `n:mar`, `p:+12025550143`, `b:O+`… */
	terms: string[];
	/** Carried attributes (result fields and filter attributes); undefined ones are left out. */
	data: Record<string, string | undefined>;
};

export type SearchHit = Record<string, string> & { entity_id: string; name: string; sort: string };

const SEP = '\u0001';
const pkOf = (kind: SearchKind, term: string) => `${kind}#${term}`;
export const sortOf = (e: Pick<SearchEntry, 'name' | 'id'>) => `${normalizeText(e.name)}${SEP}${e.id}`;

function itemOf(e: SearchEntry, term: string): Record<string, string> {
	const data = Object.fromEntries(Object.entries(e.data).filter((kv): kv is [string, string] => kv[1] !== undefined));
	return { ...data, term: pkOf(e.kind, term), sort: sortOf(e), kind: e.kind, entity_id: e.id, name: e.name, name_key: ` ${normalizeText(e.name)}` };
}

const sameEntry = (a: SearchEntry, b: SearchEntry) =>
	JSON.stringify([a.name, [...a.terms].sort(), Object.entries(a.data).sort()]) === JSON.stringify([b.name, [...b.terms].sort(), Object.entries(b.data).sort()]);

/**
 * The index items of a change, for the record's transaction: the old items whose key no longer
 * exists are deleted, every new item is put (a rename changes every sort key; any change of a
 * carried attribute rewrites the items that carry it). Nothing when nothing indexed changed.
 * A key is never both deleted and put, as one transaction may touch an item once.
 */
export function indexWrites(ctx: Ctx, before: SearchEntry | undefined, after: SearchEntry | undefined): TransactItem[] {
	if (before && after && sameEntry(before, after)) return [];
	const TableName = ctx.db.tables.search_terms;
	const kept = new Set(after ? after.terms.map((t) => `${pkOf(after.kind, t)}${SEP}${sortOf(after)}`) : []);
	const deletes: TransactItem[] = before
		? [...new Set(before.terms)]
				.filter((t) => !kept.has(`${pkOf(before.kind, t)}${SEP}${sortOf(before)}`))
				.map((t) => ({ Delete: { TableName, Key: { term: pkOf(before.kind, t), sort: sortOf(before) } } }))
		: [];
	const puts: TransactItem[] = after ? [...new Set(after.terms)].map((t) => ({ Put: { TableName, Item: itemOf(after, t) } })) : [];
	return [...deletes, ...puts];
}

/** Puts the items of many records (the backfill job); idempotent, unprocessed items retried. */
export async function putIndexEntries(ctx: Ctx, entries: SearchEntry[]): Promise<number> {
	const items = entries.flatMap((e) => [...new Set(e.terms)].map((t) => itemOf(e, t)));
	for (let i = 0; i < items.length; i += 25) {
		let requests: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
		for (let attempt = 0; requests?.length; attempt++) {
			if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
			const res = await ctx.db.doc.send(new BatchWriteCommand({ RequestItems: { [ctx.db.tables.search_terms]: requests } }));
			requests = res.UnprocessedItems?.[ctx.db.tables.search_terms] as typeof requests;
		}
	}
	return items.length;
}

/** The keys (`term`, `sort`) of an entry's items, as `indexKeyOf` strings. */
export const entryKeys = (e: SearchEntry): Set<string> => new Set(e.terms.map((t) => indexKeyOf({ term: pkOf(e.kind, t), sort: sortOf(e) })));
export const indexKeyOf = (k: { term: string; sort: string }) => `${k.term}${SEP}${k.sort}`;

export type IndexItemKey = { term: string; sort: string; kind: SearchKind; entity_id: string };

/** A page of every index item's key and owner, for the backfill's clean-up only (a maintenance Scan, never a request path). */
export async function scanIndexForMaintenance(ctx: Ctx, startKey?: Record<string, unknown>): Promise<{ items: IndexItemKey[]; lastKey?: Record<string, unknown> }> {
	const res = await ctx.db.doc.send(
		new ScanCommand({
			TableName: ctx.db.tables.search_terms,
			ProjectionExpression: '#t, #s, kind, entity_id',
			ExpressionAttributeNames: { '#t': 'term', '#s': 'sort' },
			Limit: 500,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as IndexItemKey[], lastKey: res.LastEvaluatedKey };
}

/** Deletes index items by key (the backfill's clean-up), 25 per request, unprocessed ones retried. */
export async function deleteIndexItems(ctx: Ctx, keys: { term: string; sort: string }[]): Promise<number> {
	for (let i = 0; i < keys.length; i += 25) {
		let requests: { DeleteRequest: { Key: Record<string, unknown> } }[] | undefined = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { term: k.term, sort: k.sort } } }));
		for (let attempt = 0; requests?.length; attempt++) {
			if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
			const res = await ctx.db.doc.send(new BatchWriteCommand({ RequestItems: { [ctx.db.tables.search_terms]: requests } }));
			requests = res.UnprocessedItems?.[ctx.db.tables.search_terms] as typeof requests;
		}
	}
	return keys.length;
}

/** What a hit must also satisfy, on carried attributes: equal to, starting with, or `name_key` containing. */
export type SearchFilter = { equals?: Record<string, string>; beginsWith?: Record<string, string>; nameWords?: string[] };

function filterExpression(f: SearchFilter | undefined) {
	const parts: string[] = [];
	const names: Record<string, string> = {};
	const values: Record<string, string> = {};
	let i = 0;
	for (const [attr, v] of Object.entries(f?.equals ?? {})) {
		names[`#f${i}`] = attr;
		values[`:f${i}`] = v;
		parts.push(`#f${i} = :f${i}`);
		i++;
	}
	for (const [attr, v] of Object.entries(f?.beginsWith ?? {})) {
		names[`#f${i}`] = attr;
		values[`:f${i}`] = v;
		parts.push(`begins_with(#f${i}, :f${i})`);
		i++;
	}
	for (const w of f?.nameWords ?? []) {
		names['#nk'] = 'name_key';
		values[`:f${i}`] = ` ${w}`;
		parts.push(`contains(#nk, :f${i})`);
		i++;
	}
	return parts.length ? { FilterExpression: parts.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values } : undefined;
}

/** Items a filtered query reads per round, and the rounds one request may spend (bounded work). */
const FILTERED_PAGE = 200;
const MAX_ROUNDS = 10;

/**
 * One page of the records under one term, in name order, from `after` (the sort key of the last
 * hit already shown). Filters are applied by DynamoDB to the carried attributes, and the query
 * loops until `limit` hits or the term is exhausted (at most MAX_ROUNDS reads, after which the
 * page may be short but `next` still says where to go on). `next` is null on the last page.
 */
export async function searchTerm(
	ctx: Ctx,
	q: { kind: SearchKind; term: string; filter?: SearchFilter; limit: number; after?: string }
): Promise<{ hits: SearchHit[]; next: string | null }> {
	const term = pkOf(q.kind, q.term);
	const filter = filterExpression(q.filter);
	const hits: SearchHit[] = [];
	let start: Record<string, unknown> | undefined = q.after ? { term, sort: q.after } : undefined;
	for (let round = 0; round < MAX_ROUNDS; round++) {
		const res = await ctx.db.doc.send(
			new QueryCommand({
				TableName: ctx.db.tables.search_terms,
				KeyConditionExpression: '#term = :term',
				...filter,
				ExpressionAttributeNames: { ...filter?.ExpressionAttributeNames, '#term': 'term' },
				ExpressionAttributeValues: { ...filter?.ExpressionAttributeValues, ':term': term },
				// One more than asked tells whether another page exists; a filtered read grows per round.
				Limit: filter ? Math.min(FILTERED_PAGE, (q.limit + 1) * 2 ** (round + 1)) : q.limit + 1 - hits.length,
				ExclusiveStartKey: start
			})
		);
		hits.push(...((res.Items ?? []) as SearchHit[]));
		if (hits.length > q.limit) return { hits: hits.slice(0, q.limit), next: hits[q.limit - 1]!.sort };
		if (!res.LastEvaluatedKey) return { hits, next: null };
		start = res.LastEvaluatedKey;
	}
	return { hits, next: String(start!.sort) };
}
