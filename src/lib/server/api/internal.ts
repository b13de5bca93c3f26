import { Router } from 'express';
import type { Ctx } from '../context';
import { AppError } from '../errors';
import { body } from '../http/validate';
import { broadcastBatch, internalToken, sameSecret } from '../realtime/internal';
import type { ServerToClientEvents } from '$lib/shared/realtime';

/**
 * `POST /api/internal/broadcast`: bus events from a worker in another process (when there is
 * no REDIS_URL), emitted here to this instance's sockets. Only a caller holding the shared
 * secret (X-Internal-Token) gets in; nobody signs in to it.
 */
export function internalRoutes(ctx: Ctx): Router {
	const r = Router();
	let token: string | undefined;
	r.post('/internal/broadcast', (req, res) => {
		token ??= internalToken(ctx.config, { create: false });
		const given = req.get('x-internal-token');
		if (!token || !given || !sameSecret(given, token)) {
			ctx.log.warn('internal broadcast refused', { requestId: req.requestId });
			throw new AppError(403, 'FORBIDDEN', 'This endpoint is for MedTrack processes only.');
		}
		const batch = body(req, broadcastBatch);
		for (const e of batch.events) {
			if ('disconnect' in e) ctx.bus.disconnectRoom(e.room);
			else {
				const event = e.event as keyof ServerToClientEvents;
				ctx.bus.emit(e.room, event, e.payload as Parameters<ServerToClientEvents[typeof event]>[0]);
			}
		}
		res.status(202).json({ accepted: batch.events.length });
	});
	return r;
}
