import type { Ctx } from '../context';
import { acquireLeaseRow, readLeaseRow, releaseLeaseRow, renewLeaseRow, type LeaseItem } from '../repositories/leases';

/**
 * The scheduler's leader lease, a row of `locks` (`lease#scheduler`). One worker holds it
 * and runs the jobs; it renews it every heartbeat, and the renewal is also the heartbeat
 * that /api/health reports. `version` is the fencing token: it grows by one each time the
 * lease changes hands (never on renewal, and releasing keeps the row so it never goes
 * back), and a worker checks it holds the current token before starting each job.
 */
export const SCHEDULER_LEASE_ID = 'lease#scheduler';

export type { LeaseItem };

/** Takes the lease if nobody holds it (or the holder let it lapse); the new fencing token, or undefined. */
export const acquireLease = (ctx: Ctx, owner: string, leaseMs: number, now = Date.now()) => acquireLeaseRow(ctx, SCHEDULER_LEASE_ID, owner, leaseMs, now);

/** Extends the lease this worker holds under `token`; false when it lost it. */
export const renewLease = (ctx: Ctx, owner: string, token: number, leaseMs: number, now = Date.now()) =>
	renewLeaseRow(ctx, SCHEDULER_LEASE_ID, owner, token, leaseMs, now);

/** Hands the lease back at shutdown so another worker takes over at once. */
export const releaseLease = async (ctx: Ctx, owner: string, token: number): Promise<void> => {
	// Already lost (another worker took over): nothing to hand back.
	await releaseLeaseRow(ctx, SCHEDULER_LEASE_ID, owner, token);
};

export const readLease = (ctx: Ctx): Promise<LeaseItem | undefined> => readLeaseRow(ctx, SCHEDULER_LEASE_ID);

/** The fencing check before a job starts: this worker still holds the current token. */
export async function holdsLease(ctx: Ctx, owner: string, token: number, now = Date.now()): Promise<boolean> {
	const lease = await readLease(ctx);
	return !!lease && lease.owner === owner && lease.version === token && lease.expires_at > now;
}

export type WorkerHealth = {
	status: 'ok' | 'stale' | 'none';
	leader: string | null;
	lastHeartbeat: string | null;
	ageMs: number | null;
	fencingToken: number | null;
};

/** What /api/health says about the worker: the leader's last heartbeat and how old it is. */
export async function workerHealth(ctx: Ctx, now = Date.now()): Promise<WorkerHealth> {
	const lease = await readLease(ctx);
	if (!lease?.heartbeat_at) return { status: 'none', leader: null, lastHeartbeat: null, ageMs: null, fencingToken: null };
	const ageMs = Math.max(0, now - Date.parse(lease.heartbeat_at));
	const live = lease.expires_at > now;
	return {
		status: live ? 'ok' : 'stale',
		leader: live ? lease.owner : null,
		lastHeartbeat: lease.heartbeat_at,
		ageMs,
		fencingToken: lease.version
	};
}
