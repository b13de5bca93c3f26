import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Ctx } from '../context';

/**
 * The one TransactWriteItems path. Callers name each item (`{ slotLock, appointment,
 * audit }`, an array for a group such as notices) and get a typed outcome: `{ ok: true }`,
 * or `{ ok: false, failed: 'slotLock', current }` naming the first item whose condition
 * failed and, when DynamoDB returned it, that item as stored. The mapping from DynamoDB's
 * positional cancellation reasons to names lives here alone (`cancellationOutcome`).
 * DynamoDB's transient TransactionConflict is retried a few times; any other error is thrown.
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type NamedItems<K extends string> = { [P in K]?: TransactItem | TransactItem[] | undefined };
export type TransactFailure<K extends string> = { ok: false; failed: K; current: Record<string, unknown> | undefined };
export type TransactOutcome<K extends string> = { ok: true } | TransactFailure<K>;

export type CancellationReason = { Code?: string; Message?: string; Item?: Record<string, AttributeValue> };

/** The items in order, and the name each position belongs to (a group's items share its name). */
export function flattenNamed<K extends string>(named: NamedItems<K>): { items: TransactItem[]; nameAt: K[] } {
	const items: TransactItem[] = [];
	const nameAt: K[] = [];
	for (const [name, value] of Object.entries(named) as [K, TransactItem | TransactItem[] | undefined][]) {
		for (const item of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
			items.push(item);
			nameAt.push(name);
		}
	}
	return { items, nameAt };
}

/**
 * What a cancelled transaction means, from DynamoDB's cancellation reasons (one per item,
 * in order; `None` for items that were fine): the first item whose condition failed, with
 * the item as stored when DynamoDB returned it; else `retry` when another transaction got
 * in the way (TransactionConflict); else `error` (rethrow what DynamoDB said).
 */
export function cancellationOutcome<K extends string>(
	reasons: readonly CancellationReason[],
	nameAt: readonly K[]
): TransactFailure<K> | 'retry' | 'error' {
	const failedAt = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
	if (failedAt >= 0 && failedAt < nameAt.length) {
		const item = reasons[failedAt]?.Item;
		return { ok: false, failed: nameAt[failedAt]!, current: item ? unmarshall(item) : undefined };
	}
	if (reasons.some((r) => r.Code === 'TransactionConflict')) return 'retry';
	return 'error';
}

const MAX_CONFLICT_RETRIES = 8;

export async function transactNamed<K extends string>(ctx: Ctx, named: NamedItems<K>): Promise<TransactOutcome<K>> {
	const { items, nameAt } = flattenNamed(named);
	for (let attempt = 0; ; attempt++) {
		try {
			await ctx.db.doc.send(new TransactWriteCommand({ TransactItems: items }));
			return { ok: true };
		} catch (err) {
			if ((err as Error).name !== 'TransactionCanceledException') throw err;
			const reasons = (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
			const outcome = cancellationOutcome(reasons, nameAt);
			if (outcome === 'retry' && attempt < MAX_CONFLICT_RETRIES) {
				await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
				continue;
			}
			if (typeof outcome === 'object') return outcome;
			throw err;
		}
	}
}

/**
 * For an item whose condition cannot fail unless something is badly wrong (an audit entry's
 * fresh id, a user row that vanished mid-request): an internal error naming it.
 */
export function unexpectedFailure(outcome: TransactFailure<string>): Error {
	return new Error(`transaction cancelled: the condition of "${outcome.failed}" failed unexpectedly`);
}
