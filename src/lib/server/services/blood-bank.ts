import crypto from 'node:crypto';
import type { Ctx } from '../context';
import { systemCaller, type Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { createLanes, type Lanes } from '../lanes';
import { authorize, grantOf, refuse, requireActor } from '../auth/guard';
import { transactNamed, type TransactItem } from '../db/transaction';
import { actorStamp, conflictError, stampNew, versionedUpdate } from '../db/versioned';
import { auditPut } from './audit';
import { announce, notificationPut } from './notifications';
import { outboxPut } from './outbox';
import { getPatient } from '../repositories/patients';
import { listUsersByRole, type UserItem } from '../repositories/users';
import {
	availableUnits,
	bagGuardPut,
	getDonor,
	getStockItem,
	getStockItems,
	getUnit,
	stockAlertFlip,
	stockCreatePut,
	stockDecrement,
	stockIncrement,
	unitPut,
	unitTakeUpdate,
	type BloodUnitItem,
	type StockItem
} from '../repositories/blood-bank';
import {
	BLOOD_COMPONENTS,
	BLOOD_GROUPS,
	COMPONENT_LABEL,
	DEFAULT_THRESHOLD,
	UNIT_TRANSITIONS,
	compatibleDonors,
	expiryOf,
	stockKey,
	type BloodComponent,
	type BloodGroup,
	type BloodUnitStatus,
	type BloodUnitView,
	type InsufficientStockDetails,
	type IssueInput,
	type StockRow,
	type UnitCreate
} from '$lib/shared/blood';
import type { StockAlertEvent } from '$lib/shared/realtime';
import { room } from '$lib/shared/rooms';

/**
 * The blood bank (SPEC §3): units per bag, one stock counter per group × component, and the
 * critical-stock alert. The counter and the units it counts always change in one
 * transaction with the audit entry, so `available` is exactly the number of available
 * units and never goes below zero. A crossing of the threshold is recorded on the counter
 * row by a conditional flip that commits with the admins' notifications and outbox rows,
 * so each crossing alerts once however many issues race across it.
 */
const ALL_KEYS = BLOOD_GROUPS.flatMap((g) => BLOOD_COMPONENTS.map((c) => ({ group: g, component: c, key: stockKey(g, c) })));
/** Lost races an issue retries (each with a fresh read) before it gives up. */
const ISSUE_ATTEMPTS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rowView(group: BloodGroup, component: BloodComponent, item: StockItem | undefined): StockRow {
	const available = item?.available ?? 0;
	const threshold = item?.threshold ?? DEFAULT_THRESHOLD;
	return {
		bloodGroup: group,
		component,
		available,
		threshold,
		critical: available < threshold,
		version: item?.version ?? 0,
		...(item ? { updatedAt: item.updated_at, updatedBy: item.updated_by_name } : {})
	};
}

export function unitView(u: BloodUnitItem): BloodUnitView {
	return {
		id: u.id,
		version: u.version,
		bagNumber: u.bag_number,
		bloodGroup: u.blood_group,
		component: u.component,
		status: u.status,
		collectedAt: u.collected_at,
		expiresAt: u.expires_at,
		...(u.donor_id ? { donorId: u.donor_id } : {}),
		...(u.issued_to ? { issuedTo: u.issued_to } : {}),
		createdAt: u.created_at,
		updatedAt: u.updated_at,
		updatedBy: u.updated_by_name
	};
}

async function allStock(ctx: Ctx): Promise<StockRow[]> {
	const items = new Map((await getStockItems(ctx, ALL_KEYS.map((k) => k.key))).map((i) => [i.stock_key, i]));
	return ALL_KEYS.map((k) => rowView(k.group, k.component, items.get(k.key)));
}

/** Every group × component (8 × 4), stored or not. Patients, doctors, nurses read; admins too. */
export async function readStock(ctx: Ctx, caller: Caller): Promise<StockRow[]> {
	await authorize(ctx, caller, 'blood_bank', 'read');
	const rows = await allStock(ctx);
	// Who changed a row last is for the staff who change them.
	if (grantOf(requireActor(caller).role, 'blood_bank', 'write')) return rows;
	return rows.map(({ updatedBy: _by, updatedAt: _at, ...row }) => row);
}

/** Available units of one group × component, first-expiring first (for the admin's screen). */
export async function listAvailableUnits(ctx: Ctx, caller: Caller, group: BloodGroup, component: BloodComponent): Promise<BloodUnitView[]> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	return (await availableUnits(ctx, stockKey(group, component), 100)).map(unitView);
}

