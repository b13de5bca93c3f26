import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query, withIfMatch } from '../http/validate';
import * as patients from '../services/patients';
import { id, patientUpdateSchema } from '$lib/shared/schemas';

const idParams = z.object({ id });
const searchQuery = z
	.object({
		name: z.string().trim().min(1, 'is required').max(120),
		cursor: z.string().max(2000).optional(),
		limit: z.coerce.number().int().min(1).max(50).default(20)
	})
	.strict();

export function patientRoutes(ctx: Ctx): Router {
	const r = Router();

	r.get('/patients', async (req, res) => {
		const q = query(req, searchQuery);
		res.json(await patients.searchPatients(ctx, req.caller, q));
	});

	r.get('/patients/:id', async (req, res) => {
		const p = params(req, idParams);
		const patient = await patients.readPatient(ctx, req.caller, p.id);
		res.setHeader('ETag', `W/"${patient.version}"`);
		res.json({ patient });
	});

	r.patch('/patients/:id', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		const input = body(req, patientUpdateSchema);
		const patient = await patients.updatePatient(ctx, req.caller, p.id, input);
		res.setHeader('ETag', `W/"${patient.version}"`);
		res.json({ patient });
	});

	return r;
}
