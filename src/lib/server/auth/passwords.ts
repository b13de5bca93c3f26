import argon2 from 'argon2';
import { z } from 'zod';
import { PASSWORD_RULES } from '$lib/shared/password';

/** Password policy (SPEC §3): the rules in `$lib/shared/password.ts`, which forms show too. */
export const passwordSchema = PASSWORD_RULES.reduce(
	(schema, rule) => schema.refine(rule.test, rule.message),
	z.string().max(256, 'must be at most 256 characters') as z.ZodType<string>
);

/** argon2id at OWASP's minimum or above: 19 MiB, 2 iterations, 1 lane. */
export function hashPassword(password: string, memoryKib = 19456): Promise<string> {
	return argon2.hash(password, {
		type: argon2.argon2id,
		memoryCost: memoryKib,
		timeCost: 2,
		parallelism: 1
	});
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
	try {
		return await argon2.verify(hash, password);
	} catch {
		return false;
	}
}

// A real hash to verify against when the account does not exist, so that a missing
// account takes as long to refuse as a wrong password.
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
	decoy ??= hashPassword(`decoy-${Math.random()}-Aa1!`);
	return decoy;
}
