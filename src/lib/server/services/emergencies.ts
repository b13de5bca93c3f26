import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, notFound } from '../errors';
import { authorize, refuse, requireActor } from '../auth/guard';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { actorStamp, stampNew } from '../db/versioned';
import { auditPut } from './audit';
import { announceHospital, readHospitalItem } from './hospitals';
import { isStaffOfHospital, requireStaffOf } from './hospital-staff';
import { getHospital, releaseUpdate, reserveUpdate } from '../repositories/hospitals';
import { RESOURCE_KINDS, needsText, type Needs, type ResourceKind, type ResourcesGoneDetails } from '$lib/shared/hospitals';
import { getUser } from '../repositories/users';
import { ackPut, acksOf, activeEmergencies, emergencyPut, emergencyTimelineUpdate, getEmergency, type AckItem, type EmergencyItem } from '../repositories/emergencies';
import { acknowledgesEmergencies, isAdmin, raisesEmergencies } from '$lib/shared/policy';
import { deptSlug, room } from '$lib/shared/rooms';
import { EMERGENCY_LABEL, type EmergencyCreate, type EmergencyView } from '$lib/shared/emergencies';

/**
 * Internal emergencies (SPEC §3): raised by staff for departments of a hospital, live to each
 * department's room at that hospital (`dept:<hospitalId>:<slug>`) and the raiser's own room, acknowledged once per department
 * (a guard row per department, in the emergency's transaction), with response times, and resolved
 * into an incident record that keeps its timeline.
 */
const needList = (needs: Needs): [ResourceKind, number][] =>
	RESOURCE_KINDS.flatMap((k) => ((needs[k] ?? 0) > 0 ? [[k, needs[k]!] as [ResourceKind, number]] : []));
const describe = (needs: [ResourceKind, number][]) => needsText(Object.fromEntries(needs));

function view(e: EmergencyItem, acks: AckItem[]): EmergencyView {
	return {
		id: e.id,
		hospitalId: e.hospital_id,
		type: e.type,
		location: e.location,
		severity: e.severity,
		departments: e.departments,
		status: e.status,
		raisedBy: e.raised_by,
		raisedByName: e.raised_by_name,
		createdAt: e.created_at,
		acknowledgements: acks
			.sort((a, b) => a.at.localeCompare(b.at))
			.map((a) => ({ department: a.department_name, by: a.by, byName: a.by_name, at: a.at, responseSeconds: a.response_seconds })),
		timeline: e.timeline,
		reserved: e.reserved ?? {},
		...(e.resolved_at ? { resolvedAt: e.resolved_at } : {})
	};
}

async function fullView(ctx: Ctx, id: string): Promise<EmergencyView> {
	const [e, acks] = await Promise.all([getEmergency(ctx, id), acksOf(ctx, id)]);
	if (!e) throw notFound('This emergency');
	return view(e, acks);
}

/**
 * To each affected department's room at the emergency's hospital, the raiser and administrators (`role:admin`: they follow
 * every site's). Never to `hospital:<id>`: paramedics and every site's staff are in that room,
 * and an internal emergency is for its hospital's departments.
 */
function announce(ctx: Ctx, v: EmergencyView, event: 'emergency:raised' | 'emergency:acknowledged' | 'emergency:resolved') {
	for (const d of v.departments) ctx.bus.emit(room.dept(v.hospitalId, d), event, v);
	ctx.bus.emit(room.user(v.raisedBy), event, v);
	ctx.bus.emit(room.role('admin'), event, v);
}

/**
 * Joining `dept:<hospitalId>:<slug>`: an existing hospital; administrators any department of it;
 * anyone else only their own department at the hospital they are staff of (`requireStaffOf`:
 * another site's room is refused and audited, whatever the department).
 */
export async function joinDepartment(ctx: Ctx, caller: Caller, hospitalId: string, slug: string): Promise<void> {
	const actor = requireActor(caller);
	if (!(await getHospital(ctx, hospitalId))) throw notFound('This hospital');
	if (isAdmin(actor.role)) return;
	await requireStaffOf(ctx, caller, hospitalId, { mode: 'read', resourceId: room.dept(hospitalId, slug), doing: 'follow internal emergencies' });
	const user = await getUser(ctx, actor.id);
	if (!user?.department || deptSlug(user.department) !== slug) {
		await refuse(ctx, caller, 'emergency', 'read', room.dept(hospitalId, slug), 'You can only follow your own department’s emergencies.');
	}
}

