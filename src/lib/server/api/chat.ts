import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query } from '../http/validate';
import * as chat from '../services/chat';
import { id } from '$lib/shared/schemas';
import { chatMessageInput, chatReceiptInput, openConversationInput } from '$lib/shared/chat';

const idParams = z.object({ id });
const cursorQuery = z.object({ cursor: z.string().max(500).optional() }).strict();

/** Chat over REST, for API clients and the first page load; sockets carry the same calls live. */
export function chatRoutes(ctx: Ctx): Router {
	const r = Router();

	r.get('/conversations', async (req, res) => {
		const q = query(req, z.object({ cursor: z.string().max(500).optional(), limit: z.coerce.number().int().min(1).max(100).default(50) }).strict());
		res.json(await chat.listConversations(ctx, req.caller, q));
	});

	r.post('/conversations', async (req, res) => {
		const out = await chat.openConversation(ctx, req.caller, body(req, openConversationInput));
		res.status(out.created ? 201 : 200).json(out);
	});

	r.get('/conversations/:id', async (req, res) => {
		res.json({ conversation: await chat.readConversation(ctx, req.caller, params(req, idParams).id) });
	});

	r.get('/conversations/:id/messages', async (req, res) => {
		const p = params(req, idParams);
		res.json(await chat.listMessages(ctx, req.caller, p.id, query(req, cursorQuery)));
	});

	r.post('/conversations/:id/messages', async (req, res) => {
		const p = params(req, idParams);
		const out = await chat.sendMessage(ctx, req.caller, p.id, body(req, chatMessageInput));
		// A retried clientId answers 200 with the message stored the first time.
		res.status(out.created ? 201 : 200).json(out);
	});

	r.post('/conversations/:id/delivered', async (req, res) => {
		const p = params(req, idParams);
		res.json({ moved: await chat.acknowledge(ctx, req.caller, p.id, 'delivered', body(req, chatReceiptInput).upTo) });
	});

	r.post('/conversations/:id/read', async (req, res) => {
		const p = params(req, idParams);
		res.json({ moved: await chat.acknowledge(ctx, req.caller, p.id, 'read', body(req, chatReceiptInput).upTo) });
	});

	return r;
}