const bagTaken = (bag: string) =>
	new AppError(409, 'ALREADY_EXISTS', `Bag number ${bag} is already recorded. Check the label: every bag has its own number.`, [
		{ field: 'bagNumber', message: 'is already recorded' }
	]);

/** A bag typed as one group for a donor who signed up as another: nothing is recorded. */
export const bloodGroupMismatch = (name: string, donorGroup: BloodGroup, typed: BloodGroup) =>
	new AppError(
		409,
		'BLOOD_GROUP_MISMATCH',
		`${name} signed up as ${donorGroup}, but this donation was typed ${typed}. Nothing was recorded: check the typing, and have the donor correct their entry if it is wrong.`,
		{ donorBloodGroup: donorGroup, bloodGroup: typed }
	);

/** The items that put one new available unit into stock. */
function newUnitItems(ctx: Ctx, caller: Caller, input: UnitCreate): { unit: BloodUnitItem; items: TransactItem[] } {
	const unit = stampNew(caller, {
		id: crypto.randomUUID(),
		bag_number: input.bagNumber.toUpperCase(),
		blood_group: input.bloodGroup,
		component: input.component,
		status: 'available' as BloodUnitStatus,
		available_key: stockKey(input.bloodGroup, input.component),
		collected_at: input.collectedAt,
		expires_at: input.expiresAt ?? expiryOf(input.component, input.collectedAt),
		...(input.donorId ? { donor_id: input.donorId } : {})
	}) as BloodUnitItem;
	// A bag already past its date enters as expired: it is recorded, never counted.
	if (unit.expires_at <= new Date().toISOString()) {
		unit.status = 'expired';
		delete unit.available_key;
	}
	return { unit, items: [bagGuardPut(ctx, unit.bag_number, unit.id), unitPut(ctx, unit)] };
}

export { newUnitItems as unitCreationItems };

/** Records a unit (admin): the bag guard, the unit, the counter and the audit entry, at once. */
export async function addUnit(ctx: Ctx, caller: Caller, input: UnitCreate): Promise<BloodUnitView> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	if (input.donorId) {
		// A bag traced to a donor (look-back after an infection) names a real one, of its own group.
		const donor = await getDonor(ctx, input.donorId);
		if (!donor) throw notFound('This donor');
		if (donor.blood_group !== input.bloodGroup) throw bloodGroupMismatch(donor.name, donor.blood_group, input.bloodGroup);
	}
	const { unit, items } = newUnitItems(ctx, caller, input);
	const counts = unit.status === 'available';
	const outcome = await transactNamed(ctx, {
		bag: items[0],
		unit: items[1],
		stock: counts
			? stockIncrement(ctx, { key: unit.available_key!, group: unit.blood_group, component: unit.component, by: 1, defaultThreshold: DEFAULT_THRESHOLD }, actorStamp(caller))
			: undefined,
		audit: auditPut(ctx, caller, {
			action: 'create',
			resourceType: 'blood_unit',
			resourceId: unit.id,
			changedFields: ['bag_number', 'blood_group', 'component', 'status', 'collected_at', 'expires_at', ...(unit.donor_id ? ['donor_id'] : [])]
		})
	});
	if (!outcome.ok) {
		if (outcome.failed === 'bag') throw bagTaken(unit.bag_number);
		throw new AppError(409, 'VERSION_CONFLICT', 'The unit could not be recorded at this moment; try again.');
	}
	if (counts) await stockChanged(ctx, caller, unit.blood_group, unit.component);
	return unitView(unit);
}

/**
 * First-expiring first. Units expiring on the same day are clinically interchangeable, so
 * ties are taken in random order: concurrent issues then rarely reach for the same bag.
 */
