import type { Caller } from '../actor';

declare global {
	namespace Express {
		interface Request {
			caller: Caller;
			requestId: string;
		}
	}
}
export {};
