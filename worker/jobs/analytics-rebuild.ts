import type { Job } from '../scheduler';
import { rebuildAnalytics } from '../../src/lib/server/services/analytics';

/**
 * Recounts the dashboards' aggregates from the raw appointments and invoices (a Scan: a
 * maintenance job). On demand only (`npm run worker -- --once analytics-rebuild`): the writes
 * keep the aggregates in their own transactions, so a schedule would only add load.
 */
export const analyticsRebuild: Job = {
	name: 'analytics-rebuild',
	cron: null,
	run: (ctx) => rebuildAnalytics(ctx)
};
