import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, withIfMatch } from '../http/validate';
import { clearSessionCookie, setSessionCookie } from '../http/cookies';
import { passwordSchema } from '../auth/passwords';
import * as auth from '../services/auth';
import * as users from '../services/users';
import { bloodGroup, dateOfBirth, email, personName, version } from '$lib/shared/schemas';
import { phoneNumber } from '$lib/shared/phone';

const registerBody = (phone: ReturnType<typeof phoneNumber>) =>
	z.object({ name: personName, email, phone, dateOfBirth, bloodGroup, password: passwordSchema }).strict();
const loginBody = z.object({ email: z.string().trim().toLowerCase().min(1, 'is required').max(254), password: z.string().min(1, 'is required').max(256) }).strict();
const resetBody = z.object({ email }).strict();
const changePasswordBody = z
	.object({ currentPassword: z.string().min(1, 'is required').max(256), newPassword: passwordSchema })
	.strict();
const resetConfirmBody = z.object({ token: z.string().min(1, 'is required').max(100), password: passwordSchema }).strict();
const meBody = (phone: ReturnType<typeof phoneNumber>) =>
	z.object({ version, name: personName.optional(), phone: phone.optional(), notifyEmail: z.boolean().optional() }).strict();

export function authRoutes(ctx: Ctx): Router {
	const r = Router();
	const phone = phoneNumber(ctx.config.phoneRegion);
	const registerSchema = registerBody(phone);
	const meSchema = meBody(phone);

	r.post('/auth/register', async (req, res) => {
		const input = body(req, registerSchema);
		await auth.registerPatient(ctx, req.caller, input);
		const { user, token, session } = await auth.login(ctx, req.caller, input);
		setSessionCookie(ctx, req, res, token, session.absolute_expires_at);
		res.status(201).json({ user, token });
	});

	r.post('/auth/login', async (req, res) => {
		const input = body(req, loginBody);
		const { user, token, session } = await auth.login(ctx, req.caller, input);
		setSessionCookie(ctx, req, res, token, session.absolute_expires_at);
		res.json({ user, token });
	});

	r.post('/auth/logout', async (req, res) => {
		await auth.logout(ctx, req.caller);
		clearSessionCookie(ctx, req, res);
		res.status(204).end();
	});

	r.post('/auth/password-reset', async (req, res) => {
		const input = body(req, resetBody);
		await auth.requestPasswordReset(ctx, req.caller, input.email);
		res.status(202).json({
			ok: true,
			message: 'If an account exists for this address, a reset link is on its way. It is valid for 30 minutes.'
		});
	});

	r.post('/auth/password-reset/confirm', async (req, res) => {
		const input = body(req, resetConfirmBody);
		await auth.confirmPasswordReset(ctx, req.caller, input);
		res.json({ ok: true, message: 'Your password has been changed. Please log in.' });
	});

	r.post('/me/password', async (req, res) => {
		await auth.changePassword(ctx, req.caller, body(req, changePasswordBody));
		res.json({ ok: true, message: 'Your password has been changed. Your other sessions have been signed out.' });
	});

	r.get('/me', async (req, res) => {
		res.json({ user: await users.getMe(ctx, req.caller) });
	});

	r.patch('/me', async (req, res) => {
		req.body = withIfMatch(req);
		const input = body(req, meSchema);
		res.json({ user: await users.updateMe(ctx, req.caller, input) });
	});

	return r;
}
