import { BatchGetCommand, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { indexWrites, searchTerm, type SearchEntry, type SearchFilter } from '../db/search-index';
import type { TransactItem } from '../db/transaction';
import { namePrefixes, words } from '$lib/shared/search';
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

/**
 * An account as the search index holds it: prefixes of the words of the name and of the
 * e-mail's local part (`anne.marshall@…` → anne, marshall) under `n:`, carrying e-mail and role.
 */
export function userSearchEntry(u: Pick<UserItem, 'id' | 'name' | 'email' | 'role'>): SearchEntry {
	const local = u.email.split('@')[0] ?? '';
	return {
		kind: 'user',
		id: u.id,
		name: u.name,
		terms: namePrefixes([...words(u.name), ...words(local)]).map((w) => `n:${w}`),
		data: { email: u.email.toLowerCase(), role: u.role }
	};
}

/** The index items of an account's creation (`before` undefined) or change, for its transaction. */
export function userIndexWrites(ctx: Ctx, before: Parameters<typeof userSearchEntry>[0] | undefined, after: Parameters<typeof userSearchEntry>[0]): TransactItem[] {
	return indexWrites(ctx, before && userSearchEntry(before), userSearchEntry(after));
}

/** One page of account ids under one index term, by name. */
export async function searchUserTerm(ctx: Ctx, q: { term: string; filter?: SearchFilter; limit: number; after?: string }) {
	const page = await searchTerm(ctx, { kind: 'user', ...q });
	return { ids: page.hits.map((h) => h.entity_id), next: page.next };
}

/** Accounts by id (at most 100), in the order asked; ids that are gone are left out. */
export async function getUsers(ctx: Ctx, ids: string[]): Promise<UserItem[]> {
	if (ids.length === 0) return [];
	const found = new Map<string, UserItem>();
	let keys: Record<string, unknown>[] | undefined = [...new Set(ids)].map((id) => ({ id }));
	for (let attempt = 0; keys?.length; attempt++) {
		if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
		const res = await ctx.db.doc.send(new BatchGetCommand({ RequestItems: { [ctx.db.tables.users]: { Keys: keys, ConsistentRead: true } } }));
		for (const u of (res.Responses?.[ctx.db.tables.users] ?? []) as UserItem[]) found.set(u.id, u);
		keys = res.UnprocessedKeys?.[ctx.db.tables.users]?.Keys as Record<string, unknown>[] | undefined;
	}
	return ids.flatMap((id) => found.get(id) ?? []);
}

/** A page of every account (e-mail guards included), for the search-index backfill job only (never a request path). */
export async function scanUsersForMaintenance(ctx: Ctx, startKey?: Record<string, unknown>) {
	const res = await ctx.db.doc.send(new ScanCommand({ TableName: ctx.db.tables.users, Limit: 200, ExclusiveStartKey: startKey }));
	return { items: ((res.Items ?? []) as UserItem[]).filter((u) => !u.id.startsWith('email#') && u.role), lastKey: res.LastEvaluatedKey };
}
