import type { Job } from '../scheduler';
import { rebuildSearchIndex } from '../../src/lib/server/services/search-index';

/** On demand only: index items for every patient and account (databases seeded before the search index). */
export const searchIndex: Job = {
	name: 'search-index',
	cron: null,
	run: (ctx, { signal }) => rebuildSearchIndex(ctx, { signal })
};
