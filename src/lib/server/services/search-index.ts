import type { Ctx } from '../context';
import { deleteIndexItems, entryKeys, indexKeyOf, putIndexEntries, scanIndexForMaintenance, type IndexItemKey, type SearchEntry, type SearchKind } from '../db/search-index';
import { getPatient, patientSearchEntry, scanPatientsForMaintenance } from '../repositories/patients';
import { getUsers, scanUsersForMaintenance, userSearchEntry } from '../repositories/users';

/**
 * Rebuild of the search index (`npm run worker -- --once search-index`): every patient and
 * account gets its index items, as their own writes would have put them, and every item that
 * the record as stored now would not have is deleted (items of an older normalisation of the
 * name, of a record that is gone, or left by a write that raced this job). For databases seeded
 * before the index existed, or after `shared/search.ts` changes how names are normalised;
 * safe to run again. It reads whole tables with Scan: a maintenance job an operator runs, never
 * a request path. An item is deleted only if the record read again just before (strongly
 * consistent) still does not have it, so a rename during the run keeps its new items.
 */
export async function rebuildSearchIndex(ctx: Ctx, opts: { signal?: AbortSignal } = {}): Promise<{ patients: number; users: number; items: number; deleted: number }> {
	const out = { patients: 0, users: 0, items: 0, deleted: 0 };
	/** What each record looked like when it was indexed above (the fields its entry is made of). */
	const seen = new Map<string, SearchEntry>();
	let key: Record<string, unknown> | undefined;
	do {
		opts.signal?.throwIfAborted();
		const page = await scanPatientsForMaintenance(ctx, key);
		const entries = page.items.map(patientSearchEntry);
		out.items += await putIndexEntries(ctx, entries);
		for (const e of entries) seen.set(`patient#${e.id}`, { ...e, terms: [] });
		out.patients += page.items.length;
		key = page.lastKey;
	} while (key);
	do {
		opts.signal?.throwIfAborted();
		const page = await scanUsersForMaintenance(ctx, key);
		const entries = page.items.map(userSearchEntry);
		out.items += await putIndexEntries(ctx, entries);
		for (const e of entries) seen.set(`user#${e.id}`, { ...e, terms: [] });
		out.users += page.items.length;
		key = page.lastKey;
	} while (key);
	do {
		opts.signal?.throwIfAborted();
		const page = await scanIndexForMaintenance(ctx, key);
		out.deleted += await deleteStale(ctx, page.items, seen);
		key = page.lastKey;
	} while (key);
	return out;
}

/** The entry a record has now (read strongly), or undefined when the record is gone. */
async function freshEntries(ctx: Ctx, owners: IndexItemKey[]): Promise<Map<string, SearchEntry>> {
	const out = new Map<string, SearchEntry>();
	const userIds = [...new Set(owners.filter((o) => o.kind === 'user').map((o) => o.entity_id))];
	const patientIds = [...new Set(owners.filter((o) => o.kind === 'patient').map((o) => o.entity_id))];
	for (let i = 0; i < userIds.length; i += 100) for (const u of await getUsers(ctx, userIds.slice(i, i + 100))) out.set(`user#${u.id}`, userSearchEntry(u));
	for (const p of await Promise.all(patientIds.map((id) => getPatient(ctx, id)))) if (p) out.set(`patient#${p.id}`, patientSearchEntry(p));
	return out;
}

/** Deletes the items of a page that their record, as indexed and as read again now, does not have. */
async function deleteStale(ctx: Ctx, items: IndexItemKey[], seen: Map<string, SearchEntry>): Promise<number> {
	const keysOf = new Map<string, Set<string>>();
	const keys = (owner: string, entry: SearchEntry | undefined, kind: SearchKind) => {
		if (!entry) return new Set<string>();
		let k = keysOf.get(`${owner}|${kind}`);
		if (!k) keysOf.set(`${owner}|${kind}`, (k = entryKeys(entry.terms.length ? entry : rebuiltEntry(entry, kind))));
		return k;
	};
	const suspects = items.filter((i) => !keys(`seen:${i.kind}#${i.entity_id}`, seen.get(`${i.kind}#${i.entity_id}`), i.kind).has(indexKeyOf(i)));
	if (!suspects.length) return 0;
	const fresh = await freshEntries(ctx, suspects);
	const stale = suspects.filter((i) => !keys(`fresh:${i.kind}#${i.entity_id}`, fresh.get(`${i.kind}#${i.entity_id}`), i.kind).has(indexKeyOf(i)));
	return deleteIndexItems(ctx, stale);
}

/** An entry kept without its terms (to save memory over a whole table) made whole again. */
function rebuiltEntry(e: SearchEntry, kind: SearchKind): SearchEntry {
	return kind === 'patient'
		? patientSearchEntry({ id: e.id, name: e.name, phone: e.data.phone!, blood_group: e.data.blood_group!, date_of_birth: e.data.date_of_birth! })
		: userSearchEntry({ id: e.id, name: e.name, email: e.data.email!, role: e.data.role as never });
}
