import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { createDb, type Db } from './db/client';
import { createLogger, type Logger } from './log';
import { createBus, type Bus } from './realtime/bus';
import type { ValidSession } from './auth/sessions';
import type { AppointmentItem } from './repositories/appointments';

/** What services need: settings, the database, the logger and the broadcast path. */
export type Ctx = {
	config: Config;
	db: Db;
	log: Logger;
	bus: Bus;
	auditIpKey: Buffer;
	/** Signs paging cursors (db/cursor.ts); derived from the audit key, so stable across restarts. */
	cursorKey: Buffer;
	/** Sessions validated in the last SESSION_CACHE_MS, by token hash (see auth/sessions.ts). */
	sessionCache: Map<string, { valid: ValidSession; at: number }>;
	/** Appointments as last read or written by this process (see repositories/appointments.ts). */
	appointmentCache: Map<string, AppointmentItem>;
};

/**
 * The HMAC key for audit IP hashes. Production passes AUDIT_IP_KEY; an embedded install
 * keeps a generated one in its data directory so hashes stay comparable across restarts.
 */
function resolveAuditKey(config: Config): Buffer {
	if (config.auditIpKey) return Buffer.from(config.auditIpKey, 'utf8');
	if (config.db.mode === 'aws') {
		throw new Error('AUDIT_IP_KEY must be set when DB_MODE=aws.');
	}
	const file = path.join(config.dataDir, 'audit-ip.key');
	try {
		return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
	} catch {
		const key = crypto.randomBytes(32);
		fs.mkdirSync(config.dataDir, { recursive: true });
		fs.writeFileSync(file, key.toString('hex'), { mode: 0o600 });
		return key;
	}
}

export function createContext(config: Config, endpoint = config.db.endpoint, logger?: Logger): Ctx {
	const log = logger ?? createLogger(config.logLevel, { service: 'medtrack' });
	const db = createDb({
		endpoint,
		region: config.db.region,
		tablePrefix: config.tablePrefix,
		local: config.db.mode !== 'aws',
		maxInFlight: config.db.maxInFlight,
		deadlineMs: config.db.deadlineMs,
		log
	});
	const auditIpKey = resolveAuditKey(config);
	return {
		config,
		db,
		log,
		bus: createBus(),
		auditIpKey,
		cursorKey: crypto.createHmac('sha256', auditIpKey).update('medtrack-cursor-v1').digest(),
		sessionCache: new Map(),
		appointmentCache: new Map()
	};
}
