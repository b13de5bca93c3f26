import { z } from 'zod';
import { BLOOD_GROUPS, ROLES } from './roles';

/** zod schemas shared by the API and the browser forms. */
export const email = z
	.string()
	.trim()
	.toLowerCase()
	.max(254, 'must be at most 254 characters')
	.email('must be a valid e-mail address');

export const personName = z
	.string()
	.trim()
	.min(2, 'must be at least 2 characters')
	.max(120, 'must be at most 120 characters')
	.regex(/^[^<>{}\u0000-\u001f]+$/, 'contains characters that are not allowed in a name');

/** E.164 or a local number of 7–15 digits with spaces, dashes or brackets. */
export const phone = z
	.string()
	.trim()
	.regex(/^\+?[0-9 ()-]{7,20}$/, 'must be a phone number, e.g. +15551234567')
	.refine((p) => p.replace(/\D/g, '').length >= 7 && p.replace(/\D/g, '').length <= 15, {
		message: 'must have 7 to 15 digits'
	});

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

export const patientFields = {
	name: personName,
	phone,
	dateOfBirth,
	bloodGroup,
	gender: gender.optional(),
	address: z.string().trim().max(300, 'must be at most 300 characters').optional(),
	emergencyContactName: personName.optional(),
	emergencyContactPhone: phone.optional()
};

export const patientUpdateSchema = z
	.object({
		version,
		name: patientFields.name.optional(),
		phone: patientFields.phone.optional(),
		dateOfBirth: patientFields.dateOfBirth.optional(),
		bloodGroup: patientFields.bloodGroup.optional(),
		gender: patientFields.gender,
		address: patientFields.address,
		emergencyContactName: patientFields.emergencyContactName,
		emergencyContactPhone: patientFields.emergencyContactPhone
	})
	.strict();
export type PatientUpdate = z.infer<typeof patientUpdateSchema>;

/** A patient record as the API returns it. */
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
