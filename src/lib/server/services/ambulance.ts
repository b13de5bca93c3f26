import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { createLanes, type Lanes } from '../lanes';
import { authorize, refuse, requireActor } from '../auth/guard';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { actorStamp, stampNew } from '../db/versioned';
import { auditPut } from './audit';
import { announceHospital, readHospitalItem } from './hospitals';
import {
	alertPut,
	alertResponseUpdate,
	alertStatusUpdate,
	alertsInStatus,
	alertsOfParamedic,
	getAlert,
	listHospitals,
	releaseUpdate,
	reserveUpdate,
	type AlertItem,
	type HospitalItem
} from '../repositories/hospitals';
import {
	RESOURCE_KINDS,
	arrivalBucket,
	haversineKm,
	takeable,
	type AlertCreate,
	type AlertView,
	type Candidate,
	type Needs,
	type ResourceKind,
	type ResourcesGoneDetails,
	type Severity
} from '$lib/shared/hospitals';
import { answersAmbulanceAlerts, sendsAmbulanceAlerts } from '$lib/shared/policy';
import { room } from '$lib/shared/rooms';

/**
 * Ambulance alerts (SPEC §3): a paramedic's alert goes to the hospitals within its radius
 * (great-circle distance) that can take the patient now, nearest first; the hospitals see it
 * live and may accept or decline; the paramedic's selection reserves the needed resources with
 * one conditional update of the hospital's counters (available >= need, and for a case that
 * may not use the pandemic hold-back, available >= need + held back) in the alert's
 * transaction, so two paramedics on the last bed get one 200 and one 409 RESOURCES_GONE.
 * Arrival moves the reservation into occupancy; cancellation gives it back.
 */
const lanesByCtx = new WeakMap<Ctx, Lanes>();
function lanesOf(ctx: Ctx): Lanes {
	let lanes = lanesByCtx.get(ctx);
	if (!lanes) lanesByCtx.set(ctx, (lanes = createLanes()));
	return lanes;
}
const SELECT_ATTEMPTS = 10;

const needList = (needs: Needs): [ResourceKind, number][] =>
	RESOURCE_KINDS.flatMap((k) => ((needs[k] ?? 0) > 0 ? [[k, needs[k]!] as [ResourceKind, number]] : []));

export function alertView(a: AlertItem): AlertView {
	return {
		id: a.id,
		status: a.status,
		condition: a.condition,
		severity: a.severity,
		needs: a.needs,
		latitude: a.latitude,
		longitude: a.longitude,
		radiusKm: a.radius_km,
		paramedicId: a.paramedic_id,
		paramedicName: a.paramedic_name,
		...(a.hospital_id ? { hospitalId: a.hospital_id } : {}),
		hospitalIds: a.hospital_ids,
		responses: a.responses ?? {},
		createdAt: a.created_at,
		updatedAt: a.updated_at
	};
}

/** What a case of this severity may take at a hospital now, per resource. */
const availableFor = (h: HospitalItem, severity: Severity) =>
	Object.fromEntries(RESOURCE_KINDS.map((k) => [k, takeable({ available: h.resources[k].available, heldBack: h.resources[k].held_back }, severity)])) as Candidate['available'];

const canTake = (h: HospitalItem, needs: Needs, severity: Severity) => {
	const avail = availableFor(h, severity);
	return needList(needs).every(([k, n]) => avail[k] >= n);
};

/** Hospitals within the radius that can take the patient now, nearest first. */
export function candidatesAmong(hospitals: HospitalItem[], at: { latitude: number; longitude: number }, radiusKm: number, needs: Needs, severity: Severity): Candidate[] {
	return hospitals
		.map((h) => ({ h, d: haversineKm(at, h) }))
		.filter(({ h, d }) => d <= radiusKm && canTake(h, needs, severity))
		.sort((a, b) => a.d - b.d)
		.map(({ h, d }) => ({ hospitalId: h.id, name: h.name, distanceKm: Math.round(d * 100) / 100, available: availableFor(h, severity) }));
}

async function candidatesFor(ctx: Ctx, a: Pick<AlertItem, 'latitude' | 'longitude' | 'radius_km' | 'needs' | 'severity'>): Promise<Candidate[]> {
	return candidatesAmong(await listHospitals(ctx), a, a.radius_km, a.needs, a.severity);
}

function announceAlert(ctx: Ctx, a: AlertItem): AlertView {
	const view = alertView(a);
	ctx.bus.emit(room.user(a.paramedic_id), 'ambulance:updated', view);
	for (const h of a.hospital_ids) ctx.bus.emit(room.hospital(h), 'ambulance:updated', view);
	return view;
}

