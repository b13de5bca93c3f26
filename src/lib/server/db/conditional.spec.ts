import { describe, expect, it } from 'vitest';
import { applied, ifConditionHolds, isConditionFailed } from './conditional';

const named = (name: string) => Object.assign(new Error(name), { name });

describe('conditional writes', () => {
	it('a write that succeeds gives its result / true', async () => {
		expect(await ifConditionHolds(Promise.resolve({ Attributes: { version: 2 } }))).toEqual({ Attributes: { version: 2 } });
		expect(await applied(Promise.resolve({}))).toBe(true);
	});

	it('a failed condition is an answer: undefined / false', async () => {
		expect(await ifConditionHolds(Promise.reject(named('ConditionalCheckFailedException')))).toBeUndefined();
		expect(await applied(Promise.reject(named('ConditionalCheckFailedException')))).toBe(false);
	});

	it('any other error is thrown as it came', async () => {
		await expect(applied(Promise.reject(named('ProvisionedThroughputExceededException')))).rejects.toThrow('ProvisionedThroughputExceededException');
		await expect(ifConditionHolds(Promise.reject(named('DbUnavailableError')))).rejects.toMatchObject({ name: 'DbUnavailableError' });
	});

	it('recognises the exception by name only', () => {
		expect(isConditionFailed(named('ConditionalCheckFailedException'))).toBe(true);
		expect(isConditionFailed(named('TransactionCanceledException'))).toBe(false);
		expect(isConditionFailed(undefined)).toBe(false);
	});
});
