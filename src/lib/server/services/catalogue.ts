import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { createPut, stampNew } from '../db/versioned';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { auditPut } from './audit';
import { getServiceRow, type ServiceItem } from '../repositories/catalogue';
import { BILLING_CURRENCY } from '$lib/shared/billing';

/** The services catalogue (billing): what the hospital charges for. */
export type { ServiceItem };

export const CONSULTATION_SERVICE_ID = 'consultation-standard';

export const DEFAULT_SERVICES: Omit<ServiceItem, 'version'>[] = [
	{ id: CONSULTATION_SERVICE_ID, name: 'Consultation', price_cents: 5000, currency: BILLING_CURRENCY, duration_minutes: 15, category: 'consultation', active: true },
	{ id: 'consultation-specialist', name: 'Specialist consultation', price_cents: 9000, currency: BILLING_CURRENCY, duration_minutes: 30, category: 'consultation', active: true },
	{ id: 'lab-blood-panel', name: 'Blood panel', price_cents: 4500, currency: BILLING_CURRENCY, duration_minutes: 10, category: 'laboratory', active: true },
	{ id: 'imaging-xray', name: 'X-ray', price_cents: 12000, currency: BILLING_CURRENCY, duration_minutes: 20, category: 'imaging', active: true }
];

/** Creates the default services that are missing; existing rows are left as they are. */
export async function seedCatalogue(ctx: Ctx, caller: Caller): Promise<{ created: number; existed: number }> {
	let created = 0;
	let existed = 0;
	for (const s of DEFAULT_SERVICES) {
		const outcome = await transactNamed(ctx, {
			service: createPut(ctx, 'services', 'id', stampNew(caller, s)),
			audit: auditPut(ctx, caller, { action: 'create', resourceType: 'service', resourceId: s.id, changedFields: Object.keys(s) })
		});
		if (outcome.ok) created++;
		else if (outcome.failed === 'service') existed++;
		else throw unexpectedFailure(outcome);
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
	const item = await getServiceRow(ctx, id);
	cache.set(id, { item, at: Date.now() });
	return item;
}

