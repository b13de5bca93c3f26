import { z } from 'zod';
import path from 'node:path';

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
	TABLE_PREFIX: z
		.string()
		.regex(/^[A-Za-z0-9_.-]*$/)
		.default('medtrack_'),
	/** Key for the HMAC of client IPs in the audit log. Generated into DATA_DIR when embedded. */
	AUDIT_IP_KEY: z.string().min(16).optional(),
	SESSION_IDLE_MINUTES: z.coerce.number().positive().default(30),
	SESSION_ABSOLUTE_HOURS: z.coerce.number().positive().default(12),
	COOKIE_SECURE: bool.optional(),
	TRUST_PROXY: bool.default(false),
	LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
	LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().positive().default(20),
	LOGIN_THROTTLE_MINUTES: z.coerce.number().positive().default(15),
	HOSPITAL_TIMEZONE: z.string().default('UTC'),
	LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
	SNS_TOPIC_ARN: z.string().optional(),
	SNS_ENDPOINT: z.string().url().optional(),
	REDIS_URL: z.string().optional(),
	WORKER: z.enum(['inline', 'off']).default('inline'),
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
	db: { mode: 'embedded' | 'aws' | 'endpoint'; endpoint: string | undefined; region: string };
	tablePrefix: string;
	auditIpKey: string | undefined;
	session: { idleMs: number; absoluteMs: number; cookieSecure: boolean | undefined };
	trustProxy: boolean;
	throttle: { perAccount: number; perIp: number; windowMs: number };
	timezone: string;
	logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
	sns: { topicArn: string | undefined; endpoint: string | undefined };
	redisUrl: string | undefined;
	worker: 'inline' | 'off';
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
			region: e.AWS_REGION ?? (mode === 'aws' ? 'us-east-1' : 'local')
		},
		tablePrefix: e.TABLE_PREFIX,
		auditIpKey: e.AUDIT_IP_KEY,
		session: {
			idleMs: e.SESSION_IDLE_MINUTES * 60_000,
			absoluteMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
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
		sns: { topicArn: e.SNS_TOPIC_ARN, endpoint: e.SNS_ENDPOINT },
		redisUrl: e.REDIS_URL,
		worker: e.WORKER,
		argon2MemoryKib: e.ARGON2_MEMORY_KIB,
		version: e.npm_package_version
	});
}
