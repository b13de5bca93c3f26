import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, refuse } from '../auth/guard';
import { managesSites } from '$lib/shared/policy';
import { requireStaffOf } from './hospital-staff';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { stampNew, versionedUpdate } from '../db/versioned';
import { auditPut } from './audit';
import { reconsiderOpenAlerts } from './alert-candidates';
import { getHospital, hospitalPut, listHospitals as listHospitalItems, type CountersItem, type HospitalItem } from '../repositories/hospitals';
import { ventilatorId, ventilatorPut, type VentilatorItem } from '../repositories/ventilators';
import {
	RESOURCE_KINDS,
	heldBackOf,
	type BedChange,
	type HospitalCreate,
	type HospitalView,
	type PandemicChange,
	type ResourceCounts,
	type ResourceKind
} from '$lib/shared/hospitals';
import { room } from '$lib/shared/rooms';

/**
 * Hospitals (sites) and their beds, ICU beds and ventilators (SPEC §3). Counters live on the
 * hospital's row; every change bumps its version, is audited in its transaction, and goes to
 * `hospital:<id>` as `hospital:updated`. Pandemic mode keeps ceil(share × total) of ICU beds and
 * ventilators for critical cases (`held_back`, recomputed whenever the share or a total changes).
 */
export function countsView(c: CountersItem): ResourceCounts {
	return { total: c.total, available: c.available, reserved: c.reserved, occupied: c.occupied, outOfService: c.out_of_service, heldBack: c.held_back };
}

export function hospitalView(h: HospitalItem): HospitalView {
	return {
		id: h.id,
		version: h.version,
		name: h.name,
		latitude: h.latitude,
		longitude: h.longitude,
		departments: h.departments,
		pandemic: { enabled: h.pandemic.enabled, heldBackShare: h.pandemic.held_back_share },
		resources: Object.fromEntries(RESOURCE_KINDS.map((k) => [k, countsView(h.resources[k])])) as HospitalView['resources'],
		updatedAt: h.updated_at,
		updatedBy: h.updated_by_name
	};
}

/**
 * After a committed change of a hospital's counts: its current row to its room, and the open
 * ambulance alerts brought up to date with it (late capacity: a hospital that can now take a
 * patient becomes a candidate; one that ran out is marked so on the paramedic's screen). The
 * change itself is committed, so a failure here is logged, not answered.
 */
export async function announceHospital(ctx: Ctx, caller: Caller, id: string): Promise<HospitalView | undefined> {
	const h = await getHospital(ctx, id);
	if (!h) return undefined;
	const view = hospitalView(h);
	ctx.bus.emit(room.hospital(id), 'hospital:updated', view);
	await reconsiderOpenAlerts(ctx, caller, h).catch((err: Error) => ctx.log.warn('open ambulance alerts not reconsidered', { error: err.name, hospitalId: id }));
	return view;
}

/**
 * Who changes a hospital's beds and ventilators: whoever the matrix lets write hospital resources
 * (nurses, administrators), and only as staff of that hospital (`requireStaffOf`: a nurse at the
 * hospital her account is tied to, administrators anywhere; 403, audited, otherwise).
 */
export async function authorizeSiteWrite(ctx: Ctx, caller: Caller, hospitalId: string): Promise<void> {
	await authorize(ctx, caller, 'hospital_resources', 'write', { id: hospitalId });
	await requireStaffOf(ctx, caller, hospitalId, { resource: 'hospital_resources', doing: 'change beds and ventilators' });
}

/** The devices a new hospital starts with: V-001… in the equipment store, available. */
export function initialVentilators(caller: Caller, hospitalId: string, n: number): VentilatorItem[] {
	return Array.from({ length: n }, (_, i) => {
		const serial = `V-${String(i + 1).padStart(3, '0')}`;
		return stampNew(caller, {
			id: ventilatorId(hospitalId, serial),
			hospital_id: hospitalId,
			serial,
			serial_lower: serial.toLowerCase(),
			location: 'Equipment store',
			status: 'available' as const
		});
	});
}

export async function createHospital(ctx: Ctx, caller: Caller, input: HospitalCreate): Promise<HospitalView> {
	await authorize(ctx, caller, 'hospital_resources', 'write');
	// Nurses change bed status; creating a site is an administrator's.
	if (!managesSites(caller.actor!.role)) await refuse(ctx, caller, 'hospital_resources', 'write', undefined, 'Only administrators add hospitals.');
	const pandemic = { enabled: false, held_back_share: 0 };
	const resources = Object.fromEntries(
		RESOURCE_KINDS.map((k) => {
			const total = input.resources[k].total;
			return [k, { total, available: total, reserved: 0, occupied: 0, out_of_service: 0, held_back: 0 } satisfies CountersItem];
		})
	) as HospitalItem['resources'];
	const item: HospitalItem = stampNew(caller, {
		id: `h_${crypto.randomUUID()}`,
		kind: 'hospital' as const,
		name: input.name,
		name_lower: input.name.toLowerCase(),
		latitude: input.latitude,
		longitude: input.longitude,
		departments: [...new Set(input.departments)],
		pandemic,
		resources
	});
	const outcome = await transactNamed(ctx, {
		hospital: hospitalPut(ctx, item),
		// The ventilators counters equal the devices from the first moment.
		devices: initialVentilators(caller, item.id, input.resources.ventilators.total).map((v) => ventilatorPut(ctx, v)),
		audit: auditPut(ctx, caller, { action: 'create', resourceType: 'hospital', resourceId: item.id })
	});
	if (!outcome.ok) throw unexpectedFailure(outcome);
	const view = hospitalView(item);
	ctx.bus.emit(room.hospital(item.id), 'hospital:updated', view);
	await reconsiderOpenAlerts(ctx, caller, item).catch((err: Error) => ctx.log.warn('open ambulance alerts not reconsidered', { error: err.name, hospitalId: item.id }));
	return view;
}

