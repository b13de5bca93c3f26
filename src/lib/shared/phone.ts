import { z } from 'zod';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { textProblem } from './text';

/**
 * Phone numbers, parsed with libphonenumber-js and stored in E.164 (`+4930123456`), so the
 * SMS outbox always has a dialable number. A number typed without a country code is read
 * in the hospital's region (PHONE_DEFAULT_REGION). A number that cannot exist (a length,
 * area code or exchange its country's numbering plan does not have, letters, more than 15
 * digits) is refused with a 400, and so is an extension (E.164 has none, and an SMS cannot
 * dial one).
 */
export type { CountryCode };

export function toE164(raw: string, region: CountryCode): string | undefined {
	const p = parsePhoneNumberFromString(raw.trim(), { defaultCountry: region, extract: false });
	if (!p || p.ext || !p.isValid() || p.number.length > 16) return undefined;
	return p.number;
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
					message: `is not a phone number that can exist, or has an extension (numbers without a country code are read as ${region}; e.g. +12025550143)`
				});
				return z.NEVER;
			}
			return e164;
		});
}

/** A stored E.164 number as people read it, with its spaces ("+1 202 555 0143"); anything unparsable as it is. */
export function displayPhone(e164: string): string {
	return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
