import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import type { AuditEntry } from '$lib/shared/views';
import type { TransactItem } from './transaction';

/**
 * The audit entry (SPEC §5) and its Put, at the db level so that every write path can put
 * its entry in its own transaction (`versionedUpdate`, `transactNamed` callers). Entries are
 * only ever Put with `attribute_not_exists(log_id)`: no code path updates or deletes one.
 * Only names of changed fields are stored, never values. The rules of what is audited live
 * in `services/audit.ts`; reading the log in `repositories/audit-logs.ts`.
 */
export type AuditOutcome = 'success' | 'denied' | 'failure';

export type AuditInput = {
	action: string;
	resourceType: string;
	resourceId?: string;
	outcome?: AuditOutcome;
	changedFields?: string[];
	/** Who the entry is about when nobody is signed in (a failed login on a known account). */
	subject?: { id: string; email: string; role: string };
	/** A justification the actor had to give (emergency access). */
	reason?: string;
};

/** Keyed HMAC of the IP: comparable across entries, never the raw address. */
export function hashIp(ctx: Ctx, ip: string): string {
	return crypto.createHmac('sha256', ctx.auditIpKey).update(ip).digest('hex');
}

export function auditEntry(ctx: Ctx, caller: Caller, input: AuditInput): AuditEntry {
	const who = caller.actor ?? input.subject;
	const timestamp = new Date().toISOString();
	const resourceId = input.resourceId ?? '-';
	return {
		// time-ordered prefix keeps ids sortable when listed without an index
		log_id: `${timestamp}#${crypto.randomUUID()}`,
		user: who?.email ?? '(anonymous)',
		user_id: who?.id ?? '(anonymous)',
		role: who?.role ?? '(none)',
		action: input.action,
		resource_type: input.resourceType,
		resource_id: resourceId,
		resource_key: `${input.resourceType}#${resourceId}`,
		timestamp,
		log_date: timestamp.slice(0, 10),
		ip_hash: hashIp(ctx, caller.ip),
		request_id: caller.requestId,
		outcome: input.outcome ?? 'success',
		changed_fields: [...new Set(input.changedFields ?? [])].sort(),
		...(input.reason ? { reason: input.reason } : {})
	};
}

/** The audit Put to include in the TransactWriteItems of the change it records. */
export function auditPut(ctx: Ctx, caller: Caller, input: AuditInput) {
	return {
		Put: {
			TableName: ctx.db.tables.audit_logs,
			Item: auditEntry(ctx, caller, input),
			ConditionExpression: 'attribute_not_exists(log_id)'
		}
	} satisfies TransactItem;
}
