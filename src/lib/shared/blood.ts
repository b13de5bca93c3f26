import { z } from 'zod';
import { BLOOD_GROUPS, type BloodGroup } from './roles';
import { bloodGroup, id, isoDate, version } from './schemas';
import { lineText } from './text';

/**
 * The blood bank's rules as data: components and their shelf life, unit statuses and the
 * moves between them, and which donor groups a recipient may receive. Shared by the server
 * (which enforces them) and the browser (which explains them).
 */
export { BLOOD_GROUPS, type BloodGroup };

export const BLOOD_COMPONENTS = ['whole_blood', 'red_cells', 'platelets', 'plasma'] as const;
export type BloodComponent = (typeof BLOOD_COMPONENTS)[number];

/** Shelf life from collection, in days (whole blood and red cells in CPDA-1/SAGM, platelets at 22 °C, frozen plasma). */
export const SHELF_LIFE_DAYS: Record<BloodComponent, number> = {
	whole_blood: 35,
	red_cells: 42,
	platelets: 5,
	plasma: 365
};

export const COMPONENT_LABEL: Record<BloodComponent, string> = {
	whole_blood: 'Whole blood',
	red_cells: 'Red cells',
	platelets: 'Platelets',
	plasma: 'Plasma'
};

/** The threshold of a group × component nobody has set yet. */
export const DEFAULT_THRESHOLD = 4;
/** A donor may be asked again this many days after their last donation. */
export const DONATION_INTERVAL_DAYS = 90;
/** However many donation requests go out, a donor is asked at most once this many days. */
export const DONOR_ASK_WINDOW_DAYS = 7;
/** At most this many units in one issue: they, the counter and the audit entry fit one transaction. */
export const MAX_ISSUE = 20;

export const UNIT_STATUSES = ['available', 'reserved', 'issued', 'quarantined', 'discarded', 'expired'] as const;
export type BloodUnitStatus = (typeof UNIT_STATUSES)[number];

/**
 * Status moves an administrator may make on one unit (issuing by group goes through
 * `POST /api/blood-bank/issues`, expiry through the worker). Only `available` units count
 * as stock.
 */
export const UNIT_TRANSITIONS: Record<BloodUnitStatus, readonly BloodUnitStatus[]> = {
	available: ['reserved', 'issued', 'quarantined', 'discarded'],
	reserved: ['available', 'issued', 'discarded'],
	quarantined: ['available', 'discarded'],
	issued: [],
	discarded: [],
	expired: []
};

export const stockKey = (group: BloodGroup, component: BloodComponent) => `${group}#${component}`;

/** Expiry from collection: collection time plus the component's shelf life. */
export function expiryOf(component: BloodComponent, collectedAt: string): string {
	return new Date(Date.parse(collectedAt) + SHELF_LIFE_DAYS[component] * 86_400_000).toISOString();
}

/**
 * Recipient ← donor groups, best match first (identical group first, O- last).
 *
 * Red cells and whole blood follow the red-cell rule: the donor's cells must carry no ABO
 * antigen the recipient lacks (O gives to all, AB takes from all), and an Rh- recipient
 * takes Rh- cells only. Platelets use the same table here (a simplification: platelets are
 * often given across ABO in practice; matching them as red cells is the safe side).
 *
 * Plasma is the reverse, because plasma carries antibodies, not antigens: AB plasma goes to
 * everyone, O plasma only to O; Rh does not matter for plasma.
 */
export const RED_CELL_DONORS: Record<BloodGroup, readonly BloodGroup[]> = {
	'O-': ['O-'],
	'O+': ['O+', 'O-'],
	'A-': ['A-', 'O-'],
	'A+': ['A+', 'A-', 'O+', 'O-'],
	'B-': ['B-', 'O-'],
	'B+': ['B+', 'B-', 'O+', 'O-'],
	'AB-': ['AB-', 'A-', 'B-', 'O-'],
	'AB+': ['AB+', 'AB-', 'A+', 'A-', 'B+', 'B-', 'O+', 'O-']
};

export const PLASMA_DONORS: Record<BloodGroup, readonly BloodGroup[]> = {
	'O-': ['O-', 'O+', 'A-', 'A+', 'B-', 'B+', 'AB-', 'AB+'],
	'O+': ['O+', 'O-', 'A+', 'A-', 'B+', 'B-', 'AB+', 'AB-'],
	'A-': ['A-', 'A+', 'AB-', 'AB+'],
	'A+': ['A+', 'A-', 'AB+', 'AB-'],
	'B-': ['B-', 'B+', 'AB-', 'AB+'],
	'B+': ['B+', 'B-', 'AB+', 'AB-'],
	'AB-': ['AB-', 'AB+'],
	'AB+': ['AB+', 'AB-']
};

/** The donor groups a recipient of `group` may receive `component` from, best first. */
export function compatibleDonors(group: BloodGroup, component: BloodComponent): readonly BloodGroup[] {
	return component === 'plasma' ? PLASMA_DONORS[group] : RED_CELL_DONORS[group];
}

