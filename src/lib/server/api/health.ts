import { Router } from 'express';
import type { Ctx } from '../context';
import { pingDb } from '../db/client';
import { workerHealth } from '../services/leader';

export function healthRoutes(ctx: Ctx): Router {
	const r = Router();
	r.get('/health', async (_req, res) => {
		try {
			const latencyMs = await pingDb(ctx.db);
			// The scheduler leader's last heartbeat; a stale worker does not make the web instance unhealthy.
			const worker = await workerHealth(ctx).catch(() => null);
			res.json({ status: 'ok', version: ctx.config.version, database: { reachable: true, latencyMs }, worker });
		} catch (err) {
			ctx.log.warn('health: database unreachable', { error: (err as Error).name });
			res.status(503).json({
				status: 'unavailable',
				version: ctx.config.version,
				database: { reachable: false },
				error: { code: 'SERVICE_UNAVAILABLE', message: 'The database is not reachable.' }
			});
		}
	});
	return r;
}