function pickFirstExpiring(candidates: BloodUnitItem[], count: number): BloodUnitItem[] {
	const byDay = new Map<string, BloodUnitItem[]>();
	for (const u of candidates) {
		const day = u.expires_at.slice(0, 10);
		byDay.set(day, [...(byDay.get(day) ?? []), u]);
	}
	const out: BloodUnitItem[] = [];
	for (const day of [...byDay.keys()].sort()) {
		const group = byDay.get(day)!;
		for (let i = group.length - 1; i > 0; i--) {
			const j = Math.floor(Math.random() * (i + 1));
			[group[i], group[j]] = [group[j]!, group[i]!];
		}
		out.push(...group.slice(0, count - out.length));
		if (out.length >= count) break;
	}
	return out;
}

async function insufficient(ctx: Ctx, group: BloodGroup, component: BloodComponent, requested: number, available: number): Promise<AppError> {
	const stock = new Map((await allStock(ctx)).filter((r) => r.component === component).map((r) => [r.bloodGroup, r.available]));
	const compatible = compatibleDonors(group, component)
		.filter((g) => g !== group && (stock.get(g) ?? 0) > 0)
		.map((g) => ({ bloodGroup: g, available: stock.get(g)! }));
	const details: InsufficientStockDetails = { bloodGroup: group, component, requested, available, compatible };
	const alt = compatible.length ? ` Compatible groups in stock: ${compatible.map((c) => `${c.bloodGroup} (${c.available})`).join(', ')}.` : ' No compatible group has stock either.';
	return new AppError(
		409,
		'INSUFFICIENT_STOCK',
		`Only ${available} unit${available === 1 ? '' : 's'} of ${group} ${COMPONENT_LABEL[component].toLowerCase()} available; ${requested} requested. Nothing was issued.${alt}`,
		details
	);
}

/**
 * Issues `count` units (admin): the first-expiring available ones, in one transaction
 * with the counter (conditioned on `available >= count`), each unit (conditioned on still
 * being available) and the audit entry. A lost race is retried with a fresh read; the
 * answer is 409 INSUFFICIENT_STOCK only when the counter itself says there are too few.
 */
export async function issueUnits(ctx: Ctx, caller: Caller, input: IssueInput): Promise<{ issueId: string; issued: string[] }> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	if (input.patientId) {
		const patient = await getPatient(ctx, input.patientId);
		if (!patient) throw notFound('This patient');
		// Units for a named patient follow the compatibility table against the group on their record.
		const recorded = BLOOD_GROUPS.find((g) => g === patient.blood_group);
		if (recorded && !compatibleDonors(recorded, input.component).includes(input.bloodGroup)) {
			const compatible = compatibleDonors(recorded, input.component);
			throw new AppError(
				409,
				'INCOMPATIBLE_BLOOD',
				`${input.bloodGroup} ${COMPONENT_LABEL[input.component].toLowerCase()} is not compatible with this patient's recorded group ${recorded}; nothing was issued. Compatible: ${compatible.join(', ')}. If the record is wrong, correct the patient's blood group first.`,
				{ patientBloodGroup: recorded, bloodGroup: input.bloodGroup, component: input.component, compatible }
			);
		}
	}
	const key = stockKey(input.bloodGroup, input.component);
	const issueId = crypto.randomUUID();
	// This instance's issues of one group × component take turns (no self-inflicted lost races);
	// between instances the counter's condition decides, and a loser reads again.
	const issued = await issueLanes(ctx).run(key, () => takeUnits(ctx, caller, input, key, issueId));
	await stockChanged(ctx, caller, input.bloodGroup, input.component);
	return { issueId, issued };
}

const lanesByCtx = new WeakMap<Ctx, Lanes>();
function issueLanes(ctx: Ctx): Lanes {
	let lanes = lanesByCtx.get(ctx);
	if (!lanes) lanesByCtx.set(ctx, (lanes = createLanes()));
	return lanes;
}

