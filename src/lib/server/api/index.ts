import { Router } from 'express';
import type { Ctx } from '../context';
import { authRoutes } from './auth';
import { patientRoutes } from './patients';
import { adminRoutes } from './admin';
import { auditRoutes } from './audit';
import { healthRoutes } from './health';
import { appointmentRoutes } from './appointments';
import { notificationRoutes } from './notifications';
import { chatRoutes } from './chat';
import { outboxRoutes } from './outbox';
import { internalRoutes } from './internal';
import { pharmacyRoutes } from './pharmacy';
import { bloodBankRoutes } from './blood-bank';
import { emergencyRoutes, hospitalRoutes } from './hospitals';
import { analyticsRoutes } from './analytics';

/** Every /api router, mounted in one place. */
export function apiRouter(ctx: Ctx): Router {
	const r = Router();
	r.use(healthRoutes(ctx));
	r.use(authRoutes(ctx));
	r.use(patientRoutes(ctx));
	r.use(adminRoutes(ctx));
	r.use(auditRoutes(ctx));
	r.use(appointmentRoutes(ctx));
	r.use(notificationRoutes(ctx));
	r.use(chatRoutes(ctx));
	r.use(outboxRoutes(ctx));
	r.use(pharmacyRoutes(ctx));
	r.use(internalRoutes(ctx));
	r.use(bloodBankRoutes(ctx));
	r.use(hospitalRoutes(ctx));
	r.use(emergencyRoutes(ctx));
	r.use(analyticsRoutes(ctx));
	return r;
}
