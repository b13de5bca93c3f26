import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, requireActor } from '../auth/guard';
import { auditPut } from './audit';
import { announcePrescription } from './prescriptions';
import { raiseLowStock, stockEvent, today } from './pharmacy';
import { transactNamed, type TransactItem, type TransactOutcome } from '../db/transaction';
import { getPatient } from '../repositories/patients';
import { getPrescription, prescriptionSettleUpdate, type PrescriptionItem } from '../repositories/prescriptions';
import {
	batchTakeUpdate,
	batchesOf,
	dispensationPut,
	getMedicine,
	medicineStockUpdate,
	movementPut,
	type BatchItem,
	type DispensationItem,
	type MedicineItem
} from '../repositories/pharmacy';
import { prescriptionNames, type DispensationView, type DispenseInput, type InsufficientStockDetails, type MedicineMismatchDetails } from '$lib/shared/pharmacy';

const DISPENSE_ATTEMPTS = 25;
const MAX_BATCHES_PER_DISPENSE = 40;

const insufficient = (medicineId: string, requested: number, available: number, name: string) => {
	const details: InsufficientStockDetails = { medicineId, requested, available, missing: requested - available };
	return new AppError(
		409,
		'INSUFFICIENT_STOCK',
		`Not enough ${name} in stock: ${requested} requested, ${available} available in unexpired batches, ${details.missing} missing.`,
		details
	);
};

/** Stock of one medicine dispensed against a prescription for another: refused, never recorded. */
const mismatch = (rx: PrescriptionItem, m: MedicineItem) => {
	const details: MedicineMismatchDetails = { prescriptionId: rx.id, prescribed: rx.medicine, medicineId: m.id, medicineName: m.name };
	return new AppError(
		409,
		'MEDICINE_MISMATCH',
		`This prescription is for ${rx.medicine}, not ${m.name} ${m.strength}. Choose ${rx.medicine} from stock; nothing was dispensed.`,
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
 * dispensings of it wait in its queue, so the next group skips two reads. A group planned
 * on it also conditions the counter on the version it remembers: anything else that
 * changed the medicine meanwhile (a delivery, a write-off, another instance) fails that
 * condition, and the group re-reads. Nothing is refused on a remembered copy.
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
			if (w.rx && !prescriptionNames(w.rx.medicine, m.name)) {
				settle(w, () => w.reject(mismatch(w.rx!, m)));
				continue;
			}
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
			medicine: medicineStockUpdate(ctx, planned.at(-1)!.w.caller, m.id, -total, now, cached ? m.version : undefined)
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
