import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { badRequest } from '../errors';
import type { AuditEntry } from '$lib/shared/views';
import { decodeCursor, encodeCursor, startKeySchema } from '../db/cursor';
import { auditEntry, auditPut, hashIp, type AuditInput, type AuditOutcome } from '../db/audit';
import { auditPage, putAuditEntry, type AuditIndex } from '../repositories/audit-logs';
import { z } from 'zod';
import { isoDate } from '$lib/shared/schemas';

/**
 * The audit log (SPEC §5). Writes that change data put their entry in the same
 * TransactWriteItems as the change (`auditPut`, built in db/audit.ts so every write path
 * shares it); events with no data change (login, reads, denials) use `recordAudit`. Only
 * super admins read it (`listAudit`).
 */
export { auditEntry, auditPut, hashIp, type AuditInput, type AuditOutcome };
export type { AuditEntry };

/** An audit entry for an event that changes no data: login, logout, a read, a denial. */
export async function recordAudit(ctx: Ctx, caller: Caller, input: AuditInput): Promise<void> {
	await putAuditEntry(ctx, caller, input);
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

	// The most selective index the filter allows; whatever it does not key on is filtered.
	const index: AuditIndex = f.user ? 'user-time-index' : f.resourceType && f.resourceId ? 'resource-time-index' : 'date-time-index';
	const fixedPartition = index === 'user-time-index' ? f.user! : index === 'resource-time-index' ? `${f.resourceType}#${f.resourceId}` : undefined;
	const where: Record<string, string> = {};
	if (index !== 'resource-time-index') {
		if (f.resourceType) where.resource_type = f.resourceType;
		if (f.resourceId) where.resource_id = f.resourceId;
	}

	const items: AuditEntry[] = [];
	const byDay = index === 'date-time-index';
	let day = byDay ? (cursor.day ?? to.slice(0, 10)) : undefined;
	const firstDay = from.slice(0, 10);
	let startKey = cursor.key;
	// Bounded work per request: at most 60 queries (a day partition each when listing by date).
	for (let round = 0; round < 60; round++) {
		const page = await auditPage(ctx, {
			index,
			partition: byDay ? day! : fixedPartition!,
			from,
			to,
			where,
			limit: f.limit - items.length,
			startKey
		});
		items.push(...page.items);
		startKey = page.lastKey;
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
