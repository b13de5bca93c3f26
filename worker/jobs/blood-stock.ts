import type { Job } from '../scheduler';
import { systemCaller } from '../../src/lib/server/actor';
import { expireUnits } from '../../src/lib/server/services/blood-bank';

/** Every 15 minutes: expire blood units past their date, then re-check every threshold crossing. */
export const bloodStock: Job = {
	name: 'blood-stock',
	cron: '*/15 * * * *',
	run: (ctx, { signal, workerId }) => expireUnits(ctx, systemCaller(`worker:${workerId}`), { signal })
};
