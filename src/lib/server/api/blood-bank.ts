import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query, withIfMatch } from '../http/validate';
import * as bloodBank from '../services/blood-bank';
import * as donors from '../services/donors';
import { id } from '$lib/shared/schemas';
import {
	bloodComponent,
	donationRequestSchema,
	donationSchema,
	donorSignupSchema,
	issueSchema,
	stockParams,
	thresholdSchema,
	unitCreateSchema,
	unitStatusSchema
} from '$lib/shared/blood';
import { bloodGroup } from '$lib/shared/schemas';

const idParams = z.object({ id }).strict();
const unitsQuery = z.object({ bloodGroup, component: bloodComponent }).strict();
const donorsQuery = z.object({ bloodGroup }).strict();

/** /api/blood-bank: stock, units, issues, thresholds, donors and donation requests. */
export function bloodBankRoutes(ctx: Ctx): Router {
	const r = Router();

	r.get('/blood-bank/stock', async (req, res) => {
		res.json({ stock: await bloodBank.readStock(ctx, req.caller) });
	});

	r.patch('/blood-bank/stock/:bloodGroup/:component', async (req, res) => {
		const p = params(req, stockParams);
		req.body = withIfMatch(req);
		const row = await bloodBank.setThreshold(ctx, req.caller, p.bloodGroup, p.component, body(req, thresholdSchema));
		res.json({ stock: row });
	});

	r.get('/blood-bank/units', async (req, res) => {
		const q = query(req, unitsQuery);
		res.json({ units: await bloodBank.listAvailableUnits(ctx, req.caller, q.bloodGroup, q.component) });
	});

	r.post('/blood-bank/units', async (req, res) => {
		res.status(201).json({ unit: await bloodBank.addUnit(ctx, req.caller, body(req, unitCreateSchema)) });
	});

	r.patch('/blood-bank/units/:id', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ unit: await bloodBank.changeUnitStatus(ctx, req.caller, p.id, body(req, unitStatusSchema)) });
	});

	r.post('/blood-bank/issues', async (req, res) => {
		const out = await bloodBank.issueUnits(ctx, req.caller, body(req, issueSchema));
		res.status(201).json(out);
	});

	// Donors: a patient signs themselves up; admins list, ask and verify.
	r.get('/blood-bank/donors/me', async (req, res) => {
		res.json({ donor: await donors.readOwnDonor(ctx, req.caller) });
	});

	r.put('/blood-bank/donors/me', async (req, res) => {
		res.json({ donor: await donors.signUpDonor(ctx, req.caller, body(req, donorSignupSchema)) });
	});

	r.get('/blood-bank/donors', async (req, res) => {
		const q = query(req, donorsQuery);
		res.json({ donors: await donors.listDonors(ctx, req.caller, q.bloodGroup) });
	});

	r.get('/blood-bank/donation-requests', async (req, res) => {
		res.json({ requests: await donors.listDonationRequests(ctx, req.caller) });
	});

	r.post('/blood-bank/donation-requests', async (req, res) => {
		res.status(201).json(await donors.createDonationRequest(ctx, req.caller, body(req, donationRequestSchema)));
	});

	r.post('/blood-bank/donations', async (req, res) => {
		res.status(201).json(await donors.verifyDonation(ctx, req.caller, body(req, donationSchema)));
	});

	return r;
}
