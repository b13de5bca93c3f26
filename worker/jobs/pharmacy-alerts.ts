import type { Job } from '../scheduler';
import { runPharmacyAlerts } from '../../src/lib/server/services/pharmacy';

/** Hourly: expired batches written off; expiry (30/15/7/3/1 days) and low-stock alerts, each told once. */
export const pharmacyAlerts: Job = {
	name: 'pharmacy-alerts',
	cron: '40 * * * *',
	run: (ctx, { signal }) => runPharmacyAlerts(ctx, { signal })
};
