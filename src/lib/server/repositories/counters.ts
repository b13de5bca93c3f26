import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { applied } from '../db/conditional';

/**
 * Fixed-window counters in `locks` (login throttles, rate limits), shared by every
 * instance. Each row expires by TTL after its window.
 */

/** Adds one to a counter (created at 1); the count after it. */
export async function increment(ctx: Ctx, id: string, ttl: number, kind: string): Promise<number> {
	const res = await ctx.db.doc.send(
		new UpdateCommand({
			TableName: ctx.db.tables.locks,
			Key: { id },
			UpdateExpression: 'ADD #n :one SET #ttl = :ttl, kind = :kind',
			ExpressionAttributeNames: { '#n': 'count', '#ttl': 'ttl' },
			ExpressionAttributeValues: { ':one': 1, ':ttl': ttl, ':kind': kind },
			ReturnValues: 'UPDATED_NEW'
		})
	);
	return Number(res.Attributes?.count ?? 0);
}

/** Adds one to a counter only while it is below `max`; false (and no change) when it has reached it. */
export async function incrementBelow(ctx: Ctx, id: string, max: number, ttl: number, kind: string): Promise<boolean> {
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id },
				UpdateExpression: 'ADD #c :one SET #ttl = :ttl, kind = :kind',
				ConditionExpression: 'attribute_not_exists(#c) OR #c < :max',
				ExpressionAttributeNames: { '#c': 'count', '#ttl': 'ttl' },
				ExpressionAttributeValues: { ':one': 1, ':ttl': ttl, ':kind': kind, ':max': max }
			})
		)
	);
}

/** Gives back one reserved unit of a counter (never below zero); false when it was already at zero. */
export async function decrement(ctx: Ctx, id: string): Promise<boolean> {
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id },
				UpdateExpression: 'ADD #c :minus',
				ConditionExpression: '#c > :zero',
				ExpressionAttributeNames: { '#c': 'count' },
				ExpressionAttributeValues: { ':minus': -1, ':zero': 0 }
			})
		)
	);
}

export async function deleteCounter(ctx: Ctx, id: string): Promise<void> {
	await ctx.db.doc.send(new DeleteCommand({ TableName: ctx.db.tables.locks, Key: { id } }));
}
