import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { applied, ifConditionHolds } from '../db/conditional';

/**
 * Lease rows in `locks`: one holder at a time, `version` the fencing token (it grows by one
 * each time the lease changes hands, never on renewal), `expires_at` in ms since epoch.
 */
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

// Kept a day past expiry so housekeeping never removes the counter of a live deployment.
const ttlOf = (expiresAt: number) => Math.ceil(expiresAt / 1000) + 86_400;

/** Takes the lease if nobody holds it (or the holder let it lapse); the new fencing token, or undefined. */
export async function acquireLeaseRow(ctx: Ctx, id: string, owner: string, leaseMs: number, now: number): Promise<number | undefined> {
	const expires = now + leaseMs;
	const res = await ifConditionHolds(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id },
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
		)
	);
	return res ? Number(res.Attributes?.version) : undefined;
}

/** Extends the lease `owner` holds under `token`; false when it lost it. */
export async function renewLeaseRow(ctx: Ctx, id: string, owner: string, token: number, leaseMs: number, now: number): Promise<boolean> {
	const expires = now + leaseMs;
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id },
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
		)
	);
}

/** Hands the lease back (expires it now, keeping the row so the token never goes back); false if `owner` no longer held it. */
export async function releaseLeaseRow(ctx: Ctx, id: string, owner: string, token: number): Promise<boolean> {
	return applied(
		ctx.db.doc.send(
			new UpdateCommand({
				TableName: ctx.db.tables.locks,
				Key: { id },
				UpdateExpression: 'SET expires_at = :zero',
				ConditionExpression: '#owner = :me AND #v = :token',
				ExpressionAttributeNames: { '#owner': 'owner', '#v': 'version' },
				ExpressionAttributeValues: { ':me': owner, ':token': token, ':zero': 0 }
			})
		)
	);
}

export async function readLeaseRow(ctx: Ctx, id: string): Promise<LeaseItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.locks, Key: { id }, ConsistentRead: true })
	);
	return res.Item as LeaseItem | undefined;
}