export async function createAlert(ctx: Ctx, caller: Caller, input: AlertCreate): Promise<{ alert: AlertView; candidates: Candidate[] }> {
	const actor = requireActor(caller);
	if (!sendsAmbulanceAlerts(actor.role)) await refuse(ctx, caller, 'emergency', 'write', undefined, 'Ambulance alerts are sent by paramedics.');
	const needs: Needs = Object.fromEntries(needList(input.needs));
	const base = { latitude: input.latitude, longitude: input.longitude, radius_km: input.radiusKm, needs, severity: input.severity };
	const candidates = await candidatesFor(ctx, base);
	const item: AlertItem = stampNew(caller, {
		id: `amb_${crypto.randomUUID()}`,
		status: 'open' as const,
		condition: input.condition,
		...base,
		paramedic_id: actor.id,
		paramedic_name: actor.name,
		hospital_ids: candidates.map((c) => c.hospitalId),
		responses: {}
	});
	const outcome = await transactNamed(ctx, {
		alert: alertPut(ctx, item),
		audit: auditPut(ctx, caller, { action: 'create', resourceType: 'ambulance_alert', resourceId: item.id })
	});
	if (!outcome.ok) throw unexpectedFailure(outcome);
	return { alert: announceAlert(ctx, item), candidates };
}

/** The alert as its paramedic (own) or hospital staff may see it; another paramedic's is 404. */
async function readAlertItem(ctx: Ctx, caller: Caller, id: string, mode: 'read' | 'write'): Promise<AlertItem> {
	const a = await getAlert(ctx, id);
	if (!a) throw notFound('This ambulance alert');
	await authorize(ctx, caller, 'emergency', mode, { id, isOwn: (actor) => actor.id === a.paramedic_id, hideExistence: true });
	return a;
}

export async function readAlert(ctx: Ctx, caller: Caller, id: string): Promise<{ alert: AlertView; candidates: Candidate[] }> {
	const a = await readAlertItem(ctx, caller, id, 'read');
	return { alert: alertView(a), candidates: a.status === 'open' ? await candidatesFor(ctx, a) : [] };
}

/** A paramedic's own alerts, newest first; hospital staff see the open and en-route ones (of one hospital if named). */
export async function listAlerts(ctx: Ctx, caller: Caller, hospitalId?: string): Promise<AlertView[]> {
	const actor = requireActor(caller);
	const scope = await authorize(ctx, caller, 'emergency', 'read');
	if (scope === 'own') return (await alertsOfParamedic(ctx, actor.id)).map(alertView);
	const [open, enRoute] = await Promise.all([alertsInStatus(ctx, 'open'), alertsInStatus(ctx, 'en_route')]);
	return [...open, ...enRoute]
		.filter((a) => !hospitalId || a.hospital_ids.includes(hospitalId) || a.hospital_id === hospitalId)
		.sort((a, b) => b.created_at.localeCompare(a.created_at))
		.map(alertView);
}

function gone(hospitalId: string, candidates: Candidate[]): AppError {
	const details: ResourcesGoneDetails = { hospitalId, candidates };
	return new AppError(
		409,
		'RESOURCES_GONE',
		candidates.length
			? 'Someone else took what this hospital had free. Choose another hospital from the refreshed list.'
			: 'Someone else took what this hospital had free, and no other hospital in range can take the patient now.',
		details
	);
}

