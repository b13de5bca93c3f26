import type { Job } from '../scheduler';
import { removeExpired } from '../../src/lib/server/services/housekeeping';

/** Daily: expired sessions, reset tokens and lock rows. */
export const housekeeping: Job = {
	name: 'housekeeping',
	cron: '30 3 * * *',
	run: (ctx, { signal }) => removeExpired(ctx, { signal })
};
