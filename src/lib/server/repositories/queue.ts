import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import { addDays } from '$lib/shared/time';

/**
 * The sequence of a doctor's day's queue announcements: one counter row per doctor and day
 * in `locks`, shared by every instance. An announcement takes the next number *before* it
 * reads the queue, so a higher number always read the queue later than every change
 * committed before it was numbered: the highest number a patient holds is the true place.
 */
export const queueSeqId = (doctorId: string, date: string) => `queue-seq#${doctorId}#${date}`;

/** Kept two days past the queue's day, then housekeeping (or DynamoDB's TTL) removes it. */
const ttlOf = (date: string) => Math.floor(Date.parse(`${addDays(date, 3)}T00:00:00Z`) / 1000);

/** Atomically the next number of this doctor's day (1 for the first announcement). */
export async function nextQueueSeq(ctx: Ctx, doctorId: string, date: string): Promise<number> {
	const res = await ctx.db.doc.send(
		new UpdateCommand({
			TableName: ctx.db.tables.locks,
			Key: { id: queueSeqId(doctorId, date) },
			UpdateExpression: 'ADD seq :one SET #ttl = :ttl, kind = :kind',
			ExpressionAttributeNames: { '#ttl': 'ttl' },
			ExpressionAttributeValues: { ':one': 1, ':ttl': ttlOf(date), ':kind': 'queue_seq' },
			ReturnValues: 'UPDATED_NEW'
		})
	);
	return Number(res.Attributes?.seq);
}

/** The number of the latest announcement so far (0 before the first), strongly consistent. */
export async function currentQueueSeq(ctx: Ctx, doctorId: string, date: string): Promise<number> {
	const res = await ctx.db.doc.send(
		new GetCommand({ TableName: ctx.db.tables.locks, Key: { id: queueSeqId(doctorId, date) }, ConsistentRead: true })
	);
	return Number(res.Item?.seq ?? 0);
}