export async function raiseEmergency(ctx: Ctx, caller: Caller, input: EmergencyCreate): Promise<EmergencyView> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'emergency', 'write');
	if (!raisesEmergencies(actor.role)) await refuse(ctx, caller, 'emergency', 'write', undefined, 'Hospital staff raise internal emergencies.');
	await readHospitalItem(ctx, input.hospitalId);
	await requireStaffOf(ctx, caller, input.hospitalId, { doing: 'raise internal emergencies' });
	const reserve = needList(input.reserve ?? {});
	const departments = [...new Map(input.departments.map((d) => [deptSlug(d), d.trim()])).values()];
	const now = new Date().toISOString();
	const item: EmergencyItem = stampNew(caller, {
		id: `em_${crypto.randomUUID()}`,
		open_key: 'active' as const,
		hospital_id: input.hospitalId,
		type: input.type,
		location: input.location,
		severity: input.severity,
		departments,
		status: 'active' as const,
		raised_by: actor.id,
		raised_by_name: actor.name,
		reserved: Object.fromEntries(reserve) as Needs,
		timeline: [
			{ at: now, what: `${EMERGENCY_LABEL[input.type]} raised at ${input.location} for ${departments.join(', ')}`, by: actor.name },
			...(reserve.length ? [{ at: now, what: `Reserved ${describe(reserve)}`, by: actor.name }] : [])
		]
	});
	const stamp = actorStamp(caller);
	const outcome = await transactNamed(ctx, {
		// critical: the hold-back is for exactly such cases, so `available >= need` is the condition
		hospital: reserve.length ? reserveUpdate(ctx, input.hospitalId, reserve, {}, {}, stamp) : undefined,
		emergency: emergencyPut(ctx, item),
		audit: auditPut(ctx, caller, { action: 'create', resourceType: 'emergency', resourceId: item.id, changedFields: reserve.map(([k]) => `reserved.${k}`) })
	});
	if (!outcome.ok) {
		if (outcome.failed === 'hospital') {
			const details: ResourcesGoneDetails = { hospitalId: input.hospitalId, candidates: [] };
			throw new AppError(409, 'RESOURCES_GONE', `The hospital does not have ${describe(reserve)} free to reserve now.`, details);
		}
		throw unexpectedFailure(outcome);
	}
	if (reserve.length) await announceHospital(ctx, caller, input.hospitalId);
	const v = view(item, []);
	announce(ctx, v, 'emergency:raised');
	return v;
}

/** Active emergencies: all for administrators, the caller's department's for other staff. */
export async function listActive(ctx: Ctx, caller: Caller): Promise<EmergencyView[]> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'emergency', 'read');
	const all = await activeEmergencies(ctx);
	let mine = all;
	if (!isAdmin(actor.role)) {
		const dept = (await getUser(ctx, actor.id))?.department;
		// their department's at the hospital they are staff of, and what they raised themselves
		const ours = (e: EmergencyItem) => !!dept && isStaffOfHospital(actor, e.hospital_id) && e.departments.some((d) => deptSlug(d) === deptSlug(dept));
		mine = all.filter((e) => ours(e) || e.raised_by === actor.id);
	}
	return Promise.all(mine.map(async (e) => view(e, await acksOf(ctx, e.id))));
}

/**
 * One emergency: for its raiser and the staff of its hospital (`requireStaffOf`; administrators
 * of any). Another site's staff are refused (403, audited); a paramedic, whose "own" emergency
 * records are their ambulance alerts, is told it does not exist.
 */
export async function readEmergency(ctx: Ctx, caller: Caller, id: string): Promise<EmergencyView> {
	const e = await getEmergency(ctx, id);
	const scope = await authorize(ctx, caller, 'emergency', 'read', { id, isOwn: (actor) => !!e && actor.id === e.raised_by, hideExistence: true });
	if (!e) throw notFound('This emergency');
	if (scope !== 'own' && e.raised_by !== requireActor(caller).id) {
		await requireStaffOf(ctx, caller, e.hospital_id, { mode: 'read', resourceId: id, doing: 'follow internal emergencies' });
	}
	return fullView(ctx, id);
}

