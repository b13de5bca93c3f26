import type { Ctx } from '../context';
import { room } from '$lib/shared/rooms';

/**
 * `analytics:updated` after a write that moved a dashboard figure, to `role:admin` and the
 * doctor's `user:<id>`, coalesced per room: the first change of a quiet room goes out at once,
 * the rest of a burst as one more event at the end of a COALESCE_MS window. So 100 bookings in
 * a second send each room a handful of redraws, not 100, and a lone change arrives at once.
 */
export const COALESCE_MS = 300;

type Window = { timer: ReturnType<typeof setTimeout>; pending: boolean };
const windows = new WeakMap<Ctx, Map<string, Window>>();

function emitCoalesced(ctx: Ctx, name: `role:admin` | `user:${string}`): void {
	let open = windows.get(ctx);
	if (!open) windows.set(ctx, (open = new Map()));
	const w = open.get(name);
	if (w) {
		w.pending = true;
		return;
	}
	const send = () => ctx.bus.emit(name, 'analytics:updated', { at: new Date().toISOString() });
	send();
	const close = (): ReturnType<typeof setTimeout> =>
		setTimeout(() => {
			const cur = open.get(name);
			if (cur?.pending) {
				cur.pending = false;
				send();
				cur.timer = close();
			} else open.delete(name);
		}, COALESCE_MS).unref();
	open.set(name, { timer: close(), pending: false });
}

/** After commit: the hospital's dashboard and these doctors' (by user id) may have changed. */
export function announceAnalytics(ctx: Ctx, doctorUserIds: (string | undefined)[]): void {
	emitCoalesced(ctx, room.role('admin'));
	for (const u of new Set(doctorUserIds)) if (u) emitCoalesced(ctx, room.user(u));
}
