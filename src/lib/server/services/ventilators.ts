import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { authorize, refuse, requireActor } from '../auth/guard';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { actorStamp, stampNew, versionedUpdate } from '../db/versioned';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { auditPut } from './audit';
import { announceHospital, authorizeSiteWrite, readHospitalItem } from './hospitals';
import { ventilatorCounterMove, ventilatorsAdded } from '../repositories/hospitals';
import { getPatient } from '../repositories/patients';
import {
	getVentilator,
	moveLogPut,
	movesOf,
	getPatientGuard,
	patientGuardDelete,
	patientGuardPut,
	ventilatorId,
	ventilatorPut,
	ventilatorsOfHospital,
	type VentilatorItem,
	type VentilatorMoveItem
} from '../repositories/ventilators';
import { heldBackOf } from '$lib/shared/hospitals';
import { managesSites, seesDevicePatients } from '$lib/shared/policy';
import { room } from '$lib/shared/rooms';
import { z } from 'zod';
import {
	bucketOf,
	planMove,
	VENTILATOR_STATUS_LABEL,
	type VentilatorCreate,
	type VentilatorMove,
	type VentilatorMoveView,
	type VentilatorView
} from '$lib/shared/ventilators';

/**
 * Ventilators one by one (issue #10). A device row holds where it is, its status and, while in
 * use, its patient; each move is versioned on the device, audited, logged (`ventilator_moves`)
 * and, when the status changes counter bucket (available / occupied / out of service), moves the
 * hospital's `ventilators` counter in the same transaction, so the counters always equal the
 * devices. A reservation by an ambulance or an emergency holds counted availability: while every
 * available ventilator is reserved, no device can leave "available" (409 NO_VENTILATOR_AVAILABLE).
 */
export function ventilatorView(v: VentilatorItem, withPatient: boolean): VentilatorView {
	return {
		id: v.id,
		hospitalId: v.hospital_id,
		serial: v.serial,
		location: v.location,
		status: v.status,
		...(withPatient && v.patient_id ? { patient: { id: v.patient_id, name: v.patient_name ?? '' } } : {}),
		version: v.version,
		updatedAt: v.updated_at,
		updatedBy: v.updated_by_name
	};
}

function moveView(m: VentilatorMoveItem, withPatient: boolean): VentilatorMoveView {
	return {
		at: m.at,
		byName: m.by_name,
		byId: m.by_id,
		fromLocation: m.from_location,
		toLocation: m.to_location,
		fromStatus: m.from_status,
		toStatus: m.to_status,
		...(withPatient && m.patient_name ? { patientName: m.patient_name } : {}),
		reason: m.reason
	};
}

/** The device goes to its hospital's room without its patient: paramedics may be in that room. */
function announceVentilator(ctx: Ctx, v: VentilatorItem): void {
	ctx.bus.emit(room.hospital(v.hospital_id), 'ventilator:updated', ventilatorView(v, false));
}

const REGISTER_ATTEMPTS = 5;

