import type { Config } from './config';
import { createContext, type Ctx } from './context';
import { ensureTables } from './db/client';
import { connectOrStartEmbedded } from './db/embedded';

/**
 * How every process (web server, worker, CLI) gets a working context: the database the
 * configuration names (embedded DynamoDB Local for DATA_DIR, an explicit endpoint, or AWS),
 * with every table created.
 */
export type Runtime = { ctx: Ctx; endpoint: string | undefined; ownsDatabase: boolean; stop(): Promise<void> };

export async function openRuntime(
	config: Config,
	opts: { log?: (line: string) => void; createTables?: boolean } = {}
): Promise<Runtime> {
	let endpoint = config.db.endpoint;
	let stopDb = async () => {};
	let owns = false;
	if (config.db.mode === 'embedded') {
		const embedded = await connectOrStartEmbedded(config.dataDir, opts.log);
		endpoint = embedded.endpoint;
		stopDb = embedded.stop;
		owns = embedded.owned;
	}
	const ctx = createContext(config, endpoint);
	try {
		if (opts.createTables !== false) await ensureTables(ctx.db);
	} catch (err) {
		await stopDb();
		throw err;
	}
	return {
		ctx,
		endpoint,
		ownsDatabase: owns,
		async stop() {
			ctx.db.raw.destroy();
			await stopDb();
		}
	};
}
