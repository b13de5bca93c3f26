import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../db/query';
import type { Ctx } from '../context';

/** A clinician's emergency read access to one patient ("break the glass"), until `expires_at`. */
export type AccessGrantItem = {
	user_id: string;
	patient_id: string;
	kind: 'emergency';
	reason: string;
	created_at: string;
	/** epoch ms */
	expires_at: number;
	/** epoch s, for DynamoDB TTL (a day after expiry; the check uses expires_at) */
	ttl: number;
};

export async function getAccessGrant(ctx: Ctx, userId: string, patientId: string): Promise<AccessGrantItem | undefined> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.access_grants, Key: { user_id: userId, patient_id: patientId }, ConsistentRead: true })
	);
	return res.Item as AccessGrantItem | undefined;
}

/** The Put of a grant, for the transaction that audits it and tells the super admins. */
export function accessGrantPut(ctx: Ctx, grant: AccessGrantItem) {
	return { Put: { TableName: ctx.db.tables.access_grants, Item: grant } };
}

/** The grants a user holds that have not expired. */
export async function activeGrantsOf(ctx: Ctx, userId: string, now = Date.now()): Promise<AccessGrantItem[]> {
	const rows = await queryAll<AccessGrantItem>(ctx, {
		TableName: ctx.db.tables.access_grants,
		KeyConditionExpression: 'user_id = :u',
		FilterExpression: 'expires_at > :now',
		ExpressionAttributeValues: { ':u': userId, ':now': now },
		ConsistentRead: true
	});
	return rows;
}
