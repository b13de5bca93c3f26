/**
 * The password policy (SPEC §3) as rules a form can show and tick off while typing. The
 * server enforces the same policy in `$lib/server/auth/passwords.ts`.
 */
export const PASSWORD_RULES = [
	{ id: 'length', label: 'At least 8 characters', test: (p: string) => p.length >= 8 },
	{ id: 'upper', label: 'An upper-case letter (A–Z)', test: (p: string) => /[A-Z]/.test(p) },
	{ id: 'lower', label: 'A lower-case letter (a–z)', test: (p: string) => /[a-z]/.test(p) },
	{ id: 'digit', label: 'A digit (0–9)', test: (p: string) => /[0-9]/.test(p) },
	{ id: 'symbol', label: 'A symbol, such as ! ? # or -', test: (p: string) => /[^A-Za-z0-9]/.test(p) }
] as const;

export const passwordMeetsPolicy = (p: string) => p.length <= 256 && PASSWORD_RULES.every((r) => r.test(p));