/** An administrator registers a device at a hospital: counted (total and available) in the same transaction. */
export async function registerVentilator(ctx: Ctx, caller: Caller, hospitalId: string, input: VentilatorCreate): Promise<VentilatorView> {
	await authorizeSiteWrite(ctx, caller, hospitalId);
	if (!managesSites(requireActor(caller).role)) await refuse(ctx, caller, 'hospital_resources', 'write', hospitalId, 'Administrators register ventilators; nurses move them.');
	for (let attempt = 0; attempt < REGISTER_ATTEMPTS; attempt++) {
		const h = await readHospitalItem(ctx, hospitalId);
		const counts = h.resources.ventilators;
		const heldBack = heldBackOf('ventilators', counts.total + 1, { enabled: h.pandemic.enabled, heldBackShare: h.pandemic.held_back_share });
		const item: VentilatorItem = stampNew(caller, {
			id: ventilatorId(hospitalId, input.serial),
			hospital_id: hospitalId,
			serial: input.serial,
			serial_lower: input.serial.toLowerCase(),
			location: input.location,
			status: 'available' as const
		});
		const stamp = actorStamp(caller, item.created_at);
		const outcome = await transactNamed(ctx, {
			device: ventilatorPut(ctx, item),
			hospital: ventilatorsAdded(ctx, hospitalId, 1, counts.total, heldBack, stamp),
			log: moveLogPut(ctx, {
				ventilator_id: item.id,
				at: item.created_at,
				hospital_id: hospitalId,
				by_id: stamp.updated_by,
				by_name: stamp.updated_by_name,
				from_location: '',
				to_location: input.location,
				from_status: null,
				to_status: 'available',
				reason: 'Registered'
			}),
			audit: auditPut(ctx, caller, { action: 'create', resourceType: 'ventilator', resourceId: item.id, changedFields: ['serial', 'location', 'status'] })
		});
		if (outcome.ok) {
			announceVentilator(ctx, item);
			await announceHospital(ctx, caller, hospitalId);
			return ventilatorView(item, true);
		}
		if (outcome.failed === 'device') {
			throw new AppError(409, 'ALREADY_EXISTS', `A ventilator with serial ${input.serial} is already registered at ${h.name}.`, [{ field: 'serial', message: 'is already registered at this hospital' }]);
		}
		if (outcome.failed !== 'hospital') throw unexpectedFailure(outcome);
		if (!outcome.current) throw notFound('This hospital');
		// Another device was registered at the same moment: read the total again.
	}
	throw new AppError(409, 'VERSION_CONFLICT', 'Other ventilators were being registered at this hospital at the same moment. Try again.', { resourceType: 'hospital', id: hospitalId });
}

export async function listVentilators(ctx: Ctx, caller: Caller, hospitalId: string): Promise<VentilatorView[]> {
	await authorize(ctx, caller, 'hospital_resources', 'read', { id: hospitalId });
	await readHospitalItem(ctx, hospitalId);
	const withPatient = seesDevicePatients(requireActor(caller), hospitalId);
	return (await ventilatorsOfHospital(ctx, hospitalId)).map((v) => ventilatorView(v, withPatient));
}

const movesCursor = z.object({ key: startKeySchema }).strict();

/** One device with a page of its movement log, newest first (`cursor` from the previous page). */
export async function readVentilator(
	ctx: Ctx,
	caller: Caller,
	id: string,
	q: { cursor?: string; limit: number }
): Promise<{ ventilator: VentilatorView; moves: VentilatorMoveView[]; nextCursor: string | null }> {
	await authorize(ctx, caller, 'hospital_resources', 'read', { id });
	const scope = `ventilator-moves:${id}`;
	const start = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, movesCursor).key : undefined;
	const v = await getVentilator(ctx, id);
	if (!v) throw notFound('This ventilator');
	const page = await resumeQuery(start, () => movesOf(ctx, id, q.limit, start));
	const withPatient = seesDevicePatients(requireActor(caller), v.hospital_id);
	return {
		ventilator: ventilatorView(v, withPatient),
		moves: page.items.map((m) => moveView(m, withPatient)),
		nextCursor: page.lastKey ? encodeCursor(ctx.cursorKey, scope, { key: page.lastKey }) : null
	};
}

/** 409 PATIENT_ON_VENTILATOR: the patient is already on another device, named with where it is. */
function patientOnVentilator(patientName: string, guard: Record<string, unknown> | undefined): AppError {
	const serial = typeof guard?.device_serial === 'string' ? guard.device_serial : undefined;
	return new AppError(
		409,
		'PATIENT_ON_VENTILATOR',
		`${patientName} is already on ventilator ${serial ?? 'another device'}: free that device first, then put the patient on this one.`,
		{ field: 'patientId', ventilatorId: guard?.device_id ?? null, serial: serial ?? null, hospitalId: guard?.device_hospital_id ?? null }
	);
}

/**
 * Moves a device (location, status, patient), versioned on the device: 409 VERSION_CONFLICT
 * names who changed it. Nurses of its hospital and administrators; the reason is required.
 */
