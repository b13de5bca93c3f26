import { RESOURCE_KINDS, type HospitalView, type Needs, type ResourceKind } from '$lib/shared/hospitals';
import type { EmergencyCreate } from '$lib/shared/emergencies';

/**
 * The raise-an-emergency form's values and the request they make: a critical emergency may
 * reserve ICU beds, ventilators and general beds of its hospital (typed as text in the form).
 * Pure, so the integration test posts exactly what the page posts.
 */
export type EmergencyForm = {
	hospitalId: string;
	type: EmergencyCreate['type'];
	location: string;
	severity: EmergencyCreate['severity'];
	departments: string[];
	/** What is typed per resource. A `type=number` input bound with `bind:value` hands over a number (or null) at run time, so every read goes through `String(…)`/`Number(…)`. */
	reserve: Record<ResourceKind, string>;
};

export const emptyReserve = (): EmergencyForm['reserve'] => ({ icu_beds: '0', ventilators: '0', general_beds: '0' });

/** The counts asked for, only for a critical emergency and only those above zero. */
export function reserveOf(f: Pick<EmergencyForm, 'severity' | 'reserve'>): Needs {
	if (f.severity !== 'critical') return {};
	return Object.fromEntries(RESOURCE_KINDS.map((k) => [k, Number(f.reserve[k] ?? 0)]).filter(([, n]) => Number.isInteger(n) && (n as number) > 0));
}

export function emergencyRequest(f: EmergencyForm): EmergencyCreate {
	const reserve = reserveOf(f);
	return {
		hospitalId: f.hospitalId,
		type: f.type,
		location: f.location.trim(),
		severity: f.severity,
		departments: f.departments,
		...(Object.keys(reserve).length ? { reserve } : {})
	};
}

/** Counts the form refuses before sending: not a whole number of 0 or more. */
export function reserveProblems(f: Pick<EmergencyForm, 'severity' | 'reserve'>): Partial<Record<`reserve.${ResourceKind}`, string>> {
	const out: Partial<Record<`reserve.${ResourceKind}`, string>> = {};
	if (f.severity !== 'critical') return out;
	for (const k of RESOURCE_KINDS) {
		const raw = String(f.reserve[k] ?? '').trim();
		const n = Number(raw);
		if (raw !== '' && (!Number.isInteger(n) || n < 0)) out[`reserve.${k}`] = 'Enter a whole number, 0 or more.';
	}
	return out;
}

/**
 * The hint beside each count: what the hospital has free now (live), and a warning when more is
 * asked. Only a warning: the live count may lag, and the hospital's row decides (409 RESOURCES_GONE).
 */
export function reserveHint(f: Pick<EmergencyForm, 'reserve'>, k: ResourceKind, h: HospitalView | undefined): string | undefined {
	if (!h) return undefined;
	const free = h.resources[k].available;
	const asked = Number(f.reserve[k] ?? 0);
	return Number.isInteger(asked) && asked > free ? `Only ${free} free now: the hospital will refuse ${asked}.` : `${free} free now`;
}
