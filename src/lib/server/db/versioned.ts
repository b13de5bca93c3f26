import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { auditPut, type AuditInput } from './audit';
import type { RecordVersionEvent } from '$lib/shared/realtime';
import { RECORD_TYPES, room, type RecordType } from '$lib/shared/rooms';
import type { VersionConflictDetails } from '$lib/shared/errors';
import type { TableName } from './tables';
import { transactNamed, type NamedItems, type TransactItem } from './transaction';

export type { TransactItem };

/**
 * The one versioned-write path (SPEC §5). Every versioned record is created with
 * `version = 1` and changed only here: the update is conditioned on
 * `attribute_exists(pk) AND version = :read`, bumps `version`, goes in one
 * TransactWriteItems with its audit entry (and any other items the change needs), and the
 * new version is broadcast to the record's room once the write has committed, through the
 * context's bus (`ctx.bus`), so this module needs nothing from the realtime layer.
 */
export type VersionStamp = {
	version: number;
	updated_at: string;
	updated_by: string;
	updated_by_name: string;
};

/** Who changed a record and when (the `updated_*` fields of every versioned write). */
export function actorStamp(caller: Caller, now: string = new Date().toISOString()) {
	return {
		updated_at: now,
		updated_by: caller.actor?.id ?? 'system',
		updated_by_name: caller.actor?.name ?? 'MedTrack'
	};
}

export function conflictError(
	resourceType: string,
	id: string,
	yourVersion: number,
	current: Record<string, unknown> | undefined
): AppError {
	const details: VersionConflictDetails = {
		resourceType,
		id,
		yourVersion,
		currentVersion: typeof current?.version === 'number' ? current.version : null,
		updatedBy: typeof current?.updated_by_name === 'string' ? current.updated_by_name : null,
		updatedAt: typeof current?.updated_at === 'string' ? current.updated_at : null
	};
	const who = details.updatedBy ?? 'someone else';
	const when = details.updatedAt ? ` at ${details.updatedAt}` : '';
	return new AppError(
		409,
		'VERSION_CONFLICT',
		`This ${resourceType.replace(/_/g, ' ')} was changed by ${who}${when} after you opened it ` +
			`(you had version ${yourVersion}, it is now version ${details.currentVersion ?? '?'}). ` +
			`Reload to see their changes; your unsaved edits are kept on screen.`,
		details
	);
}

/** A new versioned record: version 1 and who created it. */
export function stampNew<T extends Record<string, unknown>>(
	caller: Caller,
	item: T
): T & VersionStamp & { created_at: string } {
	const now = new Date().toISOString();
	return { ...item, version: 1, created_at: now, ...actorStamp(caller, now) };
}

/** The Put of a new versioned record, refused if the key already exists. */
export function createPut(ctx: Ctx, table: TableName, pkName: string, item: Record<string, unknown>) {
	return {
		Put: {
			TableName: ctx.db.tables[table],
			Item: item,
			ConditionExpression: 'attribute_not_exists(#pk)',
			ExpressionAttributeNames: { '#pk': pkName }
		}
	};
}

/** Versioned records nobody subscribes to by `record:<type>:<id>` (their changes go out as their own events, if any). */
export type SilentResourceType = 'blood_stock' | 'blood_unit' | 'donor' | 'hospital' | 'ventilator' | 'ambulance_alert' | 'emergency';

const isRecordType = (t: string): t is RecordType => (RECORD_TYPES as readonly string[]).includes(t);

export type UpdateSpec = {
	table: TableName;
	pkName: string;
	id: string;
	/** The version the client read. */
	expectedVersion: number;
	/**
	 * The stored record `set` and `extra` were computed from (the service's own read). When
	 * given, a client version other than its version is a 409 before anything is written, so
	 * items derived from one version (search-index keys, counter moves) never commit under
	 * another: a client sending the next version while a concurrent change is in flight would
	 * otherwise pass the version condition with a stale plan.
	 */
	read?: Record<string, unknown> & { version: number };
	set: Record<string, unknown>;
	remove?: string[];
	/** A record type with a room; any other resource type (blood units, donors…) must be `silent`. */
	resourceType: RecordType | SilentResourceType;
	audit?: Omit<AuditInput, 'resourceType' | 'resourceId'>;
	/** Other items of the change's transaction, by name (`record` and `audit` are taken). */
	extra?: NamedItems<string>;
	/** The error for a failed condition on one of the `extra` items (undefined: a 409 that says so). */
	onFailed?: (name: string, current: Record<string, unknown> | undefined) => AppError | undefined;
	/** Skip the room broadcast (only for records nobody can subscribe to). */
	silent?: boolean;
	/**
	 * A rule the stored record must still satisfy at the moment of the write (besides its
	 * version), so a concurrent change cannot slip past a check the service made on its read:
	 * e.g. `attribute_not_exists(locked_at)`. Its failure is `error(current)`.
	 */
	guard?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown>; error: (current: Record<string, unknown>) => AppError };
};

