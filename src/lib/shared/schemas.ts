import { z } from 'zod';
import { BLOOD_GROUPS, ROLES } from './roles';
import { lineText } from './text';
import type { Allergy } from './allergies';

/** zod schemas shared by the API and the browser forms. */
export const email = z
	.string()
	.trim()
	.toLowerCase()
	.max(254, 'must be at most 254 characters')
	.email('must be a valid e-mail address');

export const personName = lineText(120, 2).refine((n) => !/[<>{}]/.test(n), 'contains characters that are not allowed in a name');

/**
 * What a phone number looks like, for the browser's first check. The server parses every
 * number with libphonenumber-js in the hospital's region and stores E.164 (`phoneNumber`
 * in ./phone), which the browser cannot do without knowing that region.
 */
export const phone = z
	.string()
	.trim()
	.regex(/^\+?[0-9 ().-]{5,25}$/, 'must be a phone number, e.g. +15551234567')
	.refine((p) => p.replace(/\D/g, '').length >= 5 && p.replace(/\D/g, '').length <= 15, {
		message: 'must have 5 to 15 digits'
	});
export type PhoneSchema = z.ZodType<string, string>;

export const isoDate = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
	.refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), {
		message: 'is not a real calendar date'
	});

export const dateOfBirth = isoDate.refine(
	(d) => d <= new Date().toISOString().slice(0, 10) && d >= '1900-01-01',
	{ message: 'must be between 1900-01-01 and today' }
);

export const bloodGroup = z.enum(BLOOD_GROUPS, { message: `must be one of ${BLOOD_GROUPS.join(', ')}` });
export const role = z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` });
export const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id');
export const version = z.number({ message: 'must be the version number you read' }).int().positive();
export const gender = z.enum(['female', 'male', 'other', 'unspecified']);

/** A patient's demographics change; the server passes its E.164 phone schema, the browser the shape check. */
export function patientUpdateSchemaWith(phoneSchema: PhoneSchema) {
	return z
		.object({
			version,
			name: personName.optional(),
			phone: phoneSchema.optional(),
			dateOfBirth: dateOfBirth.optional(),
			bloodGroup: bloodGroup.optional(),
			gender: gender.optional(),
			address: lineText(300).optional(),
			emergencyContactName: personName.optional(),
			emergencyContactPhone: phoneSchema.optional()
		})
		.strict();
}
export const patientUpdateSchema = patientUpdateSchemaWith(phone);
export type PatientUpdate = z.infer<typeof patientUpdateSchema>;

/** A patient record as the API returns it. */
/**
 * One patient search result. Front desk and administrators get every field; doctors and nurses
 * name and date of birth (what identifies a person before emergency access); pharmacists the name.
 */
export type PatientHit = { id: string; name: string; phone?: string; bloodGroup?: string; dateOfBirth?: string };

export type PatientView = {
	id: string;
	version: number;
	name: string;
	email?: string;
	phone?: string;
	dateOfBirth?: string;
	bloodGroup?: string;
	gender?: string;
	address?: string;
	emergencyContactName?: string;
	emergencyContactPhone?: string;
	/** Present for readers of the patient's clinical data and for pharmacists. */
	allergies?: Allergy[];
	/**
	 * How the caller reaches this chart: their own, every patient (front desk, admins), name
	 * only (pharmacists), through care, or through emergency access until `expiresAt`.
	 */
	access?: { kind: 'own' | 'all' | 'name' | 'care' | 'emergency'; expiresAt?: string };
	updatedAt: string;
	updatedBy: string;
};

export const SPECIALIZATIONS = [
	'General Medicine',
	'Cardiology',
	'Pediatrics',
	'Orthopedics',
	'Dermatology',
	'Neurology',
	'Gynecology',
	'ENT',
	'Psychiatry',
	'Oncology'
] as const;
