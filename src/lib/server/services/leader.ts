import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';

/**
 * The scheduler's leader lease, a row of `locks` (`lease#scheduler`). One worker holds it
 * and runs the jobs; it renews it every heartbeat, and the renewal is also the heartbeat
 * that /api/health reports. `version` is the fencing token: it grows by one each time the
 * lease changes hands (never on renewal, and releasing keeps the row so it never goes
 * back), and a worker checks it holds the current token before starting each job.
 */
export const SCHEDULER_LEASE_ID = 'lease#scheduler';

export type LeaseItem = {
	id: string;
	kind: 'lease';
	owner: string;
	/** The fencing token. */
	version: number;
	/** ms since epoch */
	expires_at: number;
	heartbeat_at: string;
	acquired_at: string;
	ttl: number;
};

const conditionFailed = (err: unknown) => (err as Error).name === 'ConditionalCheckFailedException';
// Kept a day past expiry so housekeeping never removes the counter of a live deployment.
const ttlOf = (expiresAt: number) => Math.ceil(expiresAt / 1000) + 86_400;

/** Takes the lease if nobody holds it (or the holder let it lapse); the new fencing token, or undefined. */
export async function acquireLease(ctx: Ctx, owner: string, leaseMs: number, now = Date.now()): Promise<number | undefined> {
	const expires = now + leaseMs;
	try {
		const res = await ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id: SCHEDULER_LEASE_ID },
				UpdateExpression:
					'SET #owner = :me, #v = if_not_exists(#v, :zero) + :one, expires_at = :exp, heartbeat_at = :hb, acquired_at = :hb, kind = :kind, #ttl = :ttl',
				ConditionExpression: 'attribute_not_exists(id) OR expires_at <= :now',
				ExpressionAttributeNames: { '#owner': 'owner', '#v': 'version', '#ttl': 'ttl' },
				ExpressionAttributeValues: {
					':me': owner,
					':zero': 0,
					':one': 1,
					':exp': expires,
					':hb': new Date(now).toISOString(),
					':now': now,
					':kind': 'lease',
					':ttl': ttlOf(expires)
				},
				ReturnValues: 'ALL_NEW'
			})
		);
		return Number(res.Attributes?.version);
	} catch (err) {
		if (conditionFailed(err)) return undefined;
		throw err;
	}
}

/** Extends the lease this worker holds under `token`; false when it lost it. */
export async function renewLease(ctx: Ctx, owner: string, token: number, leaseMs: number, now = Date.now()): Promise<boolean> {
	const expires = now + leaseMs;
	try {
		await ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id: SCHEDULER_LEASE_ID },
				UpdateExpression: 'SET expires_at = :exp, heartbeat_at = :hb, #ttl = :ttl',
				ConditionExpression: '#owner = :me AND #v = :token AND expires_at > :now',
				ExpressionAttributeNames: { '#owner': 'owner', '#v': 'version', '#ttl': 'ttl' },
				ExpressionAttributeValues: {
					':me': owner,
					':token': token,
					':exp': expires,
					':hb': new Date(now).toISOString(),
					':now': now,
					':ttl': ttlOf(expires)
				}
			})
		);
		return true;
	} catch (err) {
		if (conditionFailed(err)) return false;
		throw err;
	}
}

/** Hands the lease back at shutdown so another worker takes over at once. */
export async function releaseLease(ctx: Ctx, owner: string, token: number): Promise<void> {
	try {
		await ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id: SCHEDULER_LEASE_ID },
				UpdateExpression: 'SET expires_at = :zero',
				ConditionExpression: '#owner = :me AND #v = :token',
				ExpressionAttributeNames: { '#owner': 'owner', '#v': 'version' },
				ExpressionAttributeValues: { ':me': owner, ':token': token, ':zero': 0 }
			})
		);
	} catch (err) {
		if (!conditionFailed(err)) throw err;
	}
}

export async function readLease(ctx: Ctx): Promise<LeaseItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.locks, Key: { id: SCHEDULER_LEASE_ID }, ConsistentRead: true })
	);
	return res.Item as LeaseItem | undefined;
}

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
