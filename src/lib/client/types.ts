import type { Role } from '$lib/shared/roles';

/** An account as `/api/me` and `/api/admin/users` return it. */
export type UserView = {
	id: string;
	email: string;
	name: string;
	role: Role;
	patientId?: string;
	doctorId?: string;
	version: number;
	active: boolean;
	phone?: string;
	department?: string;
	lastLogin?: string;
	notifyEmail?: boolean;
	createdAt: string;
	updatedAt: string;
	updatedBy: string;
};

/** One entry of `/api/audit-logs`. */
export type AuditEntry = {
	log_id: string;
	user: string;
	user_id: string;
	role: string;
	action: string;
	resource_type: string;
	resource_id: string;
	timestamp: string;
	ip_hash: string;
	request_id: string;
	outcome: 'success' | 'denied' | 'failure';
	changed_fields: string[];
};

export type Page<T> = { items: T[]; nextCursor: string | null };
