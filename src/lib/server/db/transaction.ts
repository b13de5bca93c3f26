import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Ctx } from '../context';

/**
 * The one TransactWriteItems path. Callers name each item (`{ slotLock, appointment,
 * audit }`, an array for a group such as notices) and get a typed outcome: `{ ok: true }`,
 * or `{ ok: false, failed: 'slotLock', current }` naming the first item whose condition
 * failed and, when DynamoDB returned it, that item as stored. The mapping from DynamoDB's
 * positional cancellation reasons to names lives here alone. DynamoDB's transient
 * TransactionConflict is retried a few times; any other error is thrown.
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type NamedItems<K extends string> = { [P in K]?: TransactItem | TransactItem[] | undefined };
export type TransactOutcome<K extends string> =
	| { ok: true }
	| { ok: false; failed: K; current: Record<string, unknown> | undefined };

type CancellationReason = { Code?: string; Message?: string; Item?: Record<string, AttributeValue> };

export async function transactNamed<K extends string>(ctx: Ctx, named: NamedItems<K>): Promise<TransactOutcome<K>> {
	const items: TransactItem[] = [];
	const nameAt: K[] = [];
	for (const [name, value] of Object.entries(named) as [K, TransactItem | TransactItem[] | undefined][]) {
		for (const item of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
			items.push(item);
			nameAt.push(name);
		}
	}
	for (let attempt = 0; ; attempt++) {
		try {
			await ctx.db.doc.send(new TransactWriteCommand({ TransactItems: items }));
			return { ok: true };
		} catch (err) {
			if ((err as Error).name !== 'TransactionCanceledException') throw err;
			const reasons = ((err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []) as CancellationReason[];
			const failedAt = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
			if (failedAt >= 0) {
				const item = reasons[failedAt]?.Item;
				return { ok: false, failed: nameAt[failedAt]!, current: item ? unmarshall(item) : undefined };
			}
			if (reasons.some((r) => r.Code === 'TransactionConflict') && attempt < 8) {
				await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
				continue;
			}
			throw err;
		}
	}
}
