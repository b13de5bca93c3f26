import crypto from 'node:crypto';
import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { badRequest } from '../errors';
import type { AuditEntry } from '$lib/shared/views';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { z } from 'zod';
import { isoDate } from '$lib/shared/schemas';

/**
 * The audit log (SPEC §5). Entries are only ever Put with `attribute_not_exists(log_id)`:
 * no code path updates or deletes one. Writes that change data put their entry in the same
 * TransactWriteItems as the change (`auditPut`); events with no data change (login, reads,
 * denials) use `recordAudit`. Only names of changed fields are stored, never values.
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

export type { AuditEntry };

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
	};
}

/** An audit entry for an event that changes no data: login, logout, a read, a denial. */
export async function recordAudit(ctx: Ctx, caller: Caller, input: AuditInput): Promise<void> {
	await ctx.db.doc.send(new PutCommand(auditPut(ctx, caller, input).Put));
}

export type AuditFilter = {
	user?: string;
	resourceType?: string;
	resourceId?: string;
	from?: string;
	to?: string;
	limit: number;
	cursor?: string;
};

type Cursor = { day?: string; key?: Record<string, unknown> };

function dayBefore(day: string): string {
	const d = new Date(`${day}T00:00:00.000Z`);
	d.setUTCDate(d.getUTCDate() - 1);
	return d.toISOString().slice(0, 10);
}

/**
 * Newest first. Uses the most selective index the filter allows (user, then resource,
 * then one day partition at a time) and filters the rest; a page may hold fewer than
 * `limit` entries when filters drop some, and `nextCursor` says whether more exist.
 */
export async function listAudit(
	ctx: Ctx,
	f: AuditFilter
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
	const to = f.to ?? new Date().toISOString();
	// Listing by day walks one partition a day, so an open-ended listing looks back 90 days;
	// listings keyed by user or resource have no such cost and go back to the start.
	const byUserOrResource = !!f.user || !!(f.resourceType && f.resourceId);
	const from = f.from ?? (byUserOrResource ? '2000-01-01T00:00:00.000Z' : new Date(Date.parse(to) - 90 * 86_400_000).toISOString());
	if (from > to) throw badRequest('Invalid query: from is after to.', [{ field: 'from', message: 'must be before to' }]);
	// A cursor continues the listing it came from: same filters, same window.
	const scope = `audit:${JSON.stringify([f.user, f.resourceType, f.resourceId, f.from, f.to])}`;
	const cursor: Cursor = f.cursor
		? decodeCursor(ctx.cursorKey, scope, f.cursor, z.object({ day: isoDate.optional(), key: startKeySchema.optional() }).strict())
		: {};

	const names: Record<string, string> = { '#ts': 'timestamp' };
	const values: Record<string, unknown> = { ':from': from, ':to': to };
	const filters: string[] = [];
	const keyCond = '#pk = :pk AND #ts BETWEEN :from AND :to';
	// The most selective index the filter allows; whatever it does not key on is filtered.
	const index = f.user ? 'user-time-index' : f.resourceType && f.resourceId ? 'resource-time-index' : 'date-time-index';
	if (index === 'user-time-index') {
		names['#pk'] = 'user_id';
		values[':pk'] = f.user;
	} else if (index === 'resource-time-index') {
		names['#pk'] = 'resource_key';
		values[':pk'] = `${f.resourceType}#${f.resourceId}`;
	} else {
		names['#pk'] = 'log_date';
	}
	if (index !== 'resource-time-index') {
		if (f.resourceType) {
			names['#rt'] = 'resource_type';
			values[':rt'] = f.resourceType;
			filters.push('#rt = :rt');
		}
		if (f.resourceId) {
			names['#rid'] = 'resource_id';
			values[':rid'] = f.resourceId;
			filters.push('#rid = :rid');
		}
	}

	const items: AuditEntry[] = [];
	const byDay = index === 'date-time-index';
	let day = byDay ? (cursor.day ?? to.slice(0, 10)) : undefined;
	const firstDay = from.slice(0, 10);
	let startKey = cursor.key;
	// Bounded work per request: at most 60 queries (a day partition each when listing by date).
	for (let round = 0; round < 60; round++) {
		if (byDay) values[':pk'] = day;
		const input: QueryCommandInput = {
			TableName: ctx.db.tables.audit_logs,
			IndexName: index,
			KeyConditionExpression: keyCond,
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: values,
			FilterExpression: filters.length ? filters.join(' AND ') : undefined,
			ScanIndexForward: false,
			Limit: f.limit - items.length,
			ExclusiveStartKey: startKey
		};
		const page = await resumeQuery(input.ExclusiveStartKey, () => ctx.db.doc.send(new QueryCommand(input)));
		items.push(...((page.Items ?? []) as AuditEntry[]));
		startKey = page.LastEvaluatedKey;
		if (items.length >= f.limit) {
			if (startKey) return { items, nextCursor: encodeCursor(ctx.cursorKey, scope, { day, key: startKey }) };
			if (byDay && day! > firstDay) return { items, nextCursor: encodeCursor(ctx.cursorKey, scope, { day: dayBefore(day!) }) };
			return { items, nextCursor: null };
		}
		if (startKey) continue;
		if (!byDay || day! <= firstDay) return { items, nextCursor: null };
		day = dayBefore(day!);
	}
	return { items, nextCursor: encodeCursor(ctx.cursorKey, scope, { day, key: startKey }) };
}
