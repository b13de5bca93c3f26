import crypto from 'node:crypto';
import type { Ctx } from '../context';
import { systemCaller, type Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, requireActor } from '../auth/guard';
import { auditPut } from './audit';
import { announce, notificationPut, type NotificationInput } from './notifications';
import { room } from '$lib/shared/rooms';
import { transactNamed } from '../db/transaction';
import { stampNew } from '../db/versioned';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { listUsersByRole } from '../repositories/users';
import {
	alertClaimExists,
	alertClaimPut,
	allMedicines,
	batchGetMedicines,
	batchGuardPut,
	batchPut,
	batchSortKey,
	batchWriteOffUpdate,
	batchesExpiringBy,
	batchesOf,
	deleteAlertClaim,
	getMedicine,
	medicinePut,
	medicineStockUpdate,
	movementPut,
	searchMedicines as searchMedicineRows,
	type BatchItem,
	type MedicineItem
} from '../repositories/pharmacy';
import { addDays, todayIn } from '$lib/shared/time';
import {
	EXPIRY_THRESHOLDS,
	type BatchCreate,
	type BatchView,
	type MedicineCreate,
	type MedicineView,
	type PharmacyAlert
} from '$lib/shared/pharmacy';

/**
 * The dispensary's stock (SPEC §3 Pharmacy): medicines, their batches and the alerts.
 * Stock is held in batches; a medicine's `on_hand` moves in the same transaction as every
 * batch change, with the stock movement the inventory report counts and the audit entry.
 * Dispensing is in ./dispensing.ts, the report in ./pharmacy-report.ts. Doctors and nurses
 * read stock; pharmacists and administrators change it (auth/guard.ts `pharmacy`).
 */
const DAY = 86_400_000;

const lowClaimId = (medicineId: string) => `pharmacy-low#${medicineId}`;
const expiryClaimId = (b: BatchItem, threshold: number) => `pharmacy-expiry#${b.medicine_id}#${b.batch_number}#${threshold}`;

/** Today's date in the hospital's time zone. */
export const today = (ctx: Ctx) => todayIn(ctx.config.timezone);

function batchView(b: BatchItem, on: string): BatchView {
	return { batchNumber: b.batch_number, quantity: b.quantity, expiresOn: b.expires_on, receivedAt: b.received_at, expired: b.expires_on < on };
}

function medicineView(m: MedicineItem, batches?: BatchItem[], on?: string): MedicineView {
	return {
		id: m.id,
		name: m.name,
		form: m.form,
		strength: m.strength,
		threshold: m.threshold,
		onHand: m.on_hand,
		lowStock: m.on_hand < m.threshold,
		version: m.version,
		updatedAt: m.updated_at,
		updatedBy: m.updated_by_name,
		...(batches ? { batches: batches.filter((b) => b.kind === 'batch' && b.quantity > 0).map((b) => batchView(b, on!)) } : {})
	};
}

export const stockEvent = (ctx: Ctx, medicineId: string, onHand: number, version: number) =>
	ctx.bus.emit(room.pharmacy(), 'pharmacy:stock', { medicineId, onHand, version, at: new Date().toISOString() });

export async function createMedicine(ctx: Ctx, caller: Caller, input: MedicineCreate): Promise<MedicineView> {
	await authorize(ctx, caller, 'pharmacy', 'write');
	const item = stampNew(caller, {
		id: crypto.randomUUID(),
		kind: 'medicine' as const,
		name: input.name,
		name_lower: input.name.toLowerCase(),
		form: input.form,
		strength: input.strength,
		threshold: input.threshold,
		on_hand: 0
	});
	const outcome = await transactNamed(ctx, {
		medicine: medicinePut(ctx, item),
		audit: auditPut(ctx, caller, { action: 'create', resourceType: 'medicine', resourceId: item.id, changedFields: ['name', 'form', 'strength', 'threshold'] })
	});
	if (!outcome.ok) throw new AppError(409, 'ALREADY_EXISTS', 'Could not add the medicine; try again.');
	stockEvent(ctx, item.id, 0, item.version);
	return medicineView(item);
}