/** Takes the first-expiring bags in one transaction with the counter and the audit entry; the ids taken. */
async function takeUnits(ctx: Ctx, caller: Caller, input: IssueInput, key: string, issueId: string): Promise<string[]> {
	for (let attempt = 0; attempt < ISSUE_ATTEMPTS; attempt++) {
		if (attempt > 0) await sleep(Math.random() * 10 * Math.min(attempt, 5));
		// Both reads at once: the counter decides whether there is enough, the index which bags go.
		const [stock, candidates] = await Promise.all([getStockItem(ctx, key), availableUnits(ctx, key, Math.min(input.count + 30, 100))]);
		const available = stock?.available ?? 0;
		if (available < input.count) throw await insufficient(ctx, input.bloodGroup, input.component, input.count, available);
		// A bag past its date is never issued. The worker expires such bags every 15 minutes;
		// one the issue meets first is expired here (bag, counter and audit at once), and the
		// counter is read again.
		const nowIso = new Date().toISOString();
		const due = candidates.filter((u) => u.expires_at <= nowIso);
		if (due.length) {
			let expired = 0;
			for (const u of due) if (await expireUnit(ctx, systemCaller('blood-bank:expiry'), u, key)) expired++;
			if (expired) await stockChanged(ctx, caller, input.bloodGroup, input.component);
			continue;
		}
		const picked = pickFirstExpiring(candidates, input.count);
		if (picked.length < input.count) continue; // the index has not caught up with a change yet
		const stamp = actorStamp(caller);
		let outcome;
		try {
			outcome = await transactNamed(ctx, {
				stock: stockDecrement(ctx, key, input.count, stamp),
				units: picked.map((u) =>
					unitTakeUpdate(ctx, u.id, 'issued', stamp, {
						issue_id: issueId,
						issued_at: stamp.updated_at,
						status_reason: input.reason,
						...(input.patientId ? { issued_to: input.patientId } : {})
					})
				),
				audit: auditPut(ctx, caller, {
					action: 'issue',
					resourceType: 'blood_issue',
					resourceId: issueId,
					changedFields: ['status', 'issue_id', 'issued_at', 'status_reason', 'available', ...(input.patientId ? ['issued_to'] : [])]
				})
			});
		} catch (err) {
			// DynamoDB's own transaction conflict, past transactNamed's retries: a lost race like any other.
			if ((err as Error).name === 'TransactionCanceledException') continue;
			throw err;
		}
		if (!outcome.ok) continue; // the counter or a unit changed under us: read again
		return picked.map((u) => u.id);
	}
	throw new AppError(409, 'VERSION_CONFLICT', 'The blood bank is busy with other issues of this group right now; nothing was issued. Try again.');
}

/** Sets the critical threshold of one group × component (admin), versioned. */
export async function setThreshold(
	ctx: Ctx,
	caller: Caller,
	group: BloodGroup,
	component: BloodComponent,
	input: { version: number; threshold: number }
): Promise<StockRow> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	const key = stockKey(group, component);
	if (input.version === 0) {
		// Never stored yet: the first threshold creates the row.
		const item = stampNew(caller, { stock_key: key, blood_group: group, component, available: 0, threshold: input.threshold }) as StockItem;
		const outcome = await transactNamed(ctx, {
			record: stockCreatePut(ctx, item),
			audit: auditPut(ctx, caller, { action: 'create', resourceType: 'blood_stock', resourceId: key, changedFields: ['threshold'] })
		});
		if (!outcome.ok) throw conflictError('blood_stock', key, 0, outcome.current);
	} else {
		await versionedUpdate(ctx, caller, {
			table: 'blood_stock',
			pkName: 'stock_key',
			id: key,
			expectedVersion: input.version,
			set: { threshold: input.threshold },
			resourceType: 'blood_stock',
			silent: true
		});
	}
	return (await stockChanged(ctx, caller, group, component)) ?? rowView(group, component, await getStockItem(ctx, key));
}

