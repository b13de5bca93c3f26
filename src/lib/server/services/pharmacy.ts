import crypto from 'node:crypto';
import type { Ctx } from '../context';
import { systemCaller, type Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, requireActor } from '../auth/guard';
import { auditPut } from './audit';
import { announce, notificationPut, type NotificationInput } from './notifications';
import { announcePrescription } from './prescriptions';
import { rooms } from '../realtime/bus';
import { transactNamed, type TransactItem, type TransactOutcome } from '../db/transaction';
import { stampNew } from '../db/versioned';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { listUsersByRole } from '../repositories/users';
import { getPatient } from '../repositories/patients';
import { getPrescription, prescriptionSettleUpdate, type PrescriptionItem } from '../repositories/prescriptions';
import {
	alertClaimExists,
	alertClaimPut,
	allMedicines,
	batchGetMedicines,
	batchGuardPut,
	batchPut,
	batchSortKey,
	batchTakeUpdate,
	batchWriteOffUpdate,
	batchesExpiringBy,
	batchesOf,
	deleteAlertClaim,
	dispensationPut,
	getMedicine,
	medicinePut,
	medicineStockUpdate,
	movementPut,
	movementsSince,
	searchMedicines as searchMedicineRows,
	type BatchItem,
	type DispensationItem,
	type MedicineItem,
	type MovementKind
} from '../repositories/pharmacy';
import { addDays, dayBoundsUtc, todayIn } from '$lib/shared/time';
import {
	EXPIRY_THRESHOLDS,
	csvLine,
	type BatchCreate,
	type BatchView,
	type DispensationView,
	type DispenseInput,
	type InsufficientStockDetails,
	type InventoryReport,
	type MedicineCreate,
	type MedicineView,
	type PharmacyAlert,
	type ReportRow
} from '$lib/shared/pharmacy';

/**
 * The dispensary (SPEC §3 Pharmacy). Stock is held in batches; a medicine's `on_hand`
 * moves in the same transaction as every batch change, with the stock movement the
 * inventory report counts and the audit entry. Dispensing takes from the first-expiring
 * unexpired batches, each take conditioned on the batch still holding it and `on_hand` on
 * the total, so no race can take stock below zero; a lost race re-reads and tries again, a
 * bounded number of times. Doctors and nurses read stock; pharmacists and administrators
 * change it (auth/guard.ts `pharmacy`).
 */
const DISPENSE_ATTEMPTS = 25;
const MAX_BATCHES_PER_DISPENSE = 40;
const DAY = 86_400_000;

const lowClaimId = (medicineId: string) => `pharmacy-low#${medicineId}`;
const expiryClaimId = (b: BatchItem, threshold: number) => `pharmacy-expiry#${b.medicine_id}#${b.batch_number}#${threshold}`;

const today = (ctx: Ctx) => todayIn(ctx.config.timezone);

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

const stockEvent = (ctx: Ctx, medicineId: string, onHand: number, version: number) =>
	ctx.bus.emit(rooms.pharmacy, 'pharmacy:stock', { medicineId, onHand, version, at: new Date().toISOString() });

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
	forgetStock(ctx, medicineId);
	const after: MedicineItem = { ...m, on_hand: m.on_hand + input.quantity, version: m.version + 1, updated_at: now, updated_by_name: requireActor(caller).name };
	// Back above its threshold: a later drop is a new crossing, told again.
	if (m.on_hand < m.threshold && after.on_hand >= m.threshold) await deleteAlertClaim(ctx, lowClaimId(medicineId));
	stockEvent(ctx, medicineId, after.on_hand, after.version);
	return { medicine: medicineView(after), batch: batchView(batch, on) };
}

const insufficient = (medicineId: string, requested: number, available: number, name: string) => {
	const details: InsufficientStockDetails = { medicineId, requested, available, missing: requested - available };
	return new AppError(
		409,
		'INSUFFICIENT_STOCK',
		`Not enough ${name} in stock: ${requested} requested, ${available} available in unexpired batches, ${details.missing} missing.`,
		details
	);
};