export async function listHospitals(ctx: Ctx, caller: Caller): Promise<HospitalView[]> {
	await authorize(ctx, caller, 'hospital_resources', 'read');
	return (await listHospitalItems(ctx)).map(hospitalView);
}

export async function readHospitalItem(ctx: Ctx, id: string): Promise<HospitalItem> {
	const h = await getHospital(ctx, id);
	if (!h) throw notFound('This hospital');
	return h;
}

export async function readHospital(ctx: Ctx, caller: Caller, id: string): Promise<HospitalView> {
	await authorize(ctx, caller, 'hospital_resources', 'read', { id });
	return hospitalView(await readHospitalItem(ctx, id));
}

/** The counters after a bed status change, or the sentence why it cannot happen. */
export function applyBedChange(c: CountersItem, action: BedChange['action'], n: number): CountersItem | string {
	const next = { ...c };
	switch (action) {
		case 'occupy':
			if (c.available < n) return `Only ${c.available} available; ${n} cannot be occupied.`;
			next.available -= n;
			next.occupied += n;
			break;
		case 'free':
			if (c.occupied < n) return `Only ${c.occupied} occupied; ${n} cannot be freed.`;
			next.occupied -= n;
			next.available += n;
			break;
		case 'out_of_service':
			if (c.available < n) return `Only ${c.available} available; ${n} cannot be taken out of service.`;
			next.available -= n;
			next.out_of_service += n;
			break;
		case 'return_to_service':
			if (c.out_of_service < n) return `Only ${c.out_of_service} out of service; ${n} cannot be returned.`;
			next.out_of_service -= n;
			next.available += n;
			break;
	}
	return next;
}

/** Occupy, free, take out of or return to service (nurses and administrators), versioned and audited. */
export async function changeBeds(ctx: Ctx, caller: Caller, id: string, change: BedChange): Promise<HospitalView> {
	await authorizeSiteWrite(ctx, caller, id);
	if (change.resource === 'ventilators') {
		throw badRequest('Ventilators are tracked one by one: move a device (POST /api/ventilators/:id/moves) instead.', [
			{ field: 'resource', message: 'ventilators change device by device' }
		]);
	}
	const h = await readHospitalItem(ctx, id);
	const next = applyBedChange(h.resources[change.resource], change.action, change.count);
	if (typeof next === 'string') {
		throw new AppError(409, 'INVALID_TRANSITION', next, { field: 'count', resource: change.resource, action: change.action });
	}
	await versionedUpdate(ctx, caller, {
		table: 'hospitals',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		read: h,
		set: { resources: { ...h.resources, [change.resource]: next } },
		resourceType: 'hospital',
		silent: true,
		audit: { action: `beds_${change.action}`, changedFields: [`resources.${change.resource}`] }
	});
	return (await announceHospital(ctx, caller, id))!;
}

/** Pandemic mode on or off, and the share held back for critical cases (administrators). */
export async function setPandemic(ctx: Ctx, caller: Caller, id: string, change: PandemicChange): Promise<HospitalView> {
	await authorize(ctx, caller, 'hospital_resources', 'write', { id });
	if (!managesSites(caller.actor!.role)) await refuse(ctx, caller, 'hospital_resources', 'write', id, 'Only administrators switch pandemic mode.');
	const h = await readHospitalItem(ctx, id);
	const pandemic = { enabled: change.enabled, heldBackShare: change.heldBackShare };
	const resources = Object.fromEntries(
		RESOURCE_KINDS.map((k: ResourceKind) => [k, { ...h.resources[k], held_back: heldBackOf(k, h.resources[k].total, pandemic) }])
	) as HospitalItem['resources'];
	await versionedUpdate(ctx, caller, {
		table: 'hospitals',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		read: h,
		set: { pandemic: { enabled: change.enabled, held_back_share: change.heldBackShare }, resources },
		resourceType: 'hospital',
		silent: true,
		audit: { action: change.enabled ? 'pandemic_on' : 'pandemic_off', changedFields: ['pandemic', 'resources'] }
	});
	return (await announceHospital(ctx, caller, id))!;
}