/** One unit's status move (admin): reserve, release, quarantine, discard, issue a reserved unit. */
export async function changeUnitStatus(
	ctx: Ctx,
	caller: Caller,
	unitId: string,
	input: { version: number; status: BloodUnitStatus; reason?: string }
): Promise<BloodUnitView> {
	await authorize(ctx, caller, 'blood_bank', 'write');
	const unit = await getUnit(ctx, unitId);
	if (!unit) throw notFound('This blood unit');
	if (!UNIT_TRANSITIONS[unit.status].includes(input.status)) {
		throw new AppError(409, 'INVALID_TRANSITION', `A ${unit.status} unit cannot become ${input.status}.`, {
			from: unit.status,
			to: input.status,
			allowed: UNIT_TRANSITIONS[unit.status]
		});
	}
	const key = stockKey(unit.blood_group, unit.component);
	const leaves = unit.status === 'available';
	const enters = input.status === 'available';
	if (enters && unit.expires_at <= new Date().toISOString()) {
		throw new AppError(409, 'INVALID_TRANSITION', `This bag expired at ${unit.expires_at}: it cannot go back into stock. Discard it.`, {
			from: unit.status,
			to: input.status,
			allowed: ['discarded'],
			expiresAt: unit.expires_at
		});
	}
	const stamp = actorStamp(caller);
	const stock = leaves ? stockDecrement(ctx, key, 1, stamp) : enters ? stockIncrement(ctx, { key, group: unit.blood_group, component: unit.component, by: 1, defaultThreshold: DEFAULT_THRESHOLD }, stamp) : undefined;
	await versionedUpdate(ctx, caller, {
		table: 'blood_units',
		pkName: 'id',
		id: unitId,
		expectedVersion: input.version,
		set: { status: input.status, ...(enters ? { available_key: key } : {}), ...(input.reason ? { status_reason: input.reason } : {}) },
		remove: leaves ? ['available_key'] : [],
		resourceType: 'blood_unit',
		guard: {
			expression: '#st = :from',
			names: { '#st': 'status' },
			values: { ':from': unit.status },
			error: (current) => new AppError(409, 'INVALID_TRANSITION', `This unit is now ${String(current.status)}; reload.`)
		},
		extra: stock ? { stock } : undefined,
		silent: true
	});
	if (stock) await stockChanged(ctx, caller, unit.blood_group, unit.component);
	const after = await getUnit(ctx, unitId);
	return unitView(after!);
}

// ---- live stock and the crossing alert

async function adminsToAlert(ctx: Ctx): Promise<UserItem[]> {
	const [admins, supers] = await Promise.all([listUsersByRole(ctx, 'admin', 100), listUsersByRole(ctx, 'super_admin', 100)]);
	return [...admins.items, ...supers.items].filter((u) => u.active);
}

/**
 * After any change to a counter or threshold: broadcast the row, then settle its crossing
 * state. Returns the row as read.
 */
export async function stockChanged(ctx: Ctx, caller: Caller, group: BloodGroup, component: BloodComponent): Promise<StockRow | undefined> {
	// The change has committed: a failure from here on must not turn it into an error for the
	// caller. Whatever is missed here, the worker's blood-stock job settles within 15 minutes.
	try {
		const item = await getStockItem(ctx, stockKey(group, component));
		const row = rowView(group, component, item);
		ctx.bus.emit(room.role('admin'), 'stock:updated', row);
		if (item) await settleCrossing(ctx, caller, item);
		return row;
	} catch (err) {
		ctx.log.warn('blood stock: alert check after a committed change failed; the worker re-checks', { stockKey: stockKey(group, component), error: (err as Error).name });
		return undefined;
	}
}

export type CrossingResult = 'critical' | 'recovered' | 'none';

/**
 * Brings the crossing state in line with the counter: below threshold and not yet alerted →
 * the alert (flip + a notification and an outbox row per admin + audit, one transaction,
 * then `stock:critical`); alerted and back at or above → `stock:recovered`. The flip is
 * conditioned on the counter as read, so of any number of concurrent callers one alerts;
 * one that lost because the counter moved reads again (a few times).
 */
