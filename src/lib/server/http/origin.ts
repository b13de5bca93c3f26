import type { Ctx } from '../context';

/** The origins that are this app: ORIGIN when set, else the one the request was sent to. */
export function isOwnOrigin(ctx: Ctx, origin: string | undefined, host: string | undefined): boolean {
	if (!origin || !URL.canParse(origin)) return false;
	const o = new URL(origin);
	if (ctx.config.origin) return o.origin === new URL(ctx.config.origin).origin;
	return !!host && o.host === host;
}