/** Details of a 409 INSUFFICIENT_STOCK. */
export type InsufficientStockDetails = {
	bloodGroup: BloodGroup;
	component: BloodComponent;
	requested: number;
	available: number;
	/** Other groups this recipient may receive that have stock of the component, best first. */
	compatible: { bloodGroup: BloodGroup; available: number }[];
};

export type StockRow = {
	bloodGroup: BloodGroup;
	component: BloodComponent;
	available: number;
	threshold: number;
	/** available < threshold */
	critical: boolean;
	/** 0 for a group × component never stocked nor configured. */
	version: number;
	updatedAt?: string;
	updatedBy?: string;
};

export type BloodUnitView = {
	id: string;
	version: number;
	bagNumber: string;
	bloodGroup: BloodGroup;
	component: BloodComponent;
	status: BloodUnitStatus;
	collectedAt: string;
	expiresAt: string;
	donorId?: string;
	issuedTo?: string;
	createdAt: string;
	updatedAt: string;
	updatedBy: string;
};

export type DonorView = {
	patientId: string;
	version: number;
	name: string;
	bloodGroup: BloodGroup;
	lastDonationOn?: string;
	consent: boolean;
	/** Could donate today under the 90-day rule. */
	eligibleFrom: string;
};

export type DonationRequestView = {
	id: string;
	version: number;
	bloodGroup: BloodGroup;
	component: BloodComponent;
	note?: string;
	status: 'open' | 'closed';
	notified: number;
	donations: number;
	createdAt: string;
	createdBy: string;
};

export const bloodComponent = z.enum(BLOOD_COMPONENTS, { message: `must be one of ${BLOOD_COMPONENTS.join(', ')}` });
export const bagNumber = z
	.string({ message: 'must be the bag number printed on the label' })
	.trim()
	.regex(/^[A-Za-z0-9-]{3,32}$/, 'must be 3–32 letters, digits or hyphens, as printed on the bag');

/** An instant as ISO 8601 with a zone (Z or an offset). */
const instant = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be a date and time such as 2026-12-01T08:30:00Z')
	.refine((s) => !Number.isNaN(Date.parse(s)) && isoDate.safeParse(s.slice(0, 10)).success, 'is not a real date and time')
	.transform((s) => new Date(s).toISOString());

const collectedAt = instant.refine((s) => Date.parse(s) <= Date.now() + 5 * 60_000, 'cannot be in the future');

export const unitCreateSchema = z
	.object({
		bloodGroup,
		component: bloodComponent,
		bagNumber,
		collectedAt,
		expiresAt: instant.optional(),
		donorId: id.optional()
	})
	.strict()
	.refine((u) => !u.expiresAt || u.expiresAt > u.collectedAt, { path: ['expiresAt'], message: 'must be after the collection time' });
export type UnitCreate = z.infer<typeof unitCreateSchema>;

export const issueSchema = z
	.object({
		bloodGroup,
		component: bloodComponent,
		count: z.number({ message: 'must be a number of units' }).int('must be a whole number of units').min(1, 'must be at least 1').max(MAX_ISSUE, `must be at most ${MAX_ISSUE}`),
		patientId: id.optional(),
		reason: lineText(300, 3, 'say what the units are for, in at least 3 characters')
	})
	.strict();
export type IssueInput = z.infer<typeof issueSchema>;

export const thresholdSchema = z
	.object({ version: z.number({ message: 'must be the version number you read' }).int().min(0), threshold: z.number().int().min(0).max(1000) })
	.strict();

export const unitStatusSchema = z
	.object({ version, status: z.enum(UNIT_STATUSES), reason: lineText(300, 3).optional() })
	.strict();

export const stockParams = z.object({ bloodGroup, component: bloodComponent }).strict();

export const donorSignupSchema = z
	.object({
		version: z.number().int().min(0).optional(),
		bloodGroup,
		lastDonationOn: isoDate.refine((d) => d <= new Date().toISOString().slice(0, 10), 'cannot be in the future').optional(),
		consent: z.boolean({ message: 'must be true or false' })
	})
	.strict();

export const donationRequestSchema = z
	.object({ bloodGroup, component: bloodComponent, note: lineText(300).optional() })
	.strict();

/**
 * A verified donation: its units, one bag per component taken, and the group the blood bank
 * typed (the donor's own entry is what they told us; a bag is labelled only with a confirmed group).
 */
export const donationSchema = z
	.object({
		donorId: id,
		bloodGroup,
		requestId: id.optional(),
		collectedAt,
		units: z
			.array(z.object({ component: bloodComponent, bagNumber }).strict())
			.min(1, 'must list at least one bag')
			.max(4, 'a donation gives at most four bags')
	})
	.strict()
	.refine((d) => new Set(d.units.map((u) => u.bagNumber.toUpperCase())).size === d.units.length, { path: ['units'], message: 'bag numbers must differ' });

/** The first day a donor who last gave on `lastDonationOn` may give again. */
export function eligibleFrom(lastDonationOn: string | undefined): string {
	if (!lastDonationOn) return '0000-01-01';
	const d = new Date(`${lastDonationOn}T00:00:00Z`);
	d.setUTCDate(d.getUTCDate() + DONATION_INTERVAL_DAYS);
	return d.toISOString().slice(0, 10);
}
