import type { Job } from '../scheduler';
import { sendDueReminders } from '../../src/lib/server/services/appointment-sweeps';

/** Hourly: the 24-hour reminder (in-app + SMS) for appointments starting 24–25 hours from now. */
export const reminders: Job = {
	name: 'reminders',
	cron: '0 * * * *',
	run: (ctx, { signal, workerId }) => sendDueReminders(ctx, { signal, workerId })
};
