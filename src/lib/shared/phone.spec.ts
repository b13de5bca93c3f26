import { describe, expect, it } from 'vitest';
import { displayPhone, phoneNumber, toE164 } from './phone';

describe('phone numbers', () => {
	it('are stored in E.164 whichever way they were typed', () => {
		const us = phoneNumber('US');
		expect(us.parse('(202) 555-0143')).toBe('+12025550143');
		expect(us.parse('202.555.0143')).toBe('+12025550143');
		expect(us.parse('+1 202 555 0143')).toBe('+12025550143');
		expect(us.parse('+44 20 7946 0958')).toBe('+442079460958');
	});

	it('read a number without a country code in the configured region', () => {
		expect(toE164('030 1234567', 'DE')).toBe('+49301234567');
		expect(toE164('020 7946 0958', 'GB')).toBe('+442079460958');
	});

	it('refuse impossible numbers, letters and control characters with a message', () => {
		const us = phoneNumber('US');
		for (const bad of ['123', '+1 555', 'call me', '+999 1234567', '+1202555014399999', '+1 011 123 4567', '+1 123 456 7890', '0000000000', '+4930123456789012', '(202) 555-0143 ext. 12']) {
			const r = us.safeParse(bad);
			expect(r.success, bad).toBe(false);
		}
		const r = us.safeParse('202\u0000555 0143');
		expect(r.success).toBe(false);
		expect(r.error?.issues[0]?.message).toContain('U+0000');
	});

	it('shows a stored number with the spaces people read it with, and leaves anything else as it is', () => {
		expect(displayPhone('+12025550143')).toBe('+1 202 555 0143');
		expect(displayPhone('+442071838750')).toBe('+44 20 7183 8750');
		expect(displayPhone('not a phone')).toBe('not a phone');
	});
});
