import type { Job } from '../scheduler';
import { systemCaller } from '../../src/lib/server/actor';
import { markOverdueAsMissed } from '../../src/lib/server/services/appointment-sweeps';

/** Hourly: appointments still waiting MISSED_GRACE_HOURS after their start become MISSED. */
export const missed: Job = {
	name: 'missed',
	cron: '15 * * * *',
	run: (ctx, { signal, workerId }) => markOverdueAsMissed(ctx, systemCaller(`worker:${workerId}`), { signal })
};
