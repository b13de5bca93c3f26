import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { query } from '../http/validate';
import { authorize } from '../auth/guard';
import { listAudit } from '../services/audit';

const isoInstant = z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s).toISOString());

const auditQuery = z
	.object({
		user: z.string().trim().min(1).max(100).optional(),
		resourceType: z.string().trim().regex(/^[a-z_]{1,40}$/, 'must be a resource type such as patient').optional(),
		resourceId: z.string().trim().min(1).max(100).optional(),
		from: isoInstant.optional(),
		to: isoInstant.optional(),
		cursor: z.string().max(4000).optional(),
		limit: z.coerce.number().int().min(1).max(200).default(50)
	})
	.strict();

export function auditRoutes(ctx: Ctx): Router {
	const r = Router();
	r.get('/audit-logs', async (req, res) => {
		const q = query(req, auditQuery);
		await authorize(ctx, req.caller, 'audit_log', 'read');
		res.json(await listAudit(ctx, q));
	});
	return r;
}
