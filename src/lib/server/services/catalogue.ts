import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError } from '../errors';
import { createPut, stampNew, transact } from '../db/versioned';
import { auditPut } from './audit';

/** The services catalogue (billing): what the hospital charges for. */
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

export const CONSULTATION_SERVICE_ID = 'consultation-standard';

export const DEFAULT_SERVICES: Omit<ServiceItem, 'version'>[] = [
	{ id: CONSULTATION_SERVICE_ID, name: 'Consultation', price_cents: 5000, currency: 'USD', duration_minutes: 15, category: 'consultation', active: true },
	{ id: 'consultation-specialist', name: 'Specialist consultation', price_cents: 9000, currency: 'USD', duration_minutes: 30, category: 'consultation', active: true },
	{ id: 'lab-blood-panel', name: 'Blood panel', price_cents: 4500, currency: 'USD', duration_minutes: 10, category: 'laboratory', active: true },
	{ id: 'imaging-xray', name: 'X-ray', price_cents: 12000, currency: 'USD', duration_minutes: 20, category: 'imaging', active: true }
];

/** Creates the default services that are missing; existing rows are left as they are. */
export async function seedCatalogue(ctx: Ctx, caller: Caller): Promise<{ created: number; existed: number }> {
	let created = 0;
	let existed = 0;
	for (const s of DEFAULT_SERVICES) {
		try {
			await transact(
				ctx,
				[
					createPut(ctx, 'services', 'id', stampNew(caller, s)),
					auditPut(ctx, caller, { action: 'create', resourceType: 'service', resourceId: s.id, changedFields: Object.keys(s) })
				],
				(r) => (r[0]?.Code === 'ConditionalCheckFailed' ? new AppError(409, 'ALREADY_EXISTS', 'exists') : undefined)
			);
			created++;
		} catch (err) {
			if (!(err instanceof AppError)) throw err;
			existed++;
		}
	}
	return { created, existed };
}

// Prices change rarely; an invoice may use a price up to a minute old rather than pay a read
// on every completed visit.
const SERVICE_TTL_MS = 60_000;
const serviceCache = new WeakMap<Ctx, Map<string, { item: ServiceItem | undefined; at: number }>>();

export async function getService(ctx: Ctx, id: string): Promise<ServiceItem | undefined> {
	let cache = serviceCache.get(ctx);
	if (!cache) serviceCache.set(ctx, (cache = new Map()));
	const hit = cache.get(id);
	if (hit && Date.now() - hit.at < SERVICE_TTL_MS) return hit.item;
	const res = await ctx.db.doc.send(new GetCommand({ TableName: ctx.db.tables.services, Key: { id } }));
	const item = res.Item as ServiceItem | undefined;
	cache.set(id, { item, at: Date.now() });
	return item;
}

