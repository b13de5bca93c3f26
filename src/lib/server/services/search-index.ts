import type { Ctx } from '../context';
import { putIndexEntries } from '../db/search-index';
import { patientSearchEntry, scanPatientsForMaintenance } from '../repositories/patients';
import { scanUsersForMaintenance, userSearchEntry } from '../repositories/users';

/**
 * Backfill of the search index (`npm run worker -- --once search-index`): every patient and
 * account gets its index items, as their own writes would have put them. For databases seeded
 * before the index existed; safe to run again (Puts of the same items). It reads whole tables
 * with Scan, the one place that does: a maintenance job an operator runs, never a request path.
 * Items of names a record no longer has are not looked for: since the index exists every write
 * removes them in its own transaction.
 */
export async function rebuildSearchIndex(ctx: Ctx, opts: { signal?: AbortSignal } = {}): Promise<{ patients: number; users: number; items: number }> {
	const out = { patients: 0, users: 0, items: 0 };
	let key: Record<string, unknown> | undefined;
	do {
		opts.signal?.throwIfAborted();
		const page = await scanPatientsForMaintenance(ctx, key);
		out.items += await putIndexEntries(ctx, page.items.map(patientSearchEntry));
		out.patients += page.items.length;
		key = page.lastKey;
	} while (key);
	do {
		opts.signal?.throwIfAborted();
		const page = await scanUsersForMaintenance(ctx, key);
		out.items += await putIndexEntries(ctx, page.items.map(userSearchEntry));
		out.users += page.items.length;
		key = page.lastKey;
	} while (key);
	return out;
}