export async function moveVentilator(ctx: Ctx, caller: Caller, id: string, move: VentilatorMove): Promise<VentilatorView> {
	await authorize(ctx, caller, 'hospital_resources', 'write', { id });
	const v = await getVentilator(ctx, id);
	if (!v) throw notFound('This ventilator');
	await authorizeSiteWrite(ctx, caller, v.hospital_id);
	const plan = planMove({ location: v.location, status: v.status, patientId: v.patient_id }, move);
	if (!plan.ok) throw badRequest(`This move cannot be made: ${plan.message}.`, [{ field: plan.field, message: plan.message }]);
	let patientName = v.patient_name;
	if (plan.patientId && plan.patientId !== v.patient_id) {
		const p = await getPatient(ctx, plan.patientId);
		if (!p) throw notFound('This patient');
		patientName = p.name;
	}
	const from = bucketOf(v.status);
	const to = bucketOf(plan.status);
	const stamp = actorStamp(caller);
	const inUse = plan.status === 'in_use';
	const set: Record<string, unknown> = { location: plan.location, status: plan.status };
	if (inUse) Object.assign(set, { patient_id: plan.patientId, patient_name: patientName });
	const changedFields = [
		...(plan.location !== v.location ? ['location'] : []),
		...(plan.status !== v.status ? ['status'] : []),
		...(plan.patientId !== v.patient_id ? ['patient'] : [])
	];
	const hospital = from !== to ? await readHospitalItem(ctx, v.hospital_id) : undefined;
	// One patient, one ventilator: the patient's guard row is taken with the assignment and given back with the freeing.
	const assigning = inUse && plan.patientId !== v.patient_id ? plan.patientId : undefined;
	// (a guard naming another device is left alone: two devices on one patient from before the guard existed)
	const freeing = !inUse && v.patient_id && (await getPatientGuard(ctx, v.patient_id))?.device_id === id ? v.patient_id : undefined;
	const patientGuard = assigning
		? patientGuardPut(ctx, { patient_id: assigning, device_id: id, device_serial: v.serial, device_hospital_id: v.hospital_id, since: stamp.updated_at })
		: freeing
			? patientGuardDelete(ctx, freeing, id)
			: undefined;
	const result = await versionedUpdate(ctx, caller, {
		table: 'ventilators',
		pkName: 'id',
		id,
		expectedVersion: move.version,
		read: v,
		set,
		remove: inUse || !v.patient_id ? [] : ['patient_id', 'patient_name'],
		resourceType: 'ventilator',
		silent: true,
		audit: { action: inUse && plan.patientId !== v.patient_id ? 'ventilator_assign' : v.patient_id && !inUse ? 'ventilator_free' : 'ventilator_move', changedFields, reason: move.reason },
		extra: {
			patientGuard,
			hospital: from !== to ? ventilatorCounterMove(ctx, v.hospital_id, from, to, stamp) : undefined,
			log: moveLogPut(ctx, {
				ventilator_id: id,
				at: stamp.updated_at,
				hospital_id: v.hospital_id,
				by_id: stamp.updated_by,
				by_name: stamp.updated_by_name,
				from_location: v.location,
				to_location: plan.location,
				from_status: v.status,
				to_status: plan.status,
				...(inUse && plan.patientId !== v.patient_id ? { patient_id: plan.patientId, patient_name: patientName } : {}),
				reason: move.reason
			})
		},
		onFailed: (name, current) => {
			if (name === 'patientGuard') return assigning ? patientOnVentilator(patientName ?? 'This patient', current) : undefined;
			if (name !== 'hospital') return undefined;
			if (!current) return notFound('This hospital');
			const c = (current as { resources?: { ventilators?: { available: number; reserved: number } } }).resources?.ventilators;
			if (from === 'available') {
				return new AppError(
					409,
					'NO_VENTILATOR_AVAILABLE',
					`No ventilator at ${hospital?.name ?? 'this hospital'} is counted as available (${c?.reserved ?? 0} reserved for incoming cases): ` +
						`this device cannot become ${VENTILATOR_STATUS_LABEL[plan.status].toLowerCase()} until a reservation ends or another ventilator is freed.`,
					{ field: 'status', available: c?.available ?? 0, reserved: c?.reserved ?? 0 }
				);
			}
			return new AppError(409, 'VERSION_CONFLICT', "The hospital's ventilator counts changed at the same moment. Reload and try again.", { resourceType: 'hospital', id: v.hospital_id });
		}
	});
	const updated: VentilatorItem = { ...v, ...set, ...result, version: result.version } as VentilatorItem;
	if (!inUse) {
		delete updated.patient_id;
		delete updated.patient_name;
	}
	announceVentilator(ctx, updated);
	if (from !== to) await announceHospital(ctx, caller, v.hospital_id);
	return ventilatorView(updated, seesDevicePatients(requireActor(caller), v.hospital_id));
}
