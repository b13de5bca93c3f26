export const ROLES = [
	'patient',
	'doctor',
	'nurse',
	'front_desk',
	'pharmacist',
	'paramedic',
	'admin',
	'super_admin'
] as const;
export type Role = (typeof ROLES)[number];
export const STAFF_ROLES = ROLES.filter((r) => r !== 'patient');

export const ROLE_LABEL: Record<Role, string> = {
	patient: 'Patient',
	doctor: 'Doctor',
	nurse: 'Nurse',
	front_desk: 'Front desk',
	pharmacist: 'Pharmacist',
	paramedic: 'Paramedic',
	admin: 'Administrator',
	super_admin: 'Super administrator'
};

/** Where each role lands after logging in. */
export const ROLE_HOME: Record<Role, string> = {
	patient: '/patient',
	doctor: '/doctor',
	nurse: '/nurse',
	front_desk: '/front-desk',
	pharmacist: '/pharmacy',
	paramedic: '/paramedic',
	admin: '/admin',
	super_admin: '/super-admin'
};

export const BLOOD_GROUPS = ['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'] as const;
export type BloodGroup = (typeof BLOOD_GROUPS)[number];
