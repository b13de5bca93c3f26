import crypto from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { TransactItem } from '../db/transaction';
import type { VersionStamp } from '../db/versioned';
import { queryAll } from '../db/query';
import type { VentilatorStatus } from '$lib/shared/ventilators';

/**
 * Every DynamoDB call of ventilators and their movement log, plain. A device's id is derived
 * from its hospital and serial, so creating it with `attribute_not_exists(id)` is the serial's
 * uniqueness per hospital; the log is its own table so a device row stays small.
 */
export type VentilatorItem = VersionStamp & {
	id: string;
	hospital_id: string;
	serial: string;
	serial_lower: string;
	location: string;
	status: VentilatorStatus;
	patient_id?: string;
	patient_name?: string;
	created_at: string;
};

export type VentilatorMoveItem = {
	ventilator_id: string;
	/** `<ISO time>#<random>`: newest first, never two at the same key. */
	at_key: string;
	at: string;
	hospital_id: string;
	by_id: string;
	by_name: string;
	from_location: string;
	to_location: string;
	from_status: VentilatorStatus | null;
	to_status: VentilatorStatus;
	patient_id?: string;
	patient_name?: string;
	reason: string;
};

/** The id of the device with this serial at this hospital (case-insensitive serial). */
export function ventilatorId(hospitalId: string, serial: string): string {
	return `v_${crypto.createHash('sha256').update(hospitalId).update('\u0000').update(serial.toLowerCase()).digest('base64url').slice(0, 32)}`;
}

export function ventilatorPut(ctx: Ctx, item: VentilatorItem) {
	return {
		Put: { TableName: ctx.db.tables.ventilators, Item: item, ConditionExpression: 'attribute_not_exists(id)' }
	} satisfies TransactItem;
}

export function moveLogPut(ctx: Ctx, item: Omit<VentilatorMoveItem, 'at_key'>) {
	const entry: VentilatorMoveItem = { ...item, at_key: `${item.at}#${crypto.randomBytes(4).toString('hex')}` };
	return {
		Put: { TableName: ctx.db.tables.ventilator_moves, Item: entry, ConditionExpression: 'attribute_not_exists(at_key)' }
	} satisfies TransactItem;
}

/**
 * One patient, one ventilator: while a device is in use for a patient, the ventilators table
 * holds a guard row `ventilator-patient#<patientId>` naming that device, put only if absent in
 * the assigning move's transaction and deleted in the freeing one. It carries no `hospital_id` or
 * `serial_lower`, so it never appears in `hospital-index`.
 */
export type PatientGuardItem = { id: string; kind: 'ventilator-patient'; patient_id: string; device_id: string; device_serial: string; device_hospital_id: string; since: string };
export const patientGuardId = (patientId: string) => `ventilator-patient#${patientId}`;

export function patientGuardPut(ctx: Ctx, g: Omit<PatientGuardItem, 'id' | 'kind'>) {
	const item: PatientGuardItem = { id: patientGuardId(g.patient_id), kind: 'ventilator-patient', ...g };
	return {
		Put: { TableName: ctx.db.tables.ventilators, Item: item, ConditionExpression: 'attribute_not_exists(id)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }
	} satisfies TransactItem;
}

/** Frees the patient's guard, only if it is this device's (a concurrent change makes the move fail rather than free another device's). */
export function patientGuardDelete(ctx: Ctx, patientId: string, deviceId: string) {
	return {
		Delete: {
			TableName: ctx.db.tables.ventilators,
			Key: { id: patientGuardId(patientId) },
			ConditionExpression: 'device_id = :d',
			ExpressionAttributeValues: { ':d': deviceId },
			ReturnValuesOnConditionCheckFailure: 'ALL_OLD'
		}
	} satisfies TransactItem;
}

export async function getPatientGuard(ctx: Ctx, patientId: string): Promise<PatientGuardItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.ventilators, Key: { id: patientGuardId(patientId) }, ConsistentRead: true }));
	return res.Item as PatientGuardItem | undefined;
}

export async function getVentilator(ctx: Ctx, id: string): Promise<VentilatorItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.ventilators, Key: { id }, ConsistentRead: true }));
	return res.Item as VentilatorItem | undefined;
}

/** Every device of a hospital by serial (a site has tens, not thousands). */
export async function ventilatorsOfHospital(ctx: Ctx, hospitalId: string): Promise<VentilatorItem[]> {
	return queryAll<VentilatorItem>(ctx, {
		TableName: ctx.db.tables.ventilators,
		IndexName: 'hospital-index',
		KeyConditionExpression: 'hospital_id = :h',
		ExpressionAttributeValues: { ':h': hospitalId }
	});
}

/** One page of a device's movement log, newest first. */
export async function movesOf(
	ctx: Ctx,
	ventilatorId: string,
	limit: number,
	startKey?: Record<string, unknown>
): Promise<{ items: VentilatorMoveItem[]; lastKey?: Record<string, unknown> }> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.ventilator_moves,
			KeyConditionExpression: 'ventilator_id = :v',
			ExpressionAttributeValues: { ':v': ventilatorId },
			ScanIndexForward: false,
			Limit: limit,
			ExclusiveStartKey: startKey
		})
	);
	return { items: (res.Items ?? []) as VentilatorMoveItem[], lastKey: res.LastEvaluatedKey };
}
