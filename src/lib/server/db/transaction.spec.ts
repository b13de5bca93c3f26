import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { cancellationOutcome, flattenNamed, type CancellationReason, type TransactItem } from './transaction';

const put = (table: string): TransactItem => ({ Put: { TableName: table, Item: { id: table } } });
const none: CancellationReason = { Code: 'None' };
const failed = (item?: Record<string, unknown>): CancellationReason => ({
	Code: 'ConditionalCheckFailed',
	Message: 'The conditional request failed',
	...(item ? { Item: marshall(item) } : {})
});

describe('flattenNamed', () => {
	it('keeps the order of the names, spreads a group and skips what is undefined', () => {
		const { items, nameAt } = flattenNamed({
			slotLock: put('locks'),
			notices: [put('notifications'), put('outbox')],
			skipped: undefined,
			audit: put('audit_logs')
		});
		expect(items.map((i) => i.Put?.TableName)).toEqual(['locks', 'notifications', 'outbox', 'audit_logs']);
		expect(nameAt).toEqual(['slotLock', 'notices', 'notices', 'audit']);
	});

	it('an empty group adds nothing', () => {
		expect(flattenNamed({ a: [], b: put('x') })).toEqual({ items: [put('x')], nameAt: ['b'] });
	});
});

describe('cancellationOutcome', () => {
	const names = ['slotLock', 'appointment', 'notices', 'notices', 'audit'] as const;

	it('names the first item whose condition failed', () => {
		expect(cancellationOutcome([none, failed(), none, failed(), none], names)).toEqual({ ok: false, failed: 'appointment', current: undefined });
		expect(cancellationOutcome([failed(), failed(), none, none, none], names)).toMatchObject({ failed: 'slotLock' });
	});

	it('maps an item of an array to its group name', () => {
		expect(cancellationOutcome([none, none, none, failed(), none], names)).toMatchObject({ ok: false, failed: 'notices' });
		expect(cancellationOutcome([none, none, failed(), none, none], names)).toMatchObject({ ok: false, failed: 'notices' });
	});

	it('returns the stored item, unmarshalled, as current', () => {
		const stored = { id: 'a1', version: 4, updated_by_name: 'Dr Who', tags: ['x'], nested: { n: 1 } };
		expect(cancellationOutcome([none, failed(stored), none, none, none], names)).toEqual({ ok: false, failed: 'appointment', current: stored });
	});

	it('ignores None reasons: a cancellation with no failed condition and no conflict is an error', () => {
		expect(cancellationOutcome([none, none, none, none, none], names)).toBe('error');
		expect(cancellationOutcome([], names)).toBe('error');
		expect(cancellationOutcome([none, { Code: 'ValidationError', Message: 'bad' }, none, none, none], names)).toBe('error');
	});

	it('signals a retry for a TransactionConflict', () => {
		expect(cancellationOutcome([none, { Code: 'TransactionConflict' }, none, none, none], names)).toBe('retry');
	});

	it('a failed condition wins over a conflict on another item', () => {
		expect(cancellationOutcome([{ Code: 'TransactionConflict' }, none, none, none, failed()], names)).toMatchObject({ failed: 'audit' });
	});
});
