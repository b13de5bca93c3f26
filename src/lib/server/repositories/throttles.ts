import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from '../db/transaction';

/**
 * Throttle rows in `locks`: "nothing of this kind again before `until`" (ms since epoch),
 * claimed by a conditional write in the transaction of what they throttle.
 */

/** Until when the throttle `id` holds (ms since epoch); 0 when there is none. */
export async function throttledUntil(ctx: Ctx, id: string): Promise<number> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.locks, Key: { id }, ConsistentRead: true }));
	return Number(res.Item?.until ?? 0);
}

/** Claims the throttle until `until`, only if it is free at `now`; the row expires by TTL a minute after. */
export function throttleClaimUpdate(ctx: Ctx, id: string, c: { until: number; now: number; kind: string }) {
	return {
		Update: {
			TableName: ctx.db.tables.locks,
			Key: { id },
			UpdateExpression: 'SET #until = :until, #ttl = :ttl, kind = :kind',
			ConditionExpression: 'attribute_not_exists(id) OR #until <= :now',
			ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
			ExpressionAttributeValues: { ':until': c.until, ':now': c.now, ':ttl': Math.ceil(c.until / 1000) + 60, ':kind': c.kind }
		}
	} satisfies TransactItem;
}
