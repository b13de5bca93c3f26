import type { Job } from '../scheduler';
import { deliverDue, type DeliveryReport } from '../../src/lib/server/services/delivery';

/** Every minute: deliver due SMS/e-mail, a few batches at most, so a backlog drains between beats. */
export const outbox: Job = {
	name: 'outbox',
	cron: '* * * * *',
	async run(ctx, { signal, workerId }) {
		const total: DeliveryReport = { sent: 0, logged: 0, retrying: 0, dead: 0, skipped: 0, lost: 0 };
		for (let round = 0; round < 10 && !signal.aborted; round++) {
			const r = await deliverDue(ctx, { workerId, signal });
			for (const k of Object.keys(total) as (keyof DeliveryReport)[]) total[k] += r[k];
			if (Object.values(r).every((n) => n === 0)) break;
		}
		return total;
	}
};
