import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from '../db/transaction';
import type { VersionStamp } from '../db/versioned';
import { queryAll } from '../db/query';
import type { EmergencyType, TimelineEntry } from '$lib/shared/emergencies';
import type { Needs, Severity } from '$lib/shared/hospitals';

/** Every DynamoDB call of internal emergencies and their acknowledgements, plain. */
export type EmergencyItem = VersionStamp & {
	id: string;
	/** 'active' while unresolved: the sparse index of open emergencies. */
	open_key?: 'active';
	hospital_id: string;
	type: EmergencyType;
	location: string;
	severity: Severity;
	departments: string[];
	status: 'active' | 'resolved';
	raised_by: string;
	raised_by_name: string;
	timeline: TimelineEntry[];
	reserved?: Needs;
	resolved_at?: string;
	created_at: string;
};

export type AckItem = {
	emergency_id: string;
	/** The department's slug: one acknowledgement per department. */
	department: string;
	department_name: string;
	by: string;
	by_name: string;
	at: string;
	response_seconds: number;
};

export function emergencyPut(ctx: Ctx, item: EmergencyItem) {
	return { Put: { TableName: ctx.db.tables.emergencies, Item: item, ConditionExpression: 'attribute_not_exists(id)' } } satisfies TransactItem;
}

export async function getEmergency(ctx: Ctx, id: string): Promise<EmergencyItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.emergencies, Key: { id }, ConsistentRead: true }));
	return res.Item as EmergencyItem | undefined;
}

export async function activeEmergencies(ctx: Ctx): Promise<EmergencyItem[]> {
	return queryAll<EmergencyItem>(ctx, {
		TableName: ctx.db.tables.emergencies,
		IndexName: 'open-created-index',
		KeyConditionExpression: 'open_key = :a',
		ExpressionAttributeValues: { ':a': 'active' },
		ScanIndexForward: false
	});
}

export async function acksOf(ctx: Ctx, emergencyId: string): Promise<AckItem[]> {
	return queryAll<AckItem>(ctx, {
		TableName: ctx.db.tables.emergency_acks,
		KeyConditionExpression: 'emergency_id = :e',
		ExpressionAttributeValues: { ':e': emergencyId }
	});
}

/** A department's acknowledgement, refused if that department already acknowledged. */
export function ackPut(ctx: Ctx, item: AckItem) {
	return {
		Put: { TableName: ctx.db.tables.emergency_acks, Item: item, ConditionExpression: 'attribute_not_exists(emergency_id)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }
	} satisfies TransactItem;
}

/** Appends to the timeline of an active emergency (and resolves it when `resolve`), bumping its version. */
export function emergencyTimelineUpdate(ctx: Ctx, id: string, entry: TimelineEntry, stamp: Omit<VersionStamp, 'version'>, resolve = false) {
	return {
		Update: {
			TableName: ctx.db.tables.emergencies,
			Key: { id },
			UpdateExpression:
				'SET #t = list_append(#t, :e), #v = #v + :one, updated_at = :ua, updated_by = :ub, updated_by_name = :un' +
				(resolve ? ', #s = :resolved, resolved_at = :ua REMOVE open_key' : ''),
			ConditionExpression: 'attribute_exists(id) AND #s = :active',
			ExpressionAttributeNames: { '#t': 'timeline', '#v': 'version', '#s': 'status' },
			ExpressionAttributeValues: {
				':e': [entry],
				':one': 1,
				':active': 'active',
				':ua': stamp.updated_at,
				':ub': stamp.updated_by,
				':un': stamp.updated_by_name,
				...(resolve ? { ':resolved': 'resolved' } : {})
			},
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}
