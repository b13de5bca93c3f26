import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query, withIfMatch } from '../http/validate';
import * as patients from '../services/patients';
import { grantEmergencyAccess } from '../services/emergency-access';
import { bloodGroup, id, patientUpdateSchemaWith } from '$lib/shared/schemas';
import { phoneNumber } from '$lib/shared/phone';
import { lineText } from '$lib/shared/text';
import { allergiesUpdateSchema } from '$lib/shared/allergies';

const idParams = z.object({ id });
/** The first search (`?name=`, 50 a page): kept for old clients, answered by the new search on `q`. */
const legacyQuery = z
	.object({
		name: lineText(120, 1),
		cursor: z.string().max(2000).optional(),
		limit: z.coerce.number().int().min(1).max(50).default(20)
	})
	.strict();

const searchQuery = (phone: ReturnType<typeof phoneNumber>) =>
	z
		.object({
			q: lineText(120, 1).optional(),
			phone: phone.optional(),
			bloodGroup: bloodGroup.optional(),
			cursor: z.string().max(2000).optional(),
			limit: z.coerce.number().int().min(1).max(100).default(20)
		})
		.strict();

const emergencyBody = z.object({ reason: lineText(500, 10, 'say why you need this chart, in at least 10 characters') }).strict();

export function patientRoutes(ctx: Ctx): Router {
	const r = Router();
	const patientUpdateSchema = patientUpdateSchemaWith(phoneNumber(ctx.config.phoneRegion));
	const searchSchema = searchQuery(phoneNumber(ctx.config.phoneRegion));

	r.get('/patients/search', async (req, res) => {
		res.json(await patients.findPatients(ctx, req.caller, query(req, searchSchema)));
	});

	r.get('/patients', async (req, res) => {
		const { name, ...rest } = query(req, legacyQuery);
		const found = await patients.findPatients(ctx, req.caller, { q: name, ...rest });
		res.json({ items: found.patients, nextCursor: found.nextCursor });
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

	r.put('/patients/:id/allergies', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ patient: await patients.updateAllergies(ctx, req.caller, p.id, body(req, allergiesUpdateSchema)) });
	});

	// Break the glass: read access to a chart outside care, for a while, with a reason.
	r.post('/patients/:id/emergency-access', async (req, res) => {
		const p = params(req, idParams);
		const access = await grantEmergencyAccess(ctx, req.caller, p.id, body(req, emergencyBody).reason);
		res.status(access.kind === 'emergency' ? 201 : 200).json({ access });
	});

	return r;
}
