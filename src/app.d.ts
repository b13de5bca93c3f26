import type { SessionUser } from '$lib/shared/pages';

// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
	namespace App {
		interface Locals {
			user: SessionUser | null;
		}
		interface Error {
			message: string;
			code?: string;
		}
	}
}

export {};