/** What to take from which batch: first-expiring unexpired batches first, split as needed. */
function takesFor(batches: BatchItem[], on: string, quantity: number) {
	const usable = batches.filter((b) => b.kind === 'batch' && b.quantity > 0 && b.expires_on >= on);
	const available = usable.reduce((n, b) => n + b.quantity, 0);
	const takes: { batch: BatchItem; take: number }[] = [];
	let left = quantity;
	for (const b of usable) {
		if (left <= 0) break;
		const take = Math.min(b.quantity, left);
		takes.push({ batch: b, take });
		left -= take;
	}
	return { available, takes };
}

/**
 * Dispenses `quantity` of a medicine, for a prescription or not. Its stock change, dispensing
 * record, stock movement, prescription settling and audit entry commit in one transaction;
 * when the stock is short: 409 INSUFFICIENT_STOCK with what is missing; stock never goes below
 * zero.
 *
 * Within one process, the dispensings of a medicine that arrive while one is being written
 * wait in that medicine's queue and are then written together (group commit): one
 * transaction holds each batch's summed take, the counter's summed decrement and every
 * request's own dispensing record, movement, prescription settling and audit entry, so they
 * commit or fail together and none exists without the others. Requests are planned in
 * arrival order; one the stock cannot cover is refused without touching the rest. Across
 * processes the write conditions (each batch `quantity >= take`, `on_hand >= total`) and the
 * re-read loop keep the stock right.
 */
export async function dispense(ctx: Ctx, caller: Caller, input: DispenseInput): Promise<DispensationView> {
	requireActor(caller);
	await authorize(ctx, caller, 'pharmacy', 'write', { id: input.medicineId });
	let rx: PrescriptionItem | undefined;
	if (input.prescriptionId) {
		rx = await getPrescription(ctx, input.prescriptionId);
		if (!rx) throw notFound('This prescription');
		if (rx.status !== 'pending') throw prescriptionSettled(rx);
	}
	return new Promise<DispensationView>((resolve, reject) => {
		const q = queueOf(ctx, input.medicineId);
		q.waiting.push({ caller, input, rx, resolve, reject });
		if (!q.running) void drain(ctx, input.medicineId, q);
	});
}

type Waiting = {
	caller: Caller;
	input: DispenseInput;
	rx?: PrescriptionItem;
	resolve: (d: DispensationView) => void;
	reject: (err: unknown) => void;
};
type Queue = { waiting: Waiting[]; running: boolean };
const queues = new WeakMap<Ctx, Map<string, Queue>>();
function queueOf(ctx: Ctx, medicineId: string): Queue {
	let mine = queues.get(ctx);
	if (!mine) queues.set(ctx, (mine = new Map()));
	let q = mine.get(medicineId);
	if (!q) mine.set(medicineId, (q = { waiting: [], running: false }));
	return q;
}

async function drain(ctx: Ctx, medicineId: string, q: Queue): Promise<void> {
	q.running = true;
	try {
		while (q.waiting.length) {
			const group = q.waiting.splice(0);
			try {
				await commitGroup(ctx, medicineId, group);
			} catch (err) {
				// Not a refusal: the database failed. Everyone still waiting in this group hears it.
				for (const w of group) w.reject(err);
			}
		}
	} finally {
		q.running = false;
		queues.get(ctx)?.delete(medicineId);
		forgetStock(ctx, medicineId);
	}
}

/**
 * The stock as this process's last dispensing of a medicine left it, kept only while more
 * dispensings of it wait in its queue, so the next group skips two reads. Every write is
 * conditioned on the stock it plans with, so a stale copy (another instance wrote) only
 * costs a failed condition and a re-read; nothing is refused on it.
 */
type Stock = { m: MedicineItem; batches: BatchItem[] };
const lastStock = new WeakMap<Ctx, Map<string, Stock>>();
const stockCache = (ctx: Ctx) => {
	let c = lastStock.get(ctx);
	if (!c) lastStock.set(ctx, (c = new Map()));
	return c;
};
const forgetStock = (ctx: Ctx, medicineId: string) => stockCache(ctx).delete(medicineId);

