import { z } from 'zod';
import path from 'node:path';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';

/**
 * Every setting MedTrack reads, parsed once from the environment. Nothing else in the
 * code reads process.env: a setting that is not here does not exist.
 */
const bool = z
	.enum(['true', 'false', '1', '0', 'yes', 'no'])
	.transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
	NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
	PORT: z.coerce.number().int().min(0).max(65535).default(3000),
	HOST: z.string().default('0.0.0.0'),
	/** Public URL of the app; used for links in messages and the CSRF origin check. */
	ORIGIN: z.string().url().optional(),
	DATA_DIR: z.string().default('./data'),
	/** `embedded` starts DynamoDB Local; `aws` uses real DynamoDB with the default credential chain. */
	DB_MODE: z.enum(['embedded', 'aws']).default('embedded'),
	DYNAMODB_ENDPOINT: z.string().url().optional(),
	AWS_REGION: z.string().optional(),
	/** DynamoDB commands one process keeps in flight at once; the rest queue (see db/guard.ts). */
	DB_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1_024).default(32),
	/** Overall deadline of one DynamoDB command once it is sent, SDK retries included. */
	DB_DEADLINE_MS: z.coerce.number().int().min(200).max(60_000).default(3_000),
	TABLE_PREFIX: z
		.string()
		.regex(/^[A-Za-z0-9_.-]*$/)
		.default('medtrack_'),
	/** Key for the HMAC of client IPs in the audit log. Generated into DATA_DIR when embedded. */
	AUDIT_IP_KEY: z.string().min(16).optional(),
	SESSION_IDLE_MINUTES: z.coerce.number().positive().default(30),
	SESSION_ABSOLUTE_HOURS: z.coerce.number().positive().default(12),
	/** How long a validated session is trusted in memory before it is read again. */
	SESSION_CACHE_MS: z.coerce.number().int().min(0).max(10_000).default(5_000),
	COOKIE_SECURE: bool.optional(),
	TRUST_PROXY: bool.default(false),
	LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
	LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().positive().default(20),
	LOGIN_THROTTLE_MINUTES: z.coerce.number().positive().default(15),
	HOSPITAL_TIMEZONE: z
		.string()
		.default('UTC')
		.refine((tz) => {
			try {
				new Intl.DateTimeFormat('en', { timeZone: tz });
				return true;
			} catch {
				return false;
			}
		}, 'must be an IANA time zone such as Europe/Berlin'),
	LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
	SNS_TOPIC_ARN: z.string().optional(),
	SNS_ENDPOINT: z.string().url().optional(),
	REDIS_URL: z.string().optional(),
	WORKER: z.enum(['inline', 'off']).default('inline'),
	/** Leader lease of the scheduler in `locks`: one worker runs the jobs, another takes over when it dies. */
	WORKER_LEASE_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
	WORKER_HEARTBEAT_MS: z.coerce.number().int().min(200).max(60_000).default(3_000),
	/** How long after its start a PENDING/CONFIRMED/RESCHEDULED appointment becomes MISSED. */
	MISSED_GRACE_HOURS: z.coerce.number().min(0).max(72).default(2),
	OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
	/** First retry delay of a failed SMS/e-mail; doubles with each attempt. */
	OUTBOX_BACKOFF_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
	/** How long a claimed outbox row may stay `sending` before another worker retries it. */
	OUTBOX_LEASE_SECONDS: z.coerce.number().min(1).max(3_600).default(120),
	CHAT_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000).default(20),
	CHAT_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3_600).default(10),
	/** At most one SMS/e-mail per conversation per recipient in this many minutes. */
	CHAT_NOTIFY_THROTTLE_MINUTES: z.coerce.number().min(0).max(1_440).default(15),
	/** Shared secret of POST /api/internal/broadcast (a worker without Redis reaching the web process). Generated into DATA_DIR when unset. */
	INTERNAL_TOKEN: z.string().min(24).optional(),
	/** Where a separate worker reaches the web process; defaults to http://127.0.0.1:PORT. */
	INTERNAL_URL: z.string().url().optional(),
	/** How long a clinician's emergency ("break the glass") access to a chart outside care lasts. */
	EMERGENCY_ACCESS_MINUTES: z.coerce.number().positive().max(24 * 60).default(60),
	/** Region of phone numbers typed without a country code (ISO 3166 alpha-2). */
	PHONE_DEFAULT_REGION: z
		.string()
		.default('US')
		.refine((r) => isSupportedCountry(r), 'must be a two-letter country code such as US, GB or DE'),
	/** argon2 memory in KiB; OWASP's floor is 19 MiB. Tests may not go lower. */
	ARGON2_MEMORY_KIB: z.coerce.number().int().min(19456).default(19456),
	npm_package_version: z.string().default('0.1.0')
});

