import { Router } from 'express';
import type { Ctx } from '../context';
import { params, query } from '../http/validate';
import * as analytics from '../services/analytics';
import { adminDashboardQuery, doctorDashboardParams, drillDownQuery } from '$lib/shared/analytics';

/** /api/analytics: the admin's and a doctor's dashboards, and the drill-down lists behind the charts. */
export function analyticsRoutes(ctx: Ctx): Router {
	const r = Router();

	r.get('/analytics/admin', async (req, res) => {
		const q = query(req, adminDashboardQuery);
		res.json(await analytics.adminDashboard(ctx, req.caller, { days: q.days }));
	});

	r.get('/analytics/doctor/:id', async (req, res) => {
		const p = params(req, doctorDashboardParams);
		res.json(await analytics.doctorDashboard(ctx, req.caller, p.id));
	});

	r.get('/analytics/appointments', async (req, res) => {
		res.json(await analytics.drillDown(ctx, req.caller, query(req, drillDownQuery)));
	});

	return r;
}
