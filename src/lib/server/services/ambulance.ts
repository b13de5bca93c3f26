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
import { alertView, announceAlert, canTake, candidatesFor, needList } from './alert-candidates';
import { ANSWERING_ALERTS, isStaffOfHospital, requireStaffOf } from './hospital-staff';
import {
	alertPut,
	alertResponseUpdate,
	alertStatusUpdate,
	alertsInStatus,
	alertsOfParamedic,
	getAlert,
	releaseUpdate,
	reserveUpdate,
	type AlertItem
} from '../repositories/hospitals';
import { arrivalBucket, haversineKm, type AlertCreate, type AlertResponse, type AlertResponseInput, type AlertView, type Candidate, type Needs, type ResourceKind, type ResourcesGoneDetails } from '$lib/shared/hospitals';
import { answersAmbulanceAlerts, sendsAmbulanceAlerts } from '$lib/shared/policy';

export { alertView };

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

const alertLane = (alertId: string) => `alert#${alertId}`;

export async function createAlert(ctx: Ctx, caller: Caller, input: AlertCreate): Promise<{ alert: AlertView; candidates: Candidate[] }> {
	const actor = requireActor(caller);
	if (!sendsAmbulanceAlerts(actor.role)) await refuse(ctx, caller, 'emergency', 'write', undefined, 'Ambulance alerts are sent by paramedics.');
	const needs: Needs = Object.fromEntries(needList(input.needs));
	const base = { latitude: input.latitude, longitude: input.longitude, radius_km: input.radiusKm, needs, severity: input.severity };
	const candidates = (await candidatesFor(ctx, base)).filter((c) => c.canTake);
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

/** Whether the caller is staff of a hospital this alert went to (or is going to). */
function staffOfAlert(caller: Caller, a: AlertItem): boolean {
	const actor = requireActor(caller);
	for (const h of new Set([...a.hospital_ids, ...(a.hospital_id ? [a.hospital_id] : [])])) if (isStaffOfHospital(actor, h)) return true;
	return false;
}

/** The alert as its paramedic (own) or the staff of a hospital it went to may see it; anyone else is told 404. */
async function readAlertItem(ctx: Ctx, caller: Caller, id: string, mode: 'read' | 'write'): Promise<AlertItem> {
	const a = await getAlert(ctx, id);
	if (!a) throw notFound('This ambulance alert');
	const scope = await authorize(ctx, caller, 'emergency', mode, { id, isOwn: (actor) => actor.id === a.paramedic_id, hideExistence: true });
	if (scope !== 'own' && requireActor(caller).id !== a.paramedic_id && !staffOfAlert(caller, a)) {
		await refuse(ctx, caller, 'emergency', mode, id, 'This ambulance alert went to other hospitals.');
	}
	return a;
}

export async function readAlert(ctx: Ctx, caller: Caller, id: string): Promise<{ alert: AlertView; candidates: Candidate[] }> {
	const a = await readAlertItem(ctx, caller, id, 'read');
	return { alert: alertView(a), candidates: a.status === 'open' ? await candidatesFor(ctx, a) : [] };
}

/**
 * A paramedic's own alerts, newest first; hospital staff see the open and en-route ones of the
 * hospitals they are staff of (of one hospital if named: staff of it only).
 */
export async function listAlerts(ctx: Ctx, caller: Caller, hospitalId?: string): Promise<AlertView[]> {
	const actor = requireActor(caller);
	const scope = await authorize(ctx, caller, 'emergency', 'read');
	if (scope === 'own') return (await alertsOfParamedic(ctx, actor.id)).map(alertView);
	if (hospitalId) await requireStaffOf(ctx, caller, hospitalId, { mode: 'read', doing: ANSWERING_ALERTS });
	const [open, enRoute] = await Promise.all([alertsInStatus(ctx, 'open'), alertsInStatus(ctx, 'en_route')]);
	const mine: AlertItem[] = [];
	for (const a of [...open, ...enRoute]) {
		if (hospitalId ? a.hospital_ids.includes(hospitalId) || a.hospital_id === hospitalId : staffOfAlert(caller, a)) mine.push(a);
	}
	return mine.sort((a, b) => b.created_at.localeCompare(a.created_at)).map(alertView);
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
	const target = await readHospitalItem(ctx, hospitalId);
	if (haversineKm(a, target) > a.radius_km) {
		throw new AppError(409, 'NOT_A_CANDIDATE', `${target.name} is ${Math.round(haversineKm(a, target))} km away, outside this alert's ${a.radius_km} km radius: choose one of its candidates.`, {
			field: 'hospitalId',
			hospitalId
		});
	}
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
	if (!done) throw gone(hospitalId, (await candidatesFor(ctx, a)).filter((c) => c.canTake && c.hospitalId !== hospitalId));
	await announceHospital(ctx, caller, hospitalId);
	const updated = (await getAlert(ctx, alertId))!;
	return announceAlert(ctx, { ...updated, hospital_ids: [...new Set([...updated.hospital_ids, hospitalId])] });
}

/** Arrived (the reservation becomes occupancy) or cancelled (the reservation, if any, is given back). */
export async function closeAlert(ctx: Ctx, caller: Caller, alertId: string, status: 'arrived' | 'cancelled'): Promise<AlertView> {
	const a = await readAlertItem(ctx, caller, alertId, 'write');
	// Staff of a hospital the alert went to read it, but only its crew closes it: otherwise another site's staff could end a reservation elsewhere.
	if (!sendsAmbulanceAlerts(requireActor(caller).role)) await refuse(ctx, caller, 'emergency', 'write', alertId, 'The paramedic who sent the alert marks it arrived or cancels it.');
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
	if (hospitalId) await announceHospital(ctx, caller, hospitalId);
	return announceAlert(ctx, (await getAlert(ctx, alertId))!);
}

/**
 * Staff of a hospital the alert went to accept or decline it for that hospital (a decline says
 * why); the paramedic and the other hospitals see it live. A hospital answers once: a second
 * answer for the same hospital, the same or another, is 409 ALREADY_ANSWERED naming the first
 * (nothing is written). Answers of different hospitals to one alert take turns in a lane, so
 * twenty at once are all recorded.
 */
export async function respondToAlert(ctx: Ctx, caller: Caller, alertId: string, input: AlertResponseInput): Promise<AlertView> {
	const actor = requireActor(caller);
	const { hospitalId, response } = input;
	// roles first, before the alert is read: the same 403 whether or not it exists
	if (!answersAmbulanceAlerts(actor.role)) await refuse(ctx, caller, 'emergency', 'write', alertId, 'Hospital staff answer ambulance alerts.');
	await requireStaffOf(ctx, caller, hospitalId, { resourceId: alertId, doing: ANSWERING_ALERTS });
	const a = await readAlertItem(ctx, caller, alertId, 'read');
	if (!a.hospital_ids.includes(hospitalId)) throw notFound('This alert for that hospital');
	return lanesOf(ctx).run(alertLane(alertId), async () => {
		const stamp = actorStamp(caller);
		const answer: AlertResponse = { response, by: actor.name, at: stamp.updated_at, ...(input.reason ? { reason: input.reason } : {}) };
		const outcome = await transactNamed(ctx, {
			alert: alertResponseUpdate(ctx, alertId, hospitalId, answer, stamp),
			audit: auditPut(ctx, caller, { action: `alert_${response}`, resourceType: 'ambulance_alert', resourceId: alertId, changedFields: [`responses.${hospitalId}`] })
		});
		if (!outcome.ok) {
			if (outcome.failed !== 'alert') throw unexpectedFailure(outcome);
			const current = outcome.current as Partial<AlertItem> | undefined;
			const first = current?.responses?.[hospitalId];
			if (current?.status === 'open' && first) {
				throw new AppError(409, 'ALREADY_ANSWERED', `This hospital already ${first.response === 'accept' ? 'accepted' : 'declined'} this alert (${first.by}).`, { hospitalId, ...first });
			}
			throw new AppError(409, 'INVALID_TRANSITION', `This alert is already ${(current?.status ?? 'gone').replace('_', ' ')}.`, { status: current?.status });
		}
		return announceAlert(ctx, (await getAlert(ctx, alertId))!);
	});
}