/** The paramedic picks a hospital: its resources are reserved atomically, or 409 RESOURCES_GONE with fresh candidates. */
export async function selectHospital(ctx: Ctx, caller: Caller, alertId: string, hospitalId: string): Promise<AlertView> {
	const actor = requireActor(caller);
	const a = await readAlertItem(ctx, caller, alertId, 'write');
	if (!sendsAmbulanceAlerts(actor.role)) await refuse(ctx, caller, 'emergency', 'write', alertId, 'The paramedic who sent the alert chooses the hospital.');
	if (a.status !== 'open') throw new AppError(409, 'INVALID_TRANSITION', `This alert is ${a.status.replace('_', ' ')}; a hospital can be chosen only while it is open.`, { status: a.status });
	const needs = needList(a.needs);
	const critical = a.severity === 'critical';

	const done = await lanesOf(ctx).run(`hospital#${hospitalId}`, async () => {
		for (let attempt = 0; attempt < SELECT_ATTEMPTS; attempt++) {
			const h = await readHospitalItem(ctx, hospitalId);
			if (!canTake(h, a.needs, a.severity)) return false;
			const min: Partial<Record<ResourceKind, number>> = {};
			const heldBack: Partial<Record<ResourceKind, number>> = {};
			for (const [k, n] of needs) {
				min[k] = critical ? n : n + h.resources[k].held_back;
				if (!critical) heldBack[k] = h.resources[k].held_back;
			}
			const stamp = actorStamp(caller);
			const outcome = await transactNamed(ctx, {
				hospital: reserveUpdate(ctx, hospitalId, needs, min, heldBack, stamp),
				alert: alertStatusUpdate(ctx, alertId, 'open', 'en_route', { hospital_id: hospitalId, reserved_at: stamp.updated_at }, stamp),
				audit: auditPut(ctx, caller, { action: 'reserve', resourceType: 'ambulance_alert', resourceId: alertId, changedFields: ['status', 'hospital_id', ...needs.map(([k]) => `resources.${k}`)] })
			});
			if (outcome.ok) return true;
			if (outcome.failed === 'alert') {
				const status = (outcome.current?.status as string | undefined) ?? 'gone';
				throw new AppError(409, 'INVALID_TRANSITION', `This alert is already ${status.replace('_', ' ')}.`, { status });
			}
			if (outcome.failed !== 'hospital') throw unexpectedFailure(outcome);
			// another instance changed the counters between our read and write: read again
		}
		return false;
	});
	if (!done) throw gone(hospitalId, (await candidatesFor(ctx, a)).filter((c) => c.hospitalId !== hospitalId));
	await announceHospital(ctx, hospitalId);
	const updated = (await getAlert(ctx, alertId))!;
	return announceAlert(ctx, { ...updated, hospital_ids: [...new Set([...updated.hospital_ids, hospitalId])] });
}

/** Arrived (the reservation becomes occupancy) or cancelled (the reservation, if any, is given back). */
export async function closeAlert(ctx: Ctx, caller: Caller, alertId: string, status: 'arrived' | 'cancelled'): Promise<AlertView> {
	const a = await readAlertItem(ctx, caller, alertId, 'write');
	const allowed = status === 'arrived' ? a.status === 'en_route' : a.status === 'open' || a.status === 'en_route';
	if (!allowed) throw new AppError(409, 'INVALID_TRANSITION', `This alert is ${a.status.replace('_', ' ')}; it cannot become ${status}.`, { status: a.status });
	const stamp = actorStamp(caller);
	const hospitalId = a.status === 'en_route' ? a.hospital_id : undefined;
	const outcome = await transactNamed(ctx, {
		alert: alertStatusUpdate(ctx, alertId, a.status, status, { closed_at: stamp.updated_at }, stamp),
		hospital: hospitalId ? releaseUpdate(ctx, hospitalId, needList(a.needs), status === 'arrived' ? arrivalBucket : 'available', stamp) : undefined,
		audit: auditPut(ctx, caller, { action: status === 'arrived' ? 'arrive' : 'cancel', resourceType: 'ambulance_alert', resourceId: alertId, changedFields: ['status'] })
	});
	if (!outcome.ok) {
		if (outcome.failed === 'alert') throw new AppError(409, 'INVALID_TRANSITION', 'This alert changed at the same moment. Reload it.', { status: outcome.current?.status });
		throw unexpectedFailure(outcome);
	}
	if (hospitalId) await announceHospital(ctx, hospitalId);
	return announceAlert(ctx, (await getAlert(ctx, alertId))!);
}

/** Hospital staff accept or decline an open alert for their hospital; the paramedic sees it live. */
export async function respondToAlert(ctx: Ctx, caller: Caller, alertId: string, hospitalId: string, response: 'accept' | 'decline'): Promise<AlertView> {
	const actor = requireActor(caller);
	const a = await readAlertItem(ctx, caller, alertId, 'read');
	if (!answersAmbulanceAlerts(actor.role)) await refuse(ctx, caller, 'emergency', 'write', alertId, 'Hospital staff answer ambulance alerts.');
	if (!a.hospital_ids.includes(hospitalId)) throw notFound('This alert for that hospital');
	if (a.status !== 'open') throw new AppError(409, 'INVALID_TRANSITION', `This alert is already ${a.status.replace('_', ' ')}.`, { status: a.status });
	const stamp = actorStamp(caller);
	const outcome = await transactNamed(ctx, {
		alert: alertResponseUpdate(ctx, alertId, hospitalId, { response, by: actor.name, at: stamp.updated_at }, stamp),
		audit: auditPut(ctx, caller, { action: `alert_${response}`, resourceType: 'ambulance_alert', resourceId: alertId, changedFields: ['responses'] })
	});
	if (!outcome.ok) {
		if (outcome.failed === 'alert') throw new AppError(409, 'INVALID_TRANSITION', 'This alert is no longer open.', { status: outcome.current?.status });
		throw unexpectedFailure(outcome);
	}
	return announceAlert(ctx, (await getAlert(ctx, alertId))!);
}