export async function readMedicine(ctx: Ctx, caller: Caller, id: string): Promise<MedicineView> {
	await authorize(ctx, caller, 'pharmacy', 'read', { id });
	const [m, batches] = await Promise.all([getMedicine(ctx, id), batchesOf(ctx, id)]);
	if (!m) throw notFound('This medicine');
	return medicineView(m, batches, today(ctx));
}

/** Medicines by name prefix (case-insensitive), by name, `limit` a page with a signed cursor. */
export async function searchMedicines(
	ctx: Ctx,
	caller: Caller,
	q: { prefix?: string; cursor?: string; limit: number }
): Promise<{ items: MedicineView[]; nextCursor: string | null }> {
	await authorize(ctx, caller, 'pharmacy', 'read');
	const prefix = (q.prefix ?? '').toLowerCase();
	const scope = `medicines:${prefix}`;
	const startKey = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, startKeySchema) : undefined;
	const page = await resumeQuery(startKey, () => searchMedicineRows(ctx, prefix, q.limit, startKey));
	return { items: page.items.map((m) => medicineView(m)), nextCursor: page.lastKey ? encodeCursor(ctx.cursorKey, scope, page.lastKey) : null };
}

/** A delivery of stock: the batch, its number's guard, `on_hand`, the movement and the audit entry, at once. */
export async function receiveBatch(ctx: Ctx, caller: Caller, medicineId: string, input: BatchCreate): Promise<{ medicine: MedicineView; batch: BatchView }> {
	await authorize(ctx, caller, 'pharmacy', 'write', { id: medicineId });
	const m = await getMedicine(ctx, medicineId);
	if (!m) throw notFound('This medicine');
	const on = today(ctx);
	if (input.expiresOn < on) {
		throw badRequest('This batch has already expired: it cannot be taken into stock.', [{ field: 'expiresOn', message: `is before today (${on})` }]);
	}
	const now = new Date().toISOString();
	const batch: BatchItem = {
		medicine_id: medicineId,
		sort_key: batchSortKey(input.expiresOn, input.batchNumber),
		kind: 'batch',
		batch_number: input.batchNumber,
		quantity: input.quantity,
		received_quantity: input.quantity,
		expires_on: input.expiresOn,
		received_at: now
	};
	const outcome = await transactNamed(ctx, {
		guard: batchGuardPut(ctx, medicineId, input.batchNumber),
		batch: batchPut(ctx, batch),
		medicine: medicineStockUpdate(ctx, caller, medicineId, input.quantity, now),
		movement: movementPut(ctx, { id: crypto.randomUUID(), ledger: 'pharmacy', at: now, kind: 'received', medicine_id: medicineId, quantity: input.quantity, batch_number: input.batchNumber }),
		audit: auditPut(ctx, caller, { action: 'receive_batch', resourceType: 'medicine', resourceId: medicineId, changedFields: ['on_hand', 'batches'] })
	});
	if (!outcome.ok) {
		if (outcome.failed === 'medicine') throw notFound('This medicine');
		throw new AppError(409, 'ALREADY_EXISTS', `Batch ${input.batchNumber} is already recorded for ${m.name}.`, [{ field: 'batchNumber', message: 'is already recorded for this medicine' }]);
	}
	const after: MedicineItem = { ...m, on_hand: m.on_hand + input.quantity, version: m.version + 1, updated_at: now, updated_by_name: requireActor(caller).name };
	// At or above its threshold: a later drop is a new crossing, told again. Cleared whatever the
	// stock was as read (a dispensing racing this delivery may have claimed a drop it has undone).
	if (after.on_hand >= m.threshold) await deleteAlertClaim(ctx, lowClaimId(medicineId));
	stockEvent(ctx, medicineId, after.on_hand, after.version);
	return { medicine: medicineView(after), batch: batchView(batch, on) };
}

