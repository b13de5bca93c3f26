import crypto from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../db/query';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import type { VersionStamp } from '../db/versioned';
import type { Vitals } from '$lib/shared/appointments';
import type { Prescription } from '$lib/shared/views';

export type RecordedVitals = Vitals & { recordedBy: string; recordedAt: string };

/** One amendment of a closed record: who, when, why, and the values it replaced. */
export type AmendmentItem = {
	at: string;
	by: string;
	by_name: string;
	reason: string;
	previous: Record<string, unknown>;
};

export type MedicalRecordItem = VersionStamp & {
	id: string;
	appointment_id: string;
	patient_id: string;
	doctor_id: string;
	doctor_name: string;
	/** The user who opened the record (the consulting doctor); absent on records from before authorship was kept. */
	author_user_id?: string;
	date: string;
	symptoms: string;
	diagnosis: string;
	treatment: string;
	notes: string;
	prescriptions: Prescription[];
	/** The pharmacy's row of each prescription (`prescriptions` table), same order; absent on older records. */
	prescription_ids?: string[];
	/** Set when the visit completed, with the vitals as they stood then. */
	locked_at?: string;
	vitals?: RecordedVitals;
	/** How many amendments `record_amendments` holds for it. */
	amendment_count?: number;
	created_at: string;
};

export type StoredAmendment = AmendmentItem & { record_id: string; sort_key: string };

/** The Put of one amendment, in the transaction that changes its record. */
export function amendmentPut(ctx: Ctx, recordId: string, a: AmendmentItem) {
	const item: StoredAmendment = { record_id: recordId, sort_key: `${a.at}#${crypto.randomUUID()}`, ...a };
	return { Put: { TableName: ctx.db.tables.record_amendments, Item: item, ConditionExpression: 'attribute_not_exists(sort_key)' } };
}

/** A record's amendments, oldest first. */
export function amendmentsOf(ctx: Ctx, recordId: string): Promise<StoredAmendment[]> {
	return queryAll<StoredAmendment>(ctx, {
		TableName: ctx.db.tables.record_amendments,
		KeyConditionExpression: 'record_id = :r',
		ExpressionAttributeValues: { ':r': recordId },
		ConsistentRead: true
	});
}

export async function getMedicalRecord(ctx: Ctx, id: string): Promise<MedicalRecordItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.medical_records, Key: { id }, ConsistentRead: true }));
	return res.Item as MedicalRecordItem | undefined;
}

export function medicalRecordsOfPatient(ctx: Ctx, patientId: string): Promise<MedicalRecordItem[]> {
	return queryAll<MedicalRecordItem>(ctx, {
		TableName: ctx.db.tables.medical_records,
		IndexName: 'patient-index',
		KeyConditionExpression: 'patient_id = :p',
		ExpressionAttributeValues: { ':p': patientId },
		ScanIndexForward: false
	});
}

/**
 * The record's closing, in the transaction that completes its visit: stamped, version
 * bumped (so a save from a copy read before completion is a 409, never a silent write),
 * with the visit's vitals kept on it.
 */
export function closeRecordUpdate(ctx: Ctx, caller: Caller, recordId: string, vitals: RecordedVitals | undefined, at: string) {
	return {
		Update: {
			TableName: ctx.db.tables.medical_records,
			Key: { id: recordId },
			UpdateExpression: `SET locked_at = :at, #v = #v + :one, updated_at = :at, updated_by = :by, updated_by_name = :byName${vitals ? ', vitals = :vitals' : ''}`,
			ConditionExpression: 'attribute_exists(id)',
			ExpressionAttributeNames: { '#v': 'version' },
			ExpressionAttributeValues: {
				':at': at,
				':one': 1,
				':by': caller.actor?.id ?? 'system',
				':byName': caller.actor?.name ?? 'MedTrack',
				...(vitals ? { ':vitals': vitals } : {})
			}
		}
	};
}
