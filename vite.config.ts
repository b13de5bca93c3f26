import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin, type ViteDevServer } from 'vite';

/**
 * In `npm run dev` the API and Socket.IO run inside Vite's dev server through the same
 * attach functions the production server uses (loaded through Vite so `$lib` resolves).
 */
function medtrackDev(): Plugin {
	return {
		name: 'medtrack-dev',
		apply: 'serve',
		async configureServer(server: ViteDevServer) {
			if (process.env.VITEST || !server.httpServer) return;
			const mod = (await server.ssrLoadModule('/src/lib/server/dev.ts')) as typeof import('./src/lib/server/dev');
			await mod.attachDev(server.httpServer as import('node:http').Server, server.middlewares);
		}
	};
}

export default defineConfig({
	plugins: [sveltekit(), medtrackDev()],
	server: { port: 5173 }
});
