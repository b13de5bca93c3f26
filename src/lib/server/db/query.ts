import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';

/** Every page of a Query, for access patterns known to stay small (one patient, one day). */
export async function queryAll<T>(ctx: Ctx, input: QueryCommandInput): Promise<T[]> {
	const out: T[] = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const res = await ctx.db.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
		out.push(...((res.Items ?? []) as T[]));
		startKey = res.LastEvaluatedKey;
	} while (startKey);
	return out;
}
