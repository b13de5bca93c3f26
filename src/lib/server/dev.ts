import type { Server } from 'node:http';
import type { Connect } from 'vite';
import { loadConfig } from './config';
import { openRuntime } from './runtime';
import { createApp } from './http/app';
import { attachRealtime } from './realtime';
import { publishPageAuth } from './http/page-auth';

/** `npm run dev`: the API and Socket.IO attached to Vite's own server. */
export async function attachDev(httpServer: Server, middlewares: Connect.Server): Promise<void> {
	const config = loadConfig({ NODE_ENV: 'development', ...process.env });
	const runtime = await openRuntime(config, { log: (l) => console.log(l) });
	const app = createApp(runtime.ctx);
	middlewares.use((req, res, next) => {
		if (req.url?.startsWith('/api/')) return app(req as never, res as never);
		next();
	});
	attachRealtime(httpServer, runtime.ctx);
	publishPageAuth(runtime.ctx);
	httpServer.once('close', () => void runtime.stop());
}
