import { loadConfig } from '../src/lib/server/config';
import { createContext } from '../src/lib/server/context';
import { ensureTables } from '../src/lib/server/db/client';
import { connectOrStartEmbedded } from '../src/lib/server/db/embedded';

/** `npm run create-tables`: create every table and index that is missing (idempotent). */
const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
const embedded = config.db.mode === 'embedded' ? await connectOrStartEmbedded(config.dataDir, console.log) : undefined;
const ctx = createContext(config, embedded?.endpoint ?? config.db.endpoint);
try {
	await ensureTables(ctx.db, (table, action) => console.log(`  ${table}: ${action}`));
} finally {
	ctx.db.raw.destroy();
	await embedded?.stop();
}
