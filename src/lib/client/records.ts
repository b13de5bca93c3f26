import { api } from './api';
import { VersionedForm, type Snapshot } from './versioned-form.svelte';
import type { UserView } from './types';
import { patientUpdateSchema, personName, phone, type PatientView } from '$lib/shared/schemas';
import type { Role } from '$lib/shared/roles';
import { z } from 'zod';
import { room } from '$lib/shared/rooms';

/**
 * The versioned records the UI edits, each as a VersionedForm: where it lives in the API,
 * which room announces its versions, and the labels of its fields.
 */

function issuesByField(error: z.ZodError): Record<string, string> {
	const out: Record<string, string> = {};
	for (const i of error.issues) {
		const key = String(i.path[0] ?? '');
		if (key && !(key in out)) out[key] = i.message;
	}
	return out;
}

// ——— Patient demographics ———

export type PatientValues = {
	name: string;
	phone: string;
	dateOfBirth: string;
	bloodGroup: string;
	gender: string;
	address: string;
	emergencyContactName: string;
	emergencyContactPhone: string;
};

export const GENDERS = [
	{ value: 'female', label: 'Female' },
	{ value: 'male', label: 'Male' },
	{ value: 'other', label: 'Other' },
	{ value: 'unspecified', label: 'Prefer not to say' }
];

const patientSnapshot = (p: PatientView): Snapshot<PatientValues> => ({
	version: p.version,
	updatedBy: p.updatedBy,
	updatedAt: p.updatedAt,
	values: {
		name: p.name ?? '',
		phone: p.phone ?? '',
		dateOfBirth: p.dateOfBirth ?? '',
		bloodGroup: p.bloodGroup ?? '',
		gender: p.gender ?? '',
		address: p.address ?? '',
		emergencyContactName: p.emergencyContactName ?? '',
		emergencyContactPhone: p.emergencyContactPhone ?? ''
	}
});

export function patientForm(id: string): VersionedForm<PatientValues> {
	return new VersionedForm<PatientValues>({
		room: room.record('patient', id),
		fields: {
			name: { label: 'Full name' },
			phone: { label: 'Phone' },
			dateOfBirth: { label: 'Date of birth', stored: 'date_of_birth' },
			bloodGroup: { label: 'Blood group', stored: 'blood_group' },
			gender: { label: 'Gender' },
			address: { label: 'Address' },
			emergencyContactName: { label: 'Emergency contact', stored: 'emergency_contact_name' },
			emergencyContactPhone: { label: 'Emergency contact phone', stored: 'emergency_contact_phone' }
		},
		load: async () => patientSnapshot((await api.get<{ patient: PatientView }>(`/api/patients/${id}`)).patient),
		save: async (version, changes) =>
			patientSnapshot((await api.patch<{ patient: PatientView }>(`/api/patients/${id}`, { version, ...changes })).patient),
		validate: (changes) => {
			const r = patientUpdateSchema.safeParse({ version: 1, ...changes });
			return r.success ? {} : issuesByField(r.error);
		}
	});
}

// ——— Your own account (/api/me) ———

export type AccountValues = { name: string; phone: string; notifyEmail: boolean };

const accountSchema = z.object({ name: personName, phone, notifyEmail: z.boolean() }).partial();

const accountSnapshot = (u: UserView): Snapshot<AccountValues> => ({
	version: u.version,
	updatedBy: u.updatedBy,
	updatedAt: u.updatedAt,
	values: { name: u.name, phone: u.phone ?? '', notifyEmail: u.notifyEmail !== false }
});

export function accountForm(userId: string, afterSave?: () => void): VersionedForm<AccountValues> {
	return new VersionedForm<AccountValues>({
		room: room.record('user', userId),
		fields: {
			name: { label: 'Name' },
			phone: { label: 'Phone' },
			notifyEmail: { label: 'E-mail notifications', stored: 'notify_email' }
		},
		load: async () => accountSnapshot((await api.get<{ user: UserView }>('/api/me')).user),
		save: async (version, changes) =>
			accountSnapshot((await api.patch<{ user: UserView }>('/api/me', { version, ...changes })).user),
		validate: (changes) => {
			const r = accountSchema.safeParse(changes);
			return r.success ? {} : issuesByField(r.error);
		},
		afterSave
	});
}

// ——— An account as an administrator manages it ———

export type ManagedUserValues = { name: string; department: string; role: string; active: boolean; /** '' for none. */ hospitalId: string };

const managedSchema = z
	.object({ name: personName, department: z.string().trim().min(1, 'cannot be empty once set').max(80) })
	.partial();

const managedSnapshot = (u: UserView): Snapshot<ManagedUserValues> => ({
	version: u.version,
	updatedBy: u.updatedBy,
	updatedAt: u.updatedAt,
	values: { name: u.name, department: u.department ?? '', role: u.role, active: u.active, hospitalId: u.hospitalId ?? '' }
});

export function managedUserForm(id: string, afterSave?: (user: ManagedUserValues) => void): VersionedForm<ManagedUserValues> {
	return new VersionedForm<ManagedUserValues>({
		room: room.record('user', id),
		fields: {
			name: { label: 'Name' },
			department: { label: 'Department' },
			role: { label: 'Role' },
			active: { label: 'Active' },
			hospitalId: { label: 'Hospital' }
		},
		load: async () => managedSnapshot((await api.get<{ user: UserView }>(`/api/admin/users/${id}`)).user),
		save: async (version, changes) =>
			managedSnapshot(
				(await api.patch<{ user: UserView }>(`/api/admin/users/${id}`, { version, ...changes, ...(changes.hospitalId === '' ? { hospitalId: null } : {}) })).user
			),
		validate: (changes) => {
			const r = managedSchema.safeParse({ name: changes.name, department: changes.department });
			return r.success ? {} : issuesByField(r.error);
		},
		afterSave: (saved) => afterSave?.(saved.values)
	});
}

/** Roles an account can move between (accounts with a patient or doctor record cannot). */
export const MOVABLE_ROLES: Role[] = ['nurse', 'front_desk', 'pharmacist', 'paramedic', 'admin'];
