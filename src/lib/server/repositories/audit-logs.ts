import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { auditPut, type AuditInput } from '../db/audit';
import { resumeQuery } from '../db/cursor';
import type { AuditEntry } from '$lib/shared/views';

/** `audit_logs`: entries are Put once (see db/audit.ts) and read by index, newest first. */
export { auditPut };

/** An entry on its own, for an event that changes no data. */
export async function putAuditEntry(ctx: Ctx, caller: Caller, input: AuditInput): Promise<void> {
	await ctx.db.doc.send(new PutCommand(auditPut(ctx, caller, input).Put));
}

export type AuditIndex = 'user-time-index' | 'resource-time-index' | 'date-time-index';

/** One page of an index's partition between two timestamps, newest first. */
export async function auditPage(
	ctx: Ctx,
	q: {
		index: AuditIndex;
		partition: string;
		from: string;
		to: string;
		/** Equality filters on attributes the index does not key on. */
		where: Record<string, string>;
		limit: number;
		startKey: Record<string, unknown> | undefined;
	}
): Promise<{ items: AuditEntry[]; lastKey: Record<string, unknown> | undefined }> {
	const pk = q.index === 'user-time-index' ? 'user_id' : q.index === 'resource-time-index' ? 'resource_key' : 'log_date';
	const names: Record<string, string> = { '#ts': 'timestamp', '#pk': pk };
	const values: Record<string, unknown> = { ':from': q.from, ':to': q.to, ':pk': q.partition };
	const filters = Object.entries(q.where).map(([attr, value], i) => {
		names[`#w${i}`] = attr;
		values[`:w${i}`] = value;
		return `#w${i} = :w${i}`;
	});
	const input: QueryCommandInput = {
		TableName: ctx.db.tables.audit_logs,
		IndexName: q.index,
		KeyConditionExpression: '#pk = :pk AND #ts BETWEEN :from AND :to',
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: values,
		FilterExpression: filters.length ? filters.join(' AND ') : undefined,
		ScanIndexForward: false,
		Limit: q.limit,
		ExclusiveStartKey: q.startKey
	};
	const page = await resumeQuery(input.ExclusiveStartKey, () => ctx.db.doc.send(new QueryCommand(input)));
	return { items: (page.Items ?? []) as AuditEntry[], lastKey: page.LastEvaluatedKey };
}