/** DynamoDB's limit on the items of one transaction. */
const TRANSACTION_ITEMS = 100;

type Planned = { w: Waiting; takes: { batch: BatchItem; take: number }[]; onHand: number; d: DispensationItem };

/**
 * Writes a group of waiting dispensings, settling each exactly once (resolve or reject).
 * Those that do not fit in one transaction, or share a prescription with one already in it,
 * go in the next round.
 */
async function commitGroup(ctx: Ctx, medicineId: string, group: Waiting[]): Promise<void> {
	const on = today(ctx);
	let pending = [...group];
	const settle = (w: Waiting, fn: () => void) => {
		pending = pending.filter((x) => x !== w);
		group.splice(group.indexOf(w), 1);
		fn();
	};
	let attempt = 0;
	while (pending.length) {
		if (attempt >= DISPENSE_ATTEMPTS) {
			for (const w of [...pending]) {
				settle(w, () => w.reject(new AppError(409, 'VERSION_CONFLICT', 'The stock of this medicine is changing very fast; nothing was dispensed. Try again.', { medicineId })));
			}
			return;
		}
		const cached = attempt === 0 ? stockCache(ctx).get(medicineId) : undefined;
		forgetStock(ctx, medicineId);
		const [m, batches] = cached ? [cached.m, cached.batches] : await Promise.all([getMedicine(ctx, medicineId), batchesOf(ctx, medicineId)]);
		if (!m) {
			for (const w of [...pending]) settle(w, () => w.reject(notFound('This medicine')));
			return;
		}

		// Plan in arrival order against what the batches hold now.
		const left = new Map(batches.map((b) => [b.sort_key, b.quantity]));
		const touched = new Set<string>();
		let onHand = m.on_hand;
		let items = 1; // the counter
		const planned: Planned[] = [];
		const prescriptions = new Set<string>();
		let stale = false;
		for (const w of [...pending]) {
			const usable = batches.map((b) => ({ ...b, quantity: left.get(b.sort_key)! }));
			const { available, takes } = takesFor(usable, on, w.input.quantity);
			const can = Math.min(available, onHand);
			if (can < w.input.quantity) {
				if (cached) {
					stale = true; // never refuse on a remembered copy: read the stock as stored
					break;
				}
				settle(w, () => w.reject(insufficient(m.id, w.input.quantity, can, m.name)));
				continue;
			}
			if (takes.length > MAX_BATCHES_PER_DISPENSE) {
				settle(w, () =>
					w.reject(badRequest(`This would take from ${takes.length} batches at once; dispense it in smaller quantities.`, [{ field: 'quantity', message: 'spans too many batches' }]))
				);
				continue;
			}
			const newBatches = takes.filter((t) => !touched.has(t.batch.sort_key)).length;
			const cost = newBatches + 3 + (w.rx ? 1 : 0);
			if (items + cost > TRANSACTION_ITEMS || (w.rx && prescriptions.has(w.rx.id))) continue; // the next round
			items += cost;
			if (w.rx) prescriptions.add(w.rx.id);
			for (const t of takes) {
				touched.add(t.batch.sort_key);
				left.set(t.batch.sort_key, left.get(t.batch.sort_key)! - t.take);
			}
			onHand -= w.input.quantity;
			const actor = requireActor(w.caller);
			const now = new Date().toISOString();
			planned.push({
				w,
				takes,
				onHand,
				d: {
					id: crypto.randomUUID(),
					medicine_id: m.id,
					medicine_name: m.name,
					quantity: w.input.quantity,
					...(w.rx ? { prescription_id: w.rx.id, patient_id: w.rx.patient_id } : {}),
					batches: takes.map((t) => ({ batch_number: t.batch.batch_number, quantity: t.take, expires_on: t.batch.expires_on })),
					created_at: now,
					by: actor.id,
					by_name: actor.name
				}
			});
		}
		if (stale) {
			attempt++;
			continue;
		}
		if (!planned.length) return;

		const now = new Date().toISOString();
		const total = planned.reduce((n, p) => n + p.w.input.quantity, 0);
		const sums = new Map<string, number>();
		for (const p of planned) for (const t of p.takes) sums.set(t.batch.sort_key, (sums.get(t.batch.sort_key) ?? 0) + t.take);
		const named: Record<string, TransactItem | TransactItem[]> = {
			batches: [...sums].map(([sortKey, take]) => batchTakeUpdate(ctx, m.id, sortKey, take)),
			medicine: medicineStockUpdate(ctx, planned.at(-1)!.w.caller, m.id, -total, now)
		};
		planned.forEach((p, i) => {
			named[`dispensation${i}`] = dispensationPut(ctx, p.d);
			named[`movement${i}`] = movementPut(ctx, { id: crypto.randomUUID(), ledger: 'pharmacy', at: p.d.created_at, kind: 'dispensed', medicine_id: m.id, quantity: p.d.quantity, ref_id: p.d.id });
			if (p.w.rx) named[`rx${i}`] = prescriptionSettleUpdate(ctx, p.w.rx.id, 'dispensed', now, { dispensationId: p.d.id, byName: p.d.by_name });
			named[`audit${i}`] = auditPut(ctx, p.w.caller, {
				action: 'dispense',
				resourceType: 'medicine',
				resourceId: m.id,
				changedFields: ['on_hand', ...(p.w.rx ? ['prescription'] : [])]
			});
		});
		let outcome: TransactOutcome<string> | undefined;
		try {
			outcome = await transactNamed(ctx, named);
		} catch (err) {
			// Contention DynamoDB would not settle within transactNamed's own retries: another lost race.
			if ((err as Error).name !== 'TransactionCanceledException') throw err;
		}
		if (outcome?.ok) {
			const after: Stock = {
				m: { ...m, on_hand: m.on_hand - total, version: m.version + 1, updated_at: now },
				batches: batches.map((b) => (sums.has(b.sort_key) ? { ...b, quantity: b.quantity - sums.get(b.sort_key)! } : b))
			};
			stockCache(ctx).set(m.id, after);
			stockEvent(ctx, m.id, after.m.on_hand, after.m.version);
			// Told before the dispensers hear back; the dispensing has committed whatever happens here.
			if (after.m.on_hand < m.threshold) {
				await raiseLowStock(ctx, after.m).catch((err: Error) => ctx.log.warn('pharmacy: low-stock alert failed', { medicineId: m.id, error: err.name }));
			}
			for (const p of planned) {
				settle(p.w, () =>
					p.w.resolve({
						id: p.d.id,
						medicineId: m.id,
						medicineName: m.name,
						quantity: p.d.quantity,
						...(p.w.rx ? { prescriptionId: p.w.rx.id } : {}),
						batches: p.d.batches.map((b) => ({ batchNumber: b.batch_number, quantity: b.quantity, expiresOn: b.expires_on })),
						onHand: p.onHand,
						dispensedAt: p.d.created_at,
						dispensedBy: p.d.by_name
					})
				);
				if (p.w.rx) {
					const rx = p.w.rx;
					const settled: PrescriptionItem = { ...rx, status: 'dispensed', queue: undefined, dispensed_at: now, dispensed_by_name: p.d.by_name, dispensation_id: p.d.id, updated_at: now };
					void getPatient(ctx, rx.patient_id)
						.then((patient) => announcePrescription(ctx, settled, patient?.user_id))
						.catch((err: Error) => ctx.log.warn('pharmacy: prescription announcement failed', { error: err.name }));
				}
			}
			attempt = 0;
			continue;
		}
		const failedRx = outcome && /^rx\d+$/.test(outcome.failed) ? planned[Number(outcome.failed.slice(2))] : undefined;
		if (failedRx) {
			// Settled meanwhile (dispensed elsewhere, or withdrawn): that request alone is refused.
			const fresh = await getPrescription(ctx, failedRx.w.rx!.id);
			settle(failedRx.w, () => failedRx.w.reject(prescriptionSettled(fresh ?? failedRx.w.rx!)));
			continue;
		}
		// Lost a race on a batch or on the counter: re-read and plan again, after a short, growing pause.
		attempt++;
		await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
	}
}