/**
 * Applies `set`/`remove` if and only if the stored version is `expectedVersion`.
 * 409 VERSION_CONFLICT names who holds the newer version; 404 if the record is gone.
 */
export async function versionedUpdate(
	ctx: Ctx,
	caller: Caller,
	spec: UpdateSpec
): Promise<VersionStamp & { changedFields: string[] }> {
	if (spec.read && spec.read.version !== spec.expectedVersion) throw conflictError(spec.resourceType, spec.id, spec.expectedVersion, spec.read);
	const now = new Date().toISOString();
	const stamp = actorStamp(caller, now);
	const names: Record<string, string> = { '#pk': spec.pkName, '#version': 'version' };
	const values: Record<string, unknown> = { ':read': spec.expectedVersion, ':one': 1 };
	const sets: string[] = ['#version = #version + :one'];
	let i = 0;
	for (const [field, value] of Object.entries({ ...spec.set, ...stamp })) {
		if (value === undefined) continue;
		names[`#f${i}`] = field;
		values[`:v${i}`] = value;
		sets.push(`#f${i} = :v${i}`);
		i++;
	}
	const removes = (spec.remove ?? []).map((field, j) => {
		names[`#r${j}`] = field;
		return `#r${j}`;
	});
	const changedFields = [
		...Object.keys(spec.set).filter((k) => spec.set[k] !== undefined),
		...(spec.remove ?? [])
	];
	const key = { [spec.pkName]: spec.id };
	if (spec.guard) {
		Object.assign(names, spec.guard.names);
		Object.assign(values, spec.guard.values);
	}
	if (spec.extra && ('record' in spec.extra || 'audit' in spec.extra)) throw new Error('versionedUpdate: extra items may not be named record or audit');

	const outcome = await transactNamed(ctx, {
		record: {
			Update: {
				TableName: ctx.db.tables[spec.table],
				Key: key,
				UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
				ConditionExpression: `attribute_exists(#pk) AND #version = :read${spec.guard ? ` AND (${spec.guard.expression})` : ''}`,
				ExpressionAttributeNames: names,
				ExpressionAttributeValues: values,
				ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
			}
		},
		...(spec.extra ?? {}),
		audit: auditPut(ctx, caller, {
			action: 'update',
			resourceType: spec.resourceType,
			resourceId: spec.id,
			changedFields,
			...spec.audit
		})
	});
	if (!outcome.ok) {
		if (outcome.failed === 'record') {
			if (!outcome.current) throw notFound(`This ${spec.resourceType.replace(/_/g, ' ')}`);
			if (spec.guard && outcome.current.version === spec.expectedVersion) throw spec.guard.error(outcome.current);
			throw conflictError(spec.resourceType, spec.id, spec.expectedVersion, outcome.current);
		}
		throw (
			spec.onFailed?.(outcome.failed, outcome.current) ??
			new AppError(409, 'VERSION_CONFLICT', 'Something this change depends on changed at the same moment. Reload and try again.', {
				resourceType: spec.resourceType,
				id: spec.id,
				failed: outcome.failed
			})
		);
	}

	const result = { version: spec.expectedVersion + 1, ...stamp, changedFields };
	if (!spec.silent && isRecordType(spec.resourceType)) {
		const event: RecordVersionEvent = {
			type: spec.resourceType,
			id: spec.id,
			version: result.version,
			updatedBy: stamp.updated_by_name,
			updatedById: stamp.updated_by,
			updatedAt: now,
			changedFields
		};
		ctx.bus.emit(room.record(spec.resourceType, spec.id), 'record:updated', event);
	}
	return result;
}
