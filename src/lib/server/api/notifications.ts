import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, query } from '../http/validate';
import { listNotifications, markNotificationRead } from '../services/notifications';

export function notificationRoutes(ctx: Ctx): Router {
	const r = Router();
	r.get('/notifications', async (req, res) => {
		const q = query(req, z.object({ cursor: z.string().max(2000).optional(), limit: z.coerce.number().int().min(1).max(100).default(20) }).strict());
		res.json(await listNotifications(ctx, req.caller, q));
	});
	r.post('/notifications/read', async (req, res) => {
		const b = body(req, z.object({ sortKeys: z.array(z.string().min(1).max(200)).min(1).max(100) }).strict());
		for (const k of b.sortKeys) await markNotificationRead(ctx, req.caller, k);
		res.status(204).end();
	});
	return r;
}
