import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { backoffMs, maskRecipient } from './delivery';
import type { Ctx } from '../context';

describe('outbox delivery rules', () => {
	it('masks phone numbers and addresses for the admin view', () => {
		expect(maskRecipient('sms', '+15550001234')).toBe('+1•••••1234');
		expect(maskRecipient('email', 'jane.doe@example.org')).toBe('j•••@example.org');
		expect(maskRecipient('sms', undefined)).toBeNull();
	});

	it('doubles the backoff with each attempt, capped at a day', () => {
		const ctx = { config: loadConfig({ OUTBOX_BACKOFF_SECONDS: '30' }) } as Ctx;
		expect([1, 2, 3, 4].map((n) => backoffMs(ctx, n))).toEqual([30_000, 60_000, 120_000, 240_000]);
		expect(backoffMs(ctx, 40)).toBe(86_400_000);
	});
});
