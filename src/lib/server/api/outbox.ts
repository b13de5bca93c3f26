import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { params, query } from '../http/validate';
import { listOutbox, OUTBOX_STATUSES, retryOutbox } from '../services/delivery';
import { id } from '$lib/shared/schemas';

const listQuery = z
	.object({
		status: z.enum(OUTBOX_STATUSES, { message: `must be one of ${OUTBOX_STATUSES.join(', ')}` }).optional(),
		cursor: z.string().max(1000).optional(),
		limit: z.coerce.number().int().min(1).max(200).default(50)
	})
	.strict();

/** The outbox as administrators see it: every SMS/e-mail, its state, and a retry for dead ones. */
export function outboxRoutes(ctx: Ctx): Router {
	const r = Router();
	r.get('/admin/outbox', async (req, res) => {
		const q = query(req, listQuery);
		res.json(await listOutbox(ctx, req.caller, q));
	});
	r.post('/admin/outbox/:id/retry', async (req, res) => {
		const p = params(req, z.object({ id }));
		res.json({ entry: await retryOutbox(ctx, req.caller, p.id) });
	});
	return r;
}