const prescriptionSettled = (rx: PrescriptionItem) =>
	new AppError(
		409,
		'INVALID_TRANSITION',
		rx.status === 'dispensed'
			? `This prescription was already dispensed${rx.dispensed_by_name ? ` by ${rx.dispensed_by_name}` : ''}${rx.dispensed_at ? ` at ${rx.dispensed_at}` : ''}.`
			: 'This prescription was withdrawn by the doctor; it is no longer to be dispensed.',
		{ prescriptionId: rx.id, status: rx.status }
	);

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

async function raiseAlert(ctx: Ctx, claimId: string, ttlSeconds: number, alert: PharmacyAlert, n: NotificationInput): Promise<boolean> {
	// Told already (the common case for a medicine that stays low): one read, nothing else.
	if (await alertClaimExists(ctx, claimId)) return false;
	const people = await activePharmacists(ctx);
	const notices = people.map((u) => ({ userId: u.id, ...notificationPut(ctx, u.id, n) }));
	const outcome = await transactNamed(ctx, { claim: alertClaimPut(ctx, claimId, 'pharmacy-alert', ttlSeconds), notices: notices.map((x) => x.item) });
	if (!outcome.ok) return false;
	for (const x of notices) announce(ctx, x.userId, x.event);
	ctx.bus.emit(rooms.pharmacy, 'pharmacy:alert', alert);
	return true;
}

