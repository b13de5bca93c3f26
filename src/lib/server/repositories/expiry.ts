import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { applied } from '../db/conditional';

/**
 * Rows that carry an expiry (sessions and reset tokens by `expires_at`, lock rows by `ttl`),
 * found through the sparse `kind-…` indexes, never by Scan.
 */
export type ExpiringTable = 'sessions' | 'locks';

/** One page of ids of `kind` rows whose `attr` is before `before`. */
export async function expiredPage(
	ctx: Ctx,
	q: { table: ExpiringTable; index: string; kind: string; attr: string; before: number; startKey: Record<string, unknown> | undefined }
): Promise<{ ids: string[]; lastKey: Record<string, unknown> | undefined }> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables[q.table],
			IndexName: q.index,
			KeyConditionExpression: 'kind = :k AND #t < :before',
			ExpressionAttributeNames: { '#t': q.attr },
			ExpressionAttributeValues: { ':k': q.kind, ':before': q.before },
			ProjectionExpression: 'id',
			Limit: 200,
			ExclusiveStartKey: q.startKey
		})
	);
	return { ids: (res.Items ?? []).map((i) => i.id as string), lastKey: res.LastEvaluatedKey };
}

/** Deletes the row if it is still expired; false when it was renewed (or is gone) meanwhile. */
export async function deleteIfExpired(ctx: Ctx, table: ExpiringTable, id: string, attr: string, before: number): Promise<boolean> {
	return applied(
		ctx.db.doc.send(
			new DeleteCommand({
				TableName: ctx.db.tables[table],
				Key: { id },
				ConditionExpression: '#t < :before',
				ExpressionAttributeNames: { '#t': attr },
				ExpressionAttributeValues: { ':before': before }
			})
		)
	);
}
