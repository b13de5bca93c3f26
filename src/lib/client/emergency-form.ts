import { RESOURCE_KINDS, RESOURCE_LABEL, type HospitalView, type Needs, type ResourceKind } from '$lib/shared/hospitals';
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
	reserve: Record<ResourceKind, string>;
};

export const emptyReserve = (): Record<ResourceKind, string> => ({ icu_beds: '0', ventilators: '0', general_beds: '0' });

/** The counts asked for, only for a critical emergency and only those above zero. */
export function reserveOf(f: Pick<EmergencyForm, 'severity' | 'reserve'>): Needs {
	if (f.severity !== 'critical') return {};
	return Object.fromEntries(RESOURCE_KINDS.map((k) => [k, Number(f.reserve[k])]).filter(([, n]) => Number.isInteger(n) && (n as number) > 0));
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

/** What the form says before sending: a count that is not a whole number, or more than the hospital has free now. */
export function reserveProblems(f: Pick<EmergencyForm, 'severity' | 'reserve'>, h: HospitalView | undefined): Partial<Record<`reserve.${ResourceKind}`, string>> {
	const out: Partial<Record<`reserve.${ResourceKind}`, string>> = {};
	if (f.severity !== 'critical') return out;
	for (const k of RESOURCE_KINDS) {
		const raw = f.reserve[k].trim();
		const n = Number(raw);
		if (raw !== '' && (!Number.isInteger(n) || n < 0)) out[`reserve.${k}`] = 'Enter a whole number, 0 or more.';
		else if (h && n > h.resources[k].available) out[`reserve.${k}`] = `Only ${h.resources[k].available} ${RESOURCE_LABEL[k].toLowerCase()} free now.`;
	}
	return out;
}