/** Told once per drop below the threshold; receiving stock above it clears the claim. */
function raiseLowStock(ctx: Ctx, m: MedicineItem): Promise<boolean> {
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
			forgetStock(ctx, b.medicine_id);
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
		if (m.on_hand < m.threshold && (await raiseLowStock(ctx, m))) report.lowStockAlerts++;
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

// ---------------------------------------------------------------------------------------
// The inventory report.

/**
 * Received, dispensed and expired per medicine between `from` and `to` (hospital dates,
 * inclusive), and what was on hand at the end of `to`: today's count with every later
 * movement undone.
 */
export async function inventoryReport(ctx: Ctx, caller: Caller, q: { from: string; to: string }): Promise<InventoryReport> {
	await authorize(ctx, caller, 'pharmacy', 'read');
	const tz = ctx.config.timezone;
	const fromIso = dayBoundsUtc(q.from, tz).from.toISOString();
	const toIso = dayBoundsUtc(q.to, tz).to.toISOString();
	const [meds, moves] = await Promise.all([allMedicines(ctx), movementsSince(ctx, fromIso)]);
	const blank = () => ({ received: 0, dispensed: 0, expired: 0 });
	const inRange = new Map<string, Record<MovementKind, number>>();
	const after = new Map<string, Record<MovementKind, number>>();
	for (const mv of moves) {
		const target = mv.at < toIso ? inRange : after;
		const row = target.get(mv.medicine_id) ?? blank();
		row[mv.kind] += mv.quantity;
		target.set(mv.medicine_id, row);
	}
	const rows: ReportRow[] = meds.map((m) => {
		const r = inRange.get(m.id) ?? blank();
		const a = after.get(m.id) ?? blank();
		return { medicineId: m.id, name: m.name, strength: m.strength, ...r, onHand: m.on_hand - a.received + a.dispensed + a.expired };
	});
	const totals = rows.reduce((t, r) => ({ received: t.received + r.received, dispensed: t.dispensed + r.dispensed, expired: t.expired + r.expired, onHand: t.onHand + r.onHand }), { received: 0, dispensed: 0, expired: 0, onHand: 0 });
	return { from: q.from, to: q.to, rows, totals };
}

export function reportCsv(report: InventoryReport): string {
	const lines = [csvLine(['Medicine', 'Strength', 'Received', 'Dispensed', 'Expired', 'On hand']), ...report.rows.map((r) => csvLine([r.name, r.strength, r.received, r.dispensed, r.expired, r.onHand]))];
	lines.push(csvLine(['Total', '', report.totals.received, report.totals.dispensed, report.totals.expired, report.totals.onHand]));
	return `${lines.join('\r\n')}\r\n`;
}
