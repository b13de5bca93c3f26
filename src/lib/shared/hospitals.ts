/**
 * Hospitals (sites), their critical resources, pandemic hold-back and ambulance alerts
 * (SPEC §3 "Hospital resources and emergencies"): the shapes, the input schemas and the pure
 * rules (great-circle distance, what a severity may take), shared by the server and the browser.
 */
import { z } from 'zod';
import { id, version } from './schemas';
import { lineText } from './text';

export const RESOURCE_KINDS = ['general_beds', 'icu_beds', 'ventilators'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
export const RESOURCE_LABEL: Record<ResourceKind, string> = {
	general_beds: 'General beds',
	icu_beds: 'ICU beds',
	ventilators: 'Ventilators'
};
const ONE: Record<ResourceKind, string> = { general_beds: 'general bed', icu_beds: 'ICU bed', ventilators: 'ventilator' };
/** "1 ICU bed, 2 ventilators": what an alert needs or an emergency holds, in words. */
export const needsText = (needs: Partial<Record<ResourceKind, number>>): string =>
	RESOURCE_KINDS.filter((k) => (needs[k] ?? 0) > 0)
		.map((k) => `${needs[k]} ${ONE[k]}${needs[k] === 1 ? '' : 's'}`)
		.join(', ');
/** Resources pandemic mode holds back for critical cases. */
export const HELD_BACK_KINDS: readonly ResourceKind[] = ['icu_beds', 'ventilators'];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One resource's counters: total = available + reserved + occupied + outOfService. */
export type ResourceCounts = {
	total: number;
	available: number;
	reserved: number;
	occupied: number;
	outOfService: number;
	/** What pandemic mode keeps for critical cases (ceil(share × total)); 0 when off. */
	heldBack: number;
};

export type HospitalView = {
	id: string;
	version: number;
	name: string;
	latitude: number;
	longitude: number;
	departments: string[];
	pandemic: { enabled: boolean; heldBackShare: number };
	resources: Record<ResourceKind, ResourceCounts>;
	updatedAt: string;
	updatedBy: string;
};

/** ceil(share × total) for the held-back kinds while pandemic mode is on. */
export function heldBackOf(kind: ResourceKind, total: number, pandemic: { enabled: boolean; heldBackShare: number }): number {
	if (!pandemic.enabled || !HELD_BACK_KINDS.includes(kind)) return 0;
	// round away float noise first (0.3 × 10 = 3.0000000000000004)
	return Math.min(total, Math.ceil(Math.round(pandemic.heldBackShare * total * 1e9) / 1e9));
}

/**
 * Where an arriving ambulance's reservation goes: beds become occupied; ventilators are tracked
 * one by one, so their reservation is handed back to available and the nurse puts a named device
 * on the patient (a device move), which keeps the counters equal to the devices.
 */
export function arrivalBucket(kind: ResourceKind): 'occupied' | 'available' {
	return kind === 'ventilators' ? 'available' : 'occupied';
}

/** What a case of this severity may take now: critical cases may use what is held back. */
export function takeable(counts: Pick<ResourceCounts, 'available' | 'heldBack'>, severity: Severity): number {
	return severity === 'critical' ? counts.available : Math.max(0, counts.available - counts.heldBack);
}

const EARTH_RADIUS_KM = 6371.0088;
const rad = (deg: number) => (deg * Math.PI) / 180;
/** Great-circle distance in km (haversine, mean Earth radius). */
export function haversineKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
	const dLat = rad(b.latitude - a.latitude);
	const dLon = rad(b.longitude - a.longitude);
	const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
	return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

// ——— input ———

const latitude = z.number({ message: 'must be a latitude in degrees' }).min(-90).max(90);
const longitude = z.number({ message: 'must be a longitude in degrees' }).min(-180).max(180);
const count = z.number({ message: 'must be a whole number' }).int().min(0).max(100_000);
export const departmentName = lineText(60, 2);
/** Ventilators a new hospital starts with (created as devices V-001… in the same transaction). */
export const MAX_VENTILATORS_AT_CREATION = 90;

export const hospitalCreateSchema = z
	.object({
		name: lineText(120, 2),
		latitude,
		longitude,
		departments: z.array(departmentName).max(50).default([]),
		resources: z
			.object({
				general_beds: z.object({ total: count }).strict(),
				icu_beds: z.object({ total: count }).strict(),
				// Each ventilator becomes a device row in the hospital's creating transaction (100 items at most); more are registered one by one.
				ventilators: z.object({ total: z.number({ message: 'must be a whole number' }).int().min(0).max(MAX_VENTILATORS_AT_CREATION, `must be at most ${MAX_VENTILATORS_AT_CREATION}; register more devices one by one`) }).strict()
			})
			.strict()
	})
	.strict();
export type HospitalCreate = z.infer<typeof hospitalCreateSchema>;

export const BED_ACTIONS = ['occupy', 'free', 'out_of_service', 'return_to_service'] as const;
export type BedAction = (typeof BED_ACTIONS)[number];
export const bedChangeSchema = z
	.object({
		version,
		resource: z.enum(RESOURCE_KINDS),
		action: z.enum(BED_ACTIONS),
		count: z.number().int().min(1).max(1000).default(1)
	})
	.strict();
export type BedChange = z.infer<typeof bedChangeSchema>;

export const pandemicSchema = z
	.object({ version, enabled: z.boolean(), heldBackShare: z.number().min(0).max(0.9) })
	.strict();
export type PandemicChange = z.infer<typeof pandemicSchema>;

// ——— ambulance alerts ———

export const ALERT_STATUSES = ['open', 'en_route', 'arrived', 'cancelled'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export type Needs = Partial<Record<ResourceKind, number>>;

const need = z.number().int().min(0).max(20).optional();
export const alertCreateSchema = z
	.object({
		condition: lineText(200, 2),
		severity: z.enum(SEVERITIES),
		needs: z
			.object({ icu_beds: need, ventilators: need, general_beds: need })
			.strict()
			.refine((n) => Object.values(n).some((v) => (v ?? 0) > 0), 'name at least one resource needed'),
		latitude,
		longitude,
		radiusKm: z.number().positive().max(500).default(50)
	})
	.strict();
export type AlertCreate = z.infer<typeof alertCreateSchema>;

export const selectionSchema = z.object({ hospitalId: id }).strict();
export const alertStatusSchema = z.object({ status: z.enum(['arrived', 'cancelled']) }).strict();
/** A decline says why in a few words ("no cath lab tonight"); an accept may not carry a reason. */
export const alertResponseSchema = z
	.object({ hospitalId: id, response: z.enum(['accept', 'decline']), reason: lineText(200, 2).optional() })
	.strict()
	.refine((r) => r.response === 'accept' || !!r.reason, { message: 'say in a few words why the hospital declines', path: ['reason'] })
	.refine((r) => r.response === 'decline' || r.reason === undefined, { message: 'only a decline carries a reason', path: ['reason'] });
export type AlertResponseInput = z.infer<typeof alertResponseSchema>;

export type Candidate = {
	hospitalId: string;
	name: string;
	distanceKm: number;
	/** What this alert's severity may take now, per resource. */
	available: Record<ResourceKind, number>;
	/** Whether it can take the patient now; false for a hospital the alert went to that has since run out. */
	canTake: boolean;
};

export type AlertResponse = { response: 'accept' | 'decline'; by: string; at: string; reason?: string };

/**
 * `ambulance:candidates`, to the paramedic's `user:<id>` while the alert is open: a hospital's
 * counts changed, so here is the whole refreshed list (a hospital that can now take the patient
 * appears; one that ran out stays, `canTake: false`). Keep the one with the latest `at`.
 */
export type AlertCandidatesEvent = { alertId: string; candidates: Candidate[]; at: string };

export type AlertView = {
	id: string;
	status: AlertStatus;
	condition: string;
	severity: Severity;
	needs: Needs;
	latitude: number;
	longitude: number;
	radiusKm: number;
	paramedicId: string;
	paramedicName: string;
	hospitalId?: string;
	/** The hospitals the alert went to, and their answers. */
	hospitalIds: string[];
	responses: Record<string, AlertResponse>;
	createdAt: string;
	updatedAt: string;
};

/** `RESOURCES_GONE` details: the hospitals that can still take the patient. */
export type ResourcesGoneDetails = { hospitalId: string; candidates: Candidate[] };