/** The caller's department acknowledges, once; the raiser and every affected screen hear it. */
export async function acknowledge(ctx: Ctx, caller: Caller, id: string): Promise<EmergencyView> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'emergency', 'read', { id });
	const e = await getEmergency(ctx, id);
	if (!e) throw notFound('This emergency');
	const dept = (await getUser(ctx, actor.id))?.department;
	const department = dept ? e.departments.find((d) => deptSlug(d) === deptSlug(dept)) : undefined;
	if (!acknowledgesEmergencies(actor.role) || !department) {
		await refuse(ctx, caller, 'emergency', 'write', id, 'Only staff of an affected department acknowledge this emergency.');
	}
	await requireStaffOf(ctx, caller, e.hospital_id, { resourceId: id, doing: 'acknowledge emergencies' });
	if (e.status !== 'active') throw new AppError(409, 'INVALID_TRANSITION', 'This emergency is already resolved.');
	const stamp = actorStamp(caller);
	const responseSeconds = Math.max(0, Math.round((Date.parse(stamp.updated_at) - Date.parse(e.created_at)) / 100) / 10);
	const outcome = await transactNamed(ctx, {
		ack: ackPut(ctx, { emergency_id: id, department: deptSlug(department!), department_name: department!, by: actor.id, by_name: actor.name, at: stamp.updated_at, response_seconds: responseSeconds }),
		emergency: emergencyTimelineUpdate(ctx, id, { at: stamp.updated_at, what: `${department} acknowledged (${responseSeconds} s)`, by: actor.name }, stamp),
		audit: auditPut(ctx, caller, { action: 'acknowledge', resourceType: 'emergency', resourceId: id, changedFields: ['acknowledgements'] })
	});
	if (!outcome.ok) {
		if (outcome.failed === 'ack') {
			throw new AppError(409, 'ALREADY_ACKNOWLEDGED', `${department} already acknowledged this emergency${outcome.current?.by_name ? ` (${String(outcome.current.by_name)})` : ''}.`, { department });
		}
		if (outcome.failed === 'emergency') throw new AppError(409, 'INVALID_TRANSITION', 'This emergency is already resolved.');
		throw unexpectedFailure(outcome);
	}
	const v = await fullView(ctx, id);
	announce(ctx, v, 'emergency:acknowledged');
	return v;
}

/** Resolving closes the emergency; the record stays with its whole timeline. */
export async function resolveEmergency(ctx: Ctx, caller: Caller, id: string): Promise<EmergencyView> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'emergency', 'write', { id });
	if (!raisesEmergencies(actor.role)) await refuse(ctx, caller, 'emergency', 'write', id, 'Hospital staff resolve internal emergencies.');
	const e = await getEmergency(ctx, id);
	if (!e) throw notFound('This emergency');
	await requireStaffOf(ctx, caller, e.hospital_id, { resourceId: id, doing: 'resolve internal emergencies' });
	const held = needList(e.reserved ?? {});
	const stamp = actorStamp(caller);
	const outcome = await transactNamed(ctx, {
		emergency: emergencyTimelineUpdate(ctx, id, { at: stamp.updated_at, what: held.length ? `Resolved; released ${describe(held)}` : 'Resolved', by: actor.name }, stamp, true),
		hospital: held.length ? releaseUpdate(ctx, e.hospital_id, held, 'available', stamp) : undefined,
		audit: auditPut(ctx, caller, { action: 'resolve', resourceType: 'emergency', resourceId: id, changedFields: ['status'] })
	});
	if (!outcome.ok) {
		if (outcome.failed === 'emergency') {
			if (!outcome.current) throw notFound('This emergency');
			throw new AppError(409, 'INVALID_TRANSITION', 'This emergency is already resolved.');
		}
		throw unexpectedFailure(outcome);
	}
	if (held.length) await announceHospital(ctx, caller, e.hospital_id);
	const v = await fullView(ctx, id);
	announce(ctx, v, 'emergency:resolved');
	return v;
}