// ---------------------------------------------------------------------------------------
// Alerts: once per crossing (low stock) and once per batch and threshold (expiry), each
// claimed by a conditional Put in `locks` in the transaction that writes its notifications.

async function activePharmacists(ctx: Ctx) {
	const out = [];
	let startKey: Record<string, unknown> | undefined;
	do {
		const page = await listUsersByRole(ctx, 'pharmacist', 100, startKey);
		out.push(...page.items.filter((u) => u.active));
		startKey = page.lastKey;
	} while (startKey && out.length < 90);
	return out.slice(0, 90);
}

async function raiseAlert(
	ctx: Ctx,
	claimId: string,
	ttlSeconds: number,
	alert: PharmacyAlert,
	n: NotificationInput,
	stillDue: () => Promise<boolean> = async () => true
): Promise<boolean> {
	// Told already (the common case for a medicine that stays low): one read, nothing else.
	if (await alertClaimExists(ctx, claimId)) return false;
	if (!(await stillDue())) return false;
	const people = await activePharmacists(ctx);
	const notices = people.map((u) => ({ userId: u.id, ...notificationPut(ctx, u.id, n) }));
	const outcome = await transactNamed(ctx, { claim: alertClaimPut(ctx, claimId, 'pharmacy-alert', ttlSeconds), notices: notices.map((x) => x.item) });
	if (!outcome.ok) return false;
	for (const x of notices) announce(ctx, x.userId, x.event);
	ctx.bus.emit(room.pharmacy(), 'pharmacy:alert', alert);
	return true;
}

/** Told once per drop below the threshold; receiving stock above it clears the claim. */
export function raiseLowStock(ctx: Ctx, m: MedicineItem): Promise<boolean> {
	return raiseAlert(
		ctx,
		lowClaimId(m.id),
		Math.floor((Date.now() + 365 * DAY) / 1000),
		{ kind: 'low_stock', medicineId: m.id, medicineName: m.name, onHand: m.on_hand, threshold: m.threshold },
		{
			kind: 'pharmacy_low_stock',
			title: `Low stock: ${m.name} ${m.strength}`,
			body: `${m.on_hand} on hand, below the threshold of ${m.threshold}. Order more.`,
			relatedType: 'medicine',
			relatedId: m.id
		},
		// A delivery may have lifted it since the caller read it: a claim made then would stand
		// above the threshold and silence the next real drop.
		async () => {
			const fresh = await getMedicine(ctx, m.id);
			return !!fresh && fresh.on_hand < fresh.threshold;
		}
	);
}

const daysBetween = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);

/** The threshold a batch `days` from expiry has reached: the smallest of 30/15/7/3/1 at or above it. */
export const expiryThreshold = (days: number): number | undefined => [...EXPIRY_THRESHOLDS].sort((a, b) => a - b).find((t) => days <= t);

export type AlertsReport = { writtenOff: number; expiryAlerts: number; lowStockAlerts: number };

/**
 * The `pharmacy-alerts` job (hourly, and `npm run worker -- --once pharmacy-alerts`): writes off
 * what expired batches still hold (a movement `expired`), tells pharmacists of batches 30, 15,
 * 7, 3 and 1 days from expiry (a batch first seen at 5 days gets the 7-day alert, not three at
 * once) and of medicines below their threshold. Repeated runs tell nothing twice. `on` is
 * today's date in the hospital (tests move it).
 */
