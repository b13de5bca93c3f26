import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { actorStamp } from '../db/versioned';
import { auditPut } from './audit';
import { alertCandidateAdd, alertsInStatus, listHospitals, type AlertItem, type HospitalItem } from '../repositories/hospitals';
import {
	RESOURCE_KINDS,
	haversineKm,
	takeable,
	type AlertCandidatesEvent,
	type AlertView,
	type Candidate,
	type Needs,
	type ResourceKind,
	type Severity
} from '$lib/shared/hospitals';
import { room } from '$lib/shared/rooms';

/**
 * Which hospitals can take an ambulance's patient, and keeping that true while the alert is open
 * (SPEC §3, "late capacity"): after any change of a hospital's counts, the open alerts (one Query
 * of the `open` partition of `status-created-index`, never a Scan) are looked at against that one
 * hospital. A hospital within an alert's radius that can now take the patient and was not a
 * candidate joins it (a conditional update, audited), so its staff see the alert appear; the
 * paramedic gets the refreshed list (`ambulance:candidates`), in which a candidate that ran out
 * stays, marked `canTake: false`.
 */
export const needList = (needs: Needs): [ResourceKind, number][] =>
	RESOURCE_KINDS.flatMap((k) => ((needs[k] ?? 0) > 0 ? [[k, needs[k]!] as [ResourceKind, number]] : []));

/** What a case of this severity may take at a hospital now, per resource. */
export const availableFor = (h: HospitalItem, severity: Severity) =>
	Object.fromEntries(RESOURCE_KINDS.map((k) => [k, takeable({ available: h.resources[k].available, heldBack: h.resources[k].held_back }, severity)])) as Candidate['available'];

export const canTake = (h: HospitalItem, needs: Needs, severity: Severity) => {
	const avail = availableFor(h, severity);
	return needList(needs).every(([k, n]) => avail[k] >= n);
};

type Where = Pick<AlertItem, 'latitude' | 'longitude' | 'radius_km' | 'needs' | 'severity'> & { hospital_ids?: string[] };

/**
 * Hospitals within the radius, nearest first: those that can take the patient now, and those the
 * alert already went to that cannot any more (`canTake: false`, so the paramedic sees why).
 */
export function candidatesAmong(hospitals: HospitalItem[], a: Where): Candidate[] {
	const sent = new Set(a.hospital_ids ?? []);
	return hospitals
		.map((h) => ({ h, d: haversineKm(a, h), ok: canTake(h, a.needs, a.severity) }))
		.filter(({ h, d, ok }) => d <= a.radius_km && (ok || sent.has(h.id)))
		.sort((x, y) => x.d - y.d)
		.map(({ h, d, ok }) => ({ hospitalId: h.id, name: h.name, distanceKm: Math.round(d * 100) / 100, available: availableFor(h, a.severity), canTake: ok }));
}

export async function candidatesFor(ctx: Ctx, a: Where): Promise<Candidate[]> {
	return candidatesAmong(await listHospitals(ctx), a);
}

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

/** The alert to its paramedic and to the staff room of every hospital it went to. */
export function announceAlert(ctx: Ctx, a: AlertItem): AlertView {
	const view = alertView(a);
	ctx.bus.emit(room.user(a.paramedic_id), 'ambulance:updated', view);
	for (const h of a.hospital_ids) ctx.bus.emit(room.hospitalAlerts(h), 'ambulance:updated', view);
	return view;
}

/**
 * After a committed change of hospital `h`'s counts (or its creation): every open alert within
 * whose radius it lies and that it can now serve, or that it was already a candidate of, is
 * brought up to date. Returns how many alerts it touched (tests and logs).
 */
export async function reconsiderOpenAlerts(ctx: Ctx, caller: Caller, h: HospitalItem): Promise<number> {
	const open = await alertsInStatus(ctx, 'open');
	let hospitals: HospitalItem[] | undefined;
	let touched = 0;
	for (const a of open) {
		if (haversineKm(a, h) > a.radius_km) continue;
		const sent = a.hospital_ids.includes(h.id);
		if (!sent && !canTake(h, a.needs, a.severity)) continue;
		let alert = a;
		if (!sent) {
			const stamp = actorStamp(caller);
			const outcome = await transactNamed(ctx, {
				alert: alertCandidateAdd(ctx, a.id, h.id, stamp),
				audit: auditPut(ctx, caller, { action: 'alert_candidate_added', resourceType: 'ambulance_alert', resourceId: a.id, changedFields: ['hospital_ids'] })
			});
			if (!outcome.ok) {
				// closed meanwhile, or another instance added it first: nothing for us to say
				if (outcome.failed === 'alert') continue;
				throw unexpectedFailure(outcome);
			}
			alert = { ...a, ...stamp, version: a.version + 1, hospital_ids: [...a.hospital_ids, h.id] };
			announceAlert(ctx, alert);
		}
		hospitals ??= await listHospitals(ctx);
		// the row we were given is newer than an index read may be
		const fresh = [...hospitals.filter((x) => x.id !== h.id), h];
		const event: AlertCandidatesEvent = { alertId: a.id, candidates: candidatesAmong(fresh, alert), at: new Date().toISOString() };
		ctx.bus.emit(room.user(a.paramedic_id), 'ambulance:candidates', event);
		touched++;
	}
	return touched;
}
