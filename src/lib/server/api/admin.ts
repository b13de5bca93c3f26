import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query, withIfMatch } from '../http/validate';
import { passwordSchema } from '../auth/passwords';
import * as users from '../services/users';
import { sendResetLinkToUser } from '../services/auth';
import {
	bloodGroup,
	dateOfBirth,
	email,
	id,
	personName,
	role,
	SPECIALIZATIONS,
	version
} from '$lib/shared/schemas';
import { phoneNumber } from '$lib/shared/phone';
import { lineText } from '$lib/shared/text';

const createBody = (phone: ReturnType<typeof phoneNumber>) => z
	.object({
		name: personName,
		email,
		role,
		password: passwordSchema,
		phone: phone.optional(),
		department: lineText(80, 1).optional(),
		hospitalId: id.optional(),
		specialization: z.enum(SPECIALIZATIONS, { message: `must be one of ${SPECIALIZATIONS.join(', ')}` }).optional(),
		licenceNumber: z.string().trim().regex(/^[A-Za-z0-9-]{4,30}$/, 'must be 4–30 letters, digits or dashes').optional(),
		dateOfBirth: dateOfBirth.optional(),
		bloodGroup: bloodGroup.optional()
	})
	.strict();

const updateBody = z
	.object({
		version,
		role: role.optional(),
		active: z.boolean().optional(),
		name: personName.optional(),
		department: lineText(80, 1).optional(),
		hospitalId: id.nullable().optional()
	})
	.strict()
	.refine((b) => b.role !== undefined || b.active !== undefined || b.name !== undefined || b.department !== undefined || b.hospitalId !== undefined, {
		message: 'name at least one of role, active, name, department, hospitalId to change'
	});

const listQuery = z
	.object({
		q: lineText(120, 1).optional(),
		role: role.optional(),
		cursor: z.string().max(2000).optional(),
		limit: z.coerce.number().int().min(1).max(100).default(50)
	})
	.strict();

export function adminRoutes(ctx: Ctx): Router {
	const r = Router();
	const createSchema = createBody(phoneNumber(ctx.config.phoneRegion));

	r.get('/admin/users', async (req, res) => {
		res.json(await users.listUsers(ctx, req.caller, query(req, listQuery)));
	});

	r.get('/admin/users/:id', async (req, res) => {
		const p = params(req, z.object({ id }));
		res.json({ user: await users.readUser(ctx, req.caller, p.id) });
	});

	r.post('/admin/users', async (req, res) => {
		const input = body(req, createSchema);
		res.status(201).json({ user: await users.createUser(ctx, req.caller, input) });
	});

	// The user gets a one-time link by e-mail (in the outbox when SNS is not configured).
	r.post('/admin/users/:id/password-reset', async (req, res) => {
		const p = params(req, z.object({ id }));
		const sent = await sendResetLinkToUser(ctx, req.caller, p.id);
		res.status(202).json({
			ok: true,
			to: sent.to,
			message: sent.viaOutboxOnly
				? `A reset link for ${sent.to} is in the Outbox. E-mail is not configured (no SNS topic), so it is not sent: open it there and pass it on.`
				: `A reset link is on its way to ${sent.to}; it is valid for 30 minutes.`
		});
	});

	r.patch('/admin/users/:id', async (req, res) => {
		const p = params(req, z.object({ id }));
		req.body = withIfMatch(req);
		const input = body(req, updateBody);
		res.json({ user: await users.updateUser(ctx, req.caller, p.id, input) });
	});

	return r;
}
