/**
 * The password policy (SPEC §3) as rules a form can show and tick off while typing. The
 * server's zod schema (`$lib/server/auth/passwords.ts`) is built from the same rules.
 */
export const PASSWORD_RULES = [
	{ id: 'length', label: 'At least 8 characters', message: 'must be at least 8 characters', test: (p: string) => p.length >= 8 },
	{ id: 'upper', label: 'An upper-case letter (A–Z)', message: 'must contain an upper-case letter', test: (p: string) => /[A-Z]/.test(p) },
	{ id: 'lower', label: 'A lower-case letter (a–z)', message: 'must contain a lower-case letter', test: (p: string) => /[a-z]/.test(p) },
	{ id: 'digit', label: 'A digit (0–9)', message: 'must contain a digit', test: (p: string) => /[0-9]/.test(p) },
	{ id: 'symbol', label: 'A symbol, such as ! ? # or -', message: 'must contain a symbol', test: (p: string) => /[^A-Za-z0-9]/.test(p) }
] as const;

export const passwordMeetsPolicy = (p: string) => p.length <= 256 && PASSWORD_RULES.every((r) => r.test(p));