export type Config = {
	env: 'development' | 'production' | 'test';
	port: number;
	host: string;
	origin: string | undefined;
	dataDir: string;
	db: {
		mode: 'embedded' | 'aws' | 'endpoint';
		endpoint: string | undefined;
		region: string;
		maxInFlight: number;
		deadlineMs: number;
	};
	tablePrefix: string;
	auditIpKey: string | undefined;
	session: { idleMs: number; absoluteMs: number; cacheMs: number; cookieSecure: boolean | undefined };
	trustProxy: boolean;
	throttle: { perAccount: number; perIp: number; windowMs: number };
	timezone: string;
	logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
	sns: { topicArn: string | undefined; endpoint: string | undefined; region: string };
	redisUrl: string | undefined;
	worker: 'inline' | 'off';
	scheduler: { leaseMs: number; heartbeatMs: number; missedGraceMs: number };
	outbox: { maxAttempts: number; backoffMs: number; leaseMs: number };
	chat: { rateLimit: number; rateWindowMs: number; notifyThrottleMs: number };
	internal: { token: string | undefined; url: string };
	emergencyAccessMs: number;
	phoneRegion: CountryCode;
	argon2MemoryKib: number;
	version: string;
};

export class ConfigError extends Error {
	override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
	const parsed = envSchema.safeParse(env);
	if (!parsed.success) {
		const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
		throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
	}
	const e = parsed.data;
	const mode: Config['db']['mode'] = e.DYNAMODB_ENDPOINT ? 'endpoint' : e.DB_MODE;
	return Object.freeze({
		env: e.NODE_ENV,
		port: e.PORT,
		host: e.HOST,
		origin: e.ORIGIN,
		dataDir: path.resolve(e.DATA_DIR),
		db: {
			mode,
			endpoint: e.DYNAMODB_ENDPOINT,
			region: e.AWS_REGION ?? (mode === 'aws' ? 'us-east-1' : 'local'),
			maxInFlight: e.DB_MAX_IN_FLIGHT,
			deadlineMs: e.DB_DEADLINE_MS
		},
		tablePrefix: e.TABLE_PREFIX,
		auditIpKey: e.AUDIT_IP_KEY,
		session: {
			idleMs: e.SESSION_IDLE_MINUTES * 60_000,
			absoluteMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
			// Several instances (REDIS_URL): no cache, so a logout or deactivation ends the session everywhere at once.
			cacheMs: e.REDIS_URL ? 0 : e.SESSION_CACHE_MS,
			cookieSecure: e.COOKIE_SECURE
		},
		trustProxy: e.TRUST_PROXY,
		throttle: {
			perAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
			perIp: e.LOGIN_MAX_FAILURES_PER_IP,
			windowMs: e.LOGIN_THROTTLE_MINUTES * 60_000
		},
		timezone: e.HOSPITAL_TIMEZONE,
		logLevel: e.LOG_LEVEL,
		sns: { topicArn: e.SNS_TOPIC_ARN, endpoint: e.SNS_ENDPOINT, region: e.AWS_REGION ?? 'us-east-1' },
		redisUrl: e.REDIS_URL,
		worker: e.WORKER,
		scheduler: {
			leaseMs: e.WORKER_LEASE_MS,
			heartbeatMs: Math.min(e.WORKER_HEARTBEAT_MS, Math.floor(e.WORKER_LEASE_MS / 2)),
			missedGraceMs: e.MISSED_GRACE_HOURS * 3_600_000
		},
		outbox: {
			maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
			backoffMs: e.OUTBOX_BACKOFF_SECONDS * 1000,
			leaseMs: e.OUTBOX_LEASE_SECONDS * 1000
		},
		chat: {
			rateLimit: e.CHAT_RATE_LIMIT,
			rateWindowMs: e.CHAT_RATE_WINDOW_SECONDS * 1000,
			notifyThrottleMs: e.CHAT_NOTIFY_THROTTLE_MINUTES * 60_000
		},
		internal: { token: e.INTERNAL_TOKEN, url: e.INTERNAL_URL ?? `http://127.0.0.1:${e.PORT}` },
		emergencyAccessMs: e.EMERGENCY_ACCESS_MINUTES * 60_000,
		phoneRegion: e.PHONE_DEFAULT_REGION as CountryCode,
		argon2MemoryKib: e.ARGON2_MEMORY_KIB,
		version: e.npm_package_version
	});
}
