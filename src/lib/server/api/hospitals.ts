import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query, withIfMatch } from '../http/validate';
import * as hospitals from '../services/hospitals';
import * as ambulance from '../services/ambulance';
import * as ventilators from '../services/ventilators';
import { movesQuerySchema, ventilatorCreateSchema, ventilatorMoveSchema } from '$lib/shared/ventilators';
import { haveXml } from '../services/have';
import * as emergencies from '../services/emergencies';
import { emergencyCreateSchema } from '$lib/shared/emergencies';
import { id } from '$lib/shared/schemas';
import { alertCreateSchema, alertResponseSchema, alertStatusSchema, bedChangeSchema, hospitalCreateSchema, pandemicSchema, selectionSchema } from '$lib/shared/hospitals';

const idParams = z.object({ id }).strict();
const alertsQuery = z.object({ hospitalId: id.optional() }).strict();

/** /api/hospitals (sites, beds, pandemic mode) and /api/ambulance-alerts. */
export function hospitalRoutes(ctx: Ctx): Router {
	const r = Router();

	r.get('/hospitals', async (req, res) => {
		res.json({ hospitals: await hospitals.listHospitals(ctx, req.caller) });
	});

	r.post('/hospitals', async (req, res) => {
		res.status(201).json({ hospital: await hospitals.createHospital(ctx, req.caller, body(req, hospitalCreateSchema)) });
	});

	r.get('/hospitals/:id', async (req, res) => {
		const p = params(req, idParams);
		res.json({ hospital: await hospitals.readHospital(ctx, req.caller, p.id) });
	});

	r.get('/hospitals/:id/have.xml', async (req, res) => {
		const p = params(req, idParams);
		res.type('application/xml').send(await haveXml(ctx, req.caller, p.id));
	});

	r.post('/hospitals/:id/beds', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ hospital: await hospitals.changeBeds(ctx, req.caller, p.id, body(req, bedChangeSchema)) });
	});

	r.patch('/hospitals/:id/pandemic', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ hospital: await hospitals.setPandemic(ctx, req.caller, p.id, body(req, pandemicSchema)) });
	});

	r.get('/hospitals/:id/ventilators', async (req, res) => {
		const p = params(req, idParams);
		res.json({ ventilators: await ventilators.listVentilators(ctx, req.caller, p.id) });
	});

	r.post('/hospitals/:id/ventilators', async (req, res) => {
		const p = params(req, idParams);
		res.status(201).json({ ventilator: await ventilators.registerVentilator(ctx, req.caller, p.id, body(req, ventilatorCreateSchema)) });
	});

	r.get('/ventilators/:id', async (req, res) => {
		const p = params(req, idParams);
		res.json(await ventilators.readVentilator(ctx, req.caller, p.id, query(req, movesQuerySchema)));
	});

	r.post('/ventilators/:id/moves', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ ventilator: await ventilators.moveVentilator(ctx, req.caller, p.id, body(req, ventilatorMoveSchema)) });
	});

	r.get('/ambulance-alerts', async (req, res) => {
		const q = query(req, alertsQuery);
		res.json({ alerts: await ambulance.listAlerts(ctx, req.caller, q.hospitalId) });
	});

	r.post('/ambulance-alerts', async (req, res) => {
		res.status(201).json(await ambulance.createAlert(ctx, req.caller, body(req, alertCreateSchema)));
	});

	r.get('/ambulance-alerts/:id', async (req, res) => {
		const p = params(req, idParams);
		res.json(await ambulance.readAlert(ctx, req.caller, p.id));
	});

	r.post('/ambulance-alerts/:id/selection', async (req, res) => {
		const p = params(req, idParams);
		const b = body(req, selectionSchema);
		res.json({ alert: await ambulance.selectHospital(ctx, req.caller, p.id, b.hospitalId) });
	});

	r.post('/ambulance-alerts/:id/status', async (req, res) => {
		const p = params(req, idParams);
		const b = body(req, alertStatusSchema);
		res.json({ alert: await ambulance.closeAlert(ctx, req.caller, p.id, b.status) });
	});

	r.post('/ambulance-alerts/:id/responses', async (req, res) => {
		const p = params(req, idParams);
		const b = body(req, alertResponseSchema);
		res.json({ alert: await ambulance.respondToAlert(ctx, req.caller, p.id, b) });
	});

	return r;
}

/** /api/emergencies: internal emergencies, acknowledgements, resolution. */
export function emergencyRoutes(ctx: Ctx): Router {
	const r = Router();
	r.get('/emergencies', async (req, res) => {
		res.json({ emergencies: await emergencies.listActive(ctx, req.caller) });
	});
	r.post('/emergencies', async (req, res) => {
		res.status(201).json({ emergency: await emergencies.raiseEmergency(ctx, req.caller, body(req, emergencyCreateSchema)) });
	});
	r.get('/emergencies/:id', async (req, res) => {
		res.json({ emergency: await emergencies.readEmergency(ctx, req.caller, params(req, idParams).id) });
	});
	r.post('/emergencies/:id/acknowledgements', async (req, res) => {
		res.status(201).json({ emergency: await emergencies.acknowledge(ctx, req.caller, params(req, idParams).id) });
	});
	r.post('/emergencies/:id/resolution', async (req, res) => {
		res.json({ emergency: await emergencies.resolveEmergency(ctx, req.caller, params(req, idParams).id) });
	});
	return r;
}