export async function runPharmacyAlerts(ctx: Ctx, opts: { signal?: AbortSignal; on?: string } = {}): Promise<AlertsReport> {
	const on = opts.on ?? today(ctx);
	const caller = systemCaller('worker:pharmacy-alerts');
	const report: AlertsReport = { writtenOff: 0, expiryAlerts: 0, lowStockAlerts: 0 };
	const due = await batchesExpiringBy(ctx, addDays(on, Math.max(...EXPIRY_THRESHOLDS)));
	const meds = new Map((await batchGetMedicines(ctx, due.map((b) => b.medicine_id))).map((m) => [m.id, m]));
	for (const b of due) {
		if (opts.signal?.aborted) return report;
		const m = meds.get(b.medicine_id);
		if (!m) continue;
		if (b.expires_on < on) {
			const now = new Date().toISOString();
			const outcome = await transactNamed(ctx, {
				batch: batchWriteOffUpdate(ctx, b.medicine_id, b.sort_key, b.quantity, now),
				medicine: medicineStockUpdate(ctx, caller, b.medicine_id, -b.quantity, now),
				movement: movementPut(ctx, { id: crypto.randomUUID(), ledger: 'pharmacy', at: now, kind: 'expired', medicine_id: b.medicine_id, quantity: b.quantity, batch_number: b.batch_number }),
				audit: auditPut(ctx, caller, { action: 'write_off_expired', resourceType: 'medicine', resourceId: b.medicine_id, changedFields: ['on_hand', 'batches'] })
			});
			if (outcome.ok) {
				report.writtenOff++;
				m.on_hand -= b.quantity;
				m.version += 1;
				stockEvent(ctx, m.id, m.on_hand, m.version);
			}
			continue;
		}
		const days = daysBetween(on, b.expires_on);
		const threshold = expiryThreshold(days);
		if (threshold === undefined) continue;
		const when = days === 0 ? 'today' : days === 1 ? 'tomorrow' : `in ${days} days`;
		const told = await raiseAlert(
			ctx,
			expiryClaimId(b, threshold),
			Math.floor((Date.parse(`${b.expires_on}T00:00:00Z`) + 60 * DAY) / 1000),
			{ kind: 'expiry', medicineId: m.id, medicineName: m.name, batchNumber: b.batch_number, expiresOn: b.expires_on, daysLeft: days, quantity: b.quantity },
			{
				kind: 'pharmacy_expiry',
				title: `Batch ${b.batch_number} of ${m.name} expires ${when}`,
				body: `${b.quantity} units of ${m.name} ${m.strength} (batch ${b.batch_number}) expire on ${b.expires_on}.`,
				relatedType: 'medicine',
				relatedId: m.id
			}
		);
		if (told) report.expiryAlerts++;
	}
	for (const m of await allMedicines(ctx)) {
		if (opts.signal?.aborted) return report;
		if (m.on_hand < m.threshold) {
			if (await raiseLowStock(ctx, m)) report.lowStockAlerts++;
		} else if (await alertClaimExists(ctx, lowClaimId(m.id))) {
			// Above its threshold with the drop still claimed: a delivery racing the dispensing that
			// claimed it (the delivery read the stock before that drop), or a clear that failed. Without
			// this the next real drop would go untold.
			await deleteAlertClaim(ctx, lowClaimId(m.id));
		}
	}
	return report;
}

/** What needs the pharmacist's attention now: batches within 30 days of expiry, medicines below threshold. */
export async function currentAlerts(ctx: Ctx, caller: Caller): Promise<PharmacyAlert[]> {
	await authorize(ctx, caller, 'pharmacy', 'read');
	const on = today(ctx);
	const [due, meds] = await Promise.all([batchesExpiringBy(ctx, addDays(on, Math.max(...EXPIRY_THRESHOLDS))), allMedicines(ctx)]);
	const byId = new Map(meds.map((m) => [m.id, m]));
	const alerts: PharmacyAlert[] = [];
	for (const b of due) {
		const m = byId.get(b.medicine_id);
		if (m) alerts.push({ kind: 'expiry', medicineId: m.id, medicineName: m.name, batchNumber: b.batch_number, expiresOn: b.expires_on, daysLeft: daysBetween(on, b.expires_on), quantity: b.quantity });
	}
	for (const m of meds) if (m.on_hand < m.threshold) alerts.push({ kind: 'low_stock', medicineId: m.id, medicineName: m.name, onHand: m.on_hand, threshold: m.threshold });
	return alerts;
}
