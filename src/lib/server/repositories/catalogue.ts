import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';

/** The services catalogue (`services` table): what the hospital charges for. */
export type ServiceItem = {
	id: string;
	name: string;
	price_cents: number;
	currency: string;
	duration_minutes: number;
	category: string;
	active: boolean;
	version: number;
};

export async function getServiceRow(ctx: Ctx, id: string): Promise<ServiceItem | undefined> {
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.services, Key: { id } }));
	return res.Item as ServiceItem | undefined;
}
