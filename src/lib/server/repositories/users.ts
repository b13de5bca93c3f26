import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Role } from '$lib/shared/roles';
import type { VersionStamp } from '../db/versioned';

export type UserItem = VersionStamp & {
	id: string;
	email: string;
	name: string;
	name_lower: string;
	role: Role;
	phone?: string;
	active: boolean;
	password_hash: string;
	patient_id?: string;
	doctor_id?: string;
	department?: string;
	/** The hospital (site) a staff member works at. */
	hospital_id?: string;
	last_login?: string;
	notify_email?: boolean;
	created_at: string;
};

export const emailGuardId = (email: string) => `email#${email.trim().toLowerCase()}`;

/** The uniqueness guard that claims an e-mail address; written with the user. */
export function emailGuardPut(ctx: Ctx, email: string, userId: string) {
	return {
		Put: {
			TableName: ctx.db.tables.users,
			Item: { id: emailGuardId(email), user_id: userId },
			ConditionExpression: 'attribute_not_exists(id)'
		}
	};
}

/** `last_login` is bookkeeping, not an edit: no version bump. For the login's transaction. */
export function lastLoginUpdate(ctx: Ctx, userId: string, at: string) {
	return {
		Update: {
			TableName: ctx.db.tables.users,
			Key: { id: userId },
			UpdateExpression: 'SET last_login = :now',
			ConditionExpression: 'attribute_exists(id)',
			ExpressionAttributeValues: { ':now': at }
		}
	};
}

export async function getUser(ctx: Ctx, id: string): Promise<UserItem | undefined> {
	if (id.startsWith('email#')) return undefined;
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.users, Key: { id }, ConsistentRead: true })
	);
	return res.Item as UserItem | undefined;
}

export async function getUserByEmail(ctx: Ctx, email: string): Promise<UserItem | undefined> {
	const guard = await ctx.db.doc.send(
		new GetCommand({
			TableName: ctx.db.tables.users,
			Key: { id: emailGuardId(email) },
			ConsistentRead: true
		})
	);
	const userId = guard.Item?.user_id as string | undefined;
	return userId ? getUser(ctx, userId) : undefined;
}

export async function listUsersByRole(
	ctx: Ctx,
	role: Role,
	limit: number,
	startKey?: Record<string, unknown>
): Promise<{ items: UserItem[]; lastKey?: Record<string, unknown> }> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.users,
			IndexName: 'role-name-index',
			KeyConditionExpression: '#r = :r',
			ExpressionAttributeNames: { '#r': 'role' },
			ExpressionAttributeValues: { ':r': role },
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as UserItem[], lastKey: res.LastEvaluatedKey };
}