export async function settleCrossing(ctx: Ctx, caller: Caller, seen: StockItem): Promise<CrossingResult> {
	let item: StockItem | undefined = seen;
	for (let attempt = 0; item && attempt < 5; attempt++) {
		const low = item.available < item.threshold;
		const alerted = item.alerted === true;
		if (low === alerted) return 'none';
		const now = new Date().toISOString();
		const event: StockAlertEvent = { bloodGroup: item.blood_group, component: item.component, available: item.available, threshold: item.threshold, at: now };
		const label = `${item.blood_group} ${COMPONENT_LABEL[item.component].toLowerCase()}`;
		const notices = low
			? (await adminsToAlert(ctx)).slice(0, 45).map((u) => ({
					userId: u.id,
					notice: notificationPut(ctx, u.id, {
						kind: 'blood_stock_critical',
						title: `Critical blood stock: ${label}`,
						body: `${label} is down to ${item!.available} available unit${item!.available === 1 ? '' : 's'}, below the threshold of ${item!.threshold}.`,
						relatedType: 'blood_stock',
						relatedId: item!.stock_key
					}),
					message: outboxPut(ctx, {
						kind: 'blood_stock_critical',
						channel: u.phone ? 'sms' : 'email',
						userId: u.id,
						relatedId: item!.stock_key,
						subject: `MedTrack: critical blood stock, ${label}`,
						body: `MedTrack: ${label} is down to ${item!.available} units (threshold ${item!.threshold}). Please arrange donations or transfers.`
					})
				}))
			: [];
		const outcome = await transactNamed(ctx, {
			flip: stockAlertFlip(ctx, item.stock_key, low, item.available, now),
			notices: notices.map((n) => n.notice.item),
			messages: notices.map((n) => n.message),
			audit: auditPut(ctx, caller, {
				action: low ? 'stock_critical' : 'stock_recovered',
				resourceType: 'blood_stock',
				resourceId: item.stock_key,
				changedFields: ['alerted']
			})
		});
		if (outcome.ok) {
			ctx.bus.emit(room.role('admin'), low ? 'stock:critical' : 'stock:recovered', event);
			for (const n of notices) announce(ctx, n.userId, n.notice.event);
			return low ? 'critical' : 'recovered';
		}
		item = await getStockItem(ctx, seen.stock_key);
	}
	return 'none';
}

/** Re-checks every stored counter's crossing state (the worker's safety net). */
export async function recheckThresholds(ctx: Ctx, caller: Caller): Promise<{ critical: number; recovered: number }> {
	const report = { critical: 0, recovered: 0 };
	for (const item of await getStockItems(ctx, ALL_KEYS.map((k) => k.key))) {
		const r = await settleCrossing(ctx, caller, item);
		if (r === 'critical') report.critical++;
		if (r === 'recovered') report.recovered++;
	}
	return report;
}

/** One available bag past its date leaves the stock: bag, counter and audit entry at once, only if still available. */
async function expireUnit(ctx: Ctx, caller: Caller, u: BloodUnitItem, key: string): Promise<boolean> {
	const stamp = actorStamp(caller);
	const outcome = await transactNamed(ctx, {
		unit: unitTakeUpdate(ctx, u.id, 'expired', stamp),
		stock: stockDecrement(ctx, key, 1, stamp),
		audit: auditPut(ctx, caller, { action: 'expire', resourceType: 'blood_unit', resourceId: u.id, changedFields: ['status', 'available'] })
	});
	return outcome.ok;
}

/**
 * Expires available units past their date: each leaves the stock in one transaction with
 * the counter and its audit entry (conditioned on still being available, so an issue racing
 * the worker takes it or the worker does, never both). Then every crossing is re-checked.
 */
export async function expireUnits(
	ctx: Ctx,
	caller: Caller,
	opts: { now?: number; signal?: AbortSignal } = {}
): Promise<{ expired: number; critical: number; recovered: number }> {
	const nowIso = new Date(opts.now ?? Date.now()).toISOString();
	let expired = 0;
	const touched = new Set<string>();
	for (const k of ALL_KEYS) {
		if (opts.signal?.aborted) break;
		for (let round = 0; round < 50; round++) {
			const due = await availableUnits(ctx, k.key, 25, nowIso);
			if (!due.length) break;
			let progressed = false;
			for (const u of due) {
				if (await expireUnit(ctx, caller, u, k.key)) {
					expired++;
					touched.add(k.key);
					progressed = true;
				}
			}
			if (!progressed) break;
		}
	}
	for (const key of touched) {
		const k = ALL_KEYS.find((x) => x.key === key)!;
		ctx.bus.emit(room.role('admin'), 'stock:updated', rowView(k.group, k.component, await getStockItem(ctx, key)));
	}
	const crossings = await recheckThresholds(ctx, caller);
	return { expired, ...crossings };
}

/** Only for donor sign-up and other patient-own paths: the caller must be a patient. */
export function requirePatient(ctx: Ctx, caller: Caller): Promise<string> {
	const actor = requireActor(caller);
	if (actor.role === 'patient' && actor.patientId) return Promise.resolve(actor.patientId);
	return refuse(ctx, caller, 'blood_bank', 'write', undefined, 'Only patients sign up as blood donors, for themselves.');
}
