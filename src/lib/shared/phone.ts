import { z } from 'zod';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { textProblem } from './text';

/**
 * Phone numbers, parsed with libphonenumber-js and stored in E.164 (`+4930123456`), so the
 * SMS outbox always has a dialable number. A number typed without a country code is read
 * in the hospital's region (PHONE_DEFAULT_REGION). A number that cannot exist (wrong length
 * for its country, letters, a country code that is not one) is refused with a 400; a number
 * that is merely unassigned (like the 555 range) is possible and is kept.
 */
export type { CountryCode };

export function toE164(raw: string, region: CountryCode): string | undefined {
	const p = parsePhoneNumberFromString(raw.trim(), { defaultCountry: region, extract: false });
	return p && p.isPossible() ? p.number : undefined;
}

export function phoneNumber(region: CountryCode) {
	return z
		.string({ message: 'must be a phone number' })
		.max(40, 'must be at most 40 characters')
		.transform((raw, ctx) => {
			const problem = textProblem(raw);
			if (problem) {
				ctx.addIssue({ code: 'custom', message: problem });
				return z.NEVER;
			}
			const e164 = toE164(raw, region);
			if (!e164) {
				ctx.addIssue({
					code: 'custom',
					message: `is not a possible phone number (numbers without a country code are read as ${region}; e.g. +15551234567)`
				});
				return z.NEVER;
			}
			return e164;
		});
}
