import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query } from '../http/validate';
import * as pharmacy from '../services/pharmacy';
import { dispense } from '../services/dispensing';
import { inventoryReport, reportCsv } from '../services/pharmacy-report';
import { pharmacyQueue } from '../services/prescriptions';
import { id } from '$lib/shared/schemas';
import { batchCreateSchema, dispenseSchema, medicineCreateSchema, medicineSearchSchema, reportQuerySchema } from '$lib/shared/pharmacy';

const idParams = z.object({ id }).strict();
const queueQuery = z
	.object({ cursor: z.string().max(2000).optional(), limit: z.coerce.number().int().min(1).max(100).default(50) })
	.strict();

/** Medicines, batches, dispensing, the prescription queue, alerts and the inventory report. */
export function pharmacyRoutes(ctx: Ctx): Router {
	const r = Router();

	r.get('/medicines', async (req, res) => {
		res.json(await pharmacy.searchMedicines(ctx, req.caller, query(req, medicineSearchSchema)));
	});

	r.post('/medicines', async (req, res) => {
		res.status(201).json({ medicine: await pharmacy.createMedicine(ctx, req.caller, body(req, medicineCreateSchema)) });
	});

	r.get('/medicines/:id', async (req, res) => {
		res.json({ medicine: await pharmacy.readMedicine(ctx, req.caller, params(req, idParams).id) });
	});

	r.post('/medicines/:id/batches', async (req, res) => {
		const p = params(req, idParams);
		res.status(201).json(await pharmacy.receiveBatch(ctx, req.caller, p.id, body(req, batchCreateSchema)));
	});

	r.post('/dispensations', async (req, res) => {
		res.status(201).json({ dispensation: await dispense(ctx, req.caller, body(req, dispenseSchema)) });
	});

	r.get('/pharmacy/queue', async (req, res) => {
		res.json(await pharmacyQueue(ctx, req.caller, query(req, queueQuery)));
	});

	r.get('/pharmacy/alerts', async (req, res) => {
		res.json({ alerts: await pharmacy.currentAlerts(ctx, req.caller) });
	});

	r.get('/pharmacy/report', async (req, res) => {
		res.json({ report: await inventoryReport(ctx, req.caller, query(req, reportQuerySchema)) });
	});

	r.get('/pharmacy/report.csv', async (req, res) => {
		const q = query(req, reportQuerySchema);
		const report = await inventoryReport(ctx, req.caller, q);
		res.setHeader('Content-Type', 'text/csv; charset=utf-8');
		res.setHeader('Content-Disposition', `attachment; filename="inventory-${q.from}-to-${q.to}.csv"`);
		res.send(reportCsv(report));
	});

	return r;
}
