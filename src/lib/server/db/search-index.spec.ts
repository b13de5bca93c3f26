import { describe, expect, it } from 'vitest';
import type { Ctx } from '../context';
import { indexWrites, sortOf, type SearchEntry } from './search-index';

const ctx = { db: { tables: { search_terms: 'search_terms' } } } as unknown as Ctx;
const entry = (over: Partial<SearchEntry> = {}): SearchEntry => ({
	kind: 'patient',
	id: 'p1',
	name: 'María Gómez',
	terms: ['n:m', 'n:ma', 'n:g', 'p:+12025550143'],
	data: { phone: '+12025550143' },
	...over
});
const keys = (items: ReturnType<typeof indexWrites>, op: 'Put' | 'Delete') =>
	items.flatMap((i) => (op === 'Put' ? (i.Put ? [`${i.Put.Item!.term}|${i.Put.Item!.sort}`] : []) : i.Delete ? [`${i.Delete.Key!.term}|${i.Delete.Key!.sort}`] : []));

describe('indexWrites', () => {
	it('a new record puts one item per distinct term, sorted by its normalised name, carrying its fields', () => {
		const w = indexWrites(ctx, undefined, entry({ terms: ['n:m', 'n:m', 'b:A+'] }));
		expect(w).toHaveLength(2);
		expect(w[0]!.Put!.Item).toMatchObject({ term: 'patient#n:m', sort: 'maria gomez\u0001p1', entity_id: 'p1', name: 'María Gómez', name_key: ' maria gomez', phone: '+12025550143' });
	});

	it('nothing to write when nothing indexed changed', () => {
		expect(indexWrites(ctx, entry(), entry())).toEqual([]);
	});

	it('a rename deletes every old key and puts every new one (the sort key changed)', () => {
		const w = indexWrites(ctx, entry(), entry({ name: 'María Quintero', terms: ['n:m', 'n:ma', 'n:q', 'p:+12025550143'] }));
		expect(keys(w, 'Delete').sort()).toEqual(['patient#n:g', 'patient#n:m', 'patient#n:ma', 'patient#p:+12025550143'].map((t) => `${t}|maria gomez\u0001p1`).sort());
		expect(keys(w, 'Put')).toHaveLength(4);
		expect(keys(w, 'Put').every((k) => k.endsWith('maria quintero\u0001p1'))).toBe(true);
	});

	it('a new phone deletes only the old phone item and rewrites the rest; no key is both deleted and put', () => {
		const w = indexWrites(ctx, entry(), entry({ terms: ['n:m', 'n:ma', 'n:g', 'p:+12025550166'], data: { phone: '+12025550166' } }));
		expect(keys(w, 'Delete')).toEqual([`patient#p:+12025550143|${sortOf(entry())}`]);
		const put = keys(w, 'Put');
		expect(put).toHaveLength(4);
		expect(put.filter((k) => keys(w, 'Delete').includes(k))).toEqual([]);
	});
});
