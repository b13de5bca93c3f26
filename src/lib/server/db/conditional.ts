/**
 * A single conditional write outside a transaction (Put/Update/Delete with a
 * ConditionExpression): its failed condition is an answer, not an error. The one place
 * that recognises DynamoDB's ConditionalCheckFailedException; repositories return the
 * answer as a typed result (`false` / `undefined`), services never see the exception.
 * (Transactions report failed conditions through db/transaction.ts instead.)
 */
export const isConditionFailed = (err: unknown): boolean => (err as Error | undefined)?.name === 'ConditionalCheckFailedException';

/** The write's result, or undefined when its condition failed; any other error is thrown. */
export async function ifConditionHolds<T>(write: Promise<T>): Promise<T | undefined> {
	try {
		return await write;
	} catch (err) {
		if (isConditionFailed(err)) return undefined;
		throw err;
	}
}

/** True when the write was applied, false when its condition failed; any other error is thrown. */
export async function applied(write: Promise<unknown>): Promise<boolean> {
	return (await ifConditionHolds(write.then(() => true))) ?? false;
}
