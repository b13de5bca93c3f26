import { Router } from 'express';
import type { Ctx } from '../context';
import { pingDb } from '../db/client';
import { DbUnavailableError } from '../db/guard';
import { workerHealth } from '../services/leader';
import { seesOperations } from '$lib/shared/policy';

/**
 * GET /api/health. Anyone (a load balancer) gets the status only: 200 `{ status: 'ok' }`, or
 * 503 `{ status: 'unavailable', error: { code: 'DATABASE_UNAVAILABLE', … } }` within the
 * guard's probe deadline (1 s) when DynamoDB does not answer, at once while the breaker is
 * open. A signed-in admin or super admin also gets the details: database latency and guard
 * state, the scheduler's heartbeat and the version.
 */
export function healthRoutes(ctx: Ctx): Router {
	const r = Router();
	r.get('/health', async (req, res) => {
		const role = req.caller?.actor?.role;
		const detailed = seesOperations(role);
		let latencyMs: number | null = null;
		let down: DbUnavailableError | undefined;
		try {
			latencyMs = await pingDb(ctx.db);
		} catch (err) {
			// Unreachable, or it answered with an error (a missing table): either way not serving.
			down = err instanceof DbUnavailableError ? err : new DbUnavailableError('unreachable', { cause: err });
			if (!(err instanceof DbUnavailableError)) ctx.log.warn('health: database answered with an error', { error: (err as Error).name });
		}
		const body: Record<string, unknown> = down
			? { status: 'unavailable', ...down.toBody(req.requestId) }
			: { status: 'ok' };
		if (detailed) {
			body.version = ctx.config.version;
			body.database = { reachable: !down, latencyMs, guard: ctx.db.guard.stats() };
			// The scheduler leader's last heartbeat; a stale worker does not make the web instance unhealthy.
			body.worker = down ? null : await workerHealth(ctx).catch(() => null);
		}
		if (down) for (const [k, v] of Object.entries(down.headers)) res.setHeader(k, v);
		res.status(down ? 503 : 200).json(body);
	});
	return r;
}
