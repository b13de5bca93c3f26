import crypto from 'node:crypto';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { AppError, badRequest, notFound } from '../errors';
import { auditPut } from './audit';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { z } from 'zod';
import { createPut, stampNew, versionedUpdate } from '../db/versioned';
import { transactNamed, unexpectedFailure } from '../db/transaction';
import { authorize, refuse, requireActor } from '../auth/guard';
import { hashPassword } from '../auth/passwords';
import { forgetUserSessions, invalidateUserSessions } from '../auth/sessions';
import { emailGuardPut, getUser, getUsers, listUsersByRole, searchUserTerm, userIndexWrites, type UserItem } from '../repositories/users';
import { getHospital } from '../repositories/hospitals';
import { patientIndexWrites } from '../repositories/patients';
import { DEFAULT_WEEKLY } from '../repositories/doctors';
import { ROLES, type Role } from '$lib/shared/roles';
import { planNameQuery } from '$lib/shared/search';
import type { SearchFilter } from '../db/search-index';
import { tiesToHospital } from '$lib/shared/policy';
import { publicUser } from './auth';
import type { UserView } from '$lib/shared/views';

/** A user as admins see them: never the password hash. */
export type { UserView };

export function userView(u: UserItem): UserView {
	return {
		...publicUser(u),
		version: u.version,
		active: u.active,
		phone: u.phone,
		department: u.department,
		lastLogin: u.last_login,
		notifyEmail: u.notify_email !== false,
		createdAt: u.created_at,
		updatedAt: u.updated_at,
		updatedBy: u.updated_by_name
	};
}

export type NewUser = {
	name: string;
	email: string;
	role: Exclude<Role, 'super_admin'> | 'super_admin';
	password: string;
	phone?: string;
	department?: string;
	/** The hospital the staff member works at (must exist). */
	hospitalId?: string;
	specialization?: string;
	licenceNumber?: string;
	dateOfBirth?: string;
	bloodGroup?: string;
};

/**
 * Creates an account with everything its role needs (a doctor row for doctors, a patient
 * record for patients) in one transaction. Only the CLI creates super admins.
 */
export async function createUser(
	ctx: Ctx,
	caller: Caller,
	input: NewUser,
	opts: { allowSuperAdmin?: boolean } = {}
): Promise<UserView> {
	if (!opts.allowSuperAdmin) {
		await authorize(ctx, caller, 'users', 'write');
		if (input.role === 'super_admin') {
			await refuse(ctx, caller, 'users', 'write', undefined, 'Super administrators are created with the create-admin command only.');
		}
	}
	if (input.role === 'doctor' && (!input.specialization || !input.licenceNumber)) {
		throw badRequest('A doctor needs a specialization and a licence number.', [
			...(input.specialization ? [] : [{ field: 'specialization', message: 'is required for doctors' }]),
			...(input.licenceNumber ? [] : [{ field: 'licenceNumber', message: 'is required for doctors' }])
		]);
	}
	if (input.role === 'patient' && (!input.phone || !input.dateOfBirth || !input.bloodGroup)) {
		throw badRequest('A patient needs a phone number, date of birth and blood group.', [
			...(input.phone ? [] : [{ field: 'phone', message: 'is required for patients' }]),
			...(input.dateOfBirth ? [] : [{ field: 'dateOfBirth', message: 'is required for patients' }]),
			...(input.bloodGroup ? [] : [{ field: 'bloodGroup', message: 'is required for patients' }])
		]);
	}
	if (input.hospitalId !== undefined) await requireHospital(ctx, input.role, input.hospitalId);
	const id = crypto.randomUUID();
	const patientId = input.role === 'patient' ? crypto.randomUUID() : undefined;
	const doctorId = input.role === 'doctor' ? crypto.randomUUID() : undefined;
	const user = stampNew(caller, {
		id,
		email: input.email,
		name: input.name,
		name_lower: input.name.toLowerCase(),
		role: input.role,
		phone: input.phone,
		department: input.department,
		hospital_id: input.hospitalId,
		active: true,
		password_hash: await hashPassword(input.password, ctx.config.argon2MemoryKib),
		patient_id: patientId,
		doctor_id: doctorId,
		notify_email: true
	});
	const patient = patientId
		? stampNew(caller, {
				id: patientId,
				user_id: id,
				name: input.name,
				email: input.email,
				phone: input.phone!,
				date_of_birth: input.dateOfBirth!,
				blood_group: input.bloodGroup!
			})
		: undefined;
	const outcome = await transactNamed(ctx, {
		user: createPut(ctx, 'users', 'id', user),
		email: emailGuardPut(ctx, input.email, id),
		userSearch: userIndexWrites(ctx, undefined, user),
		patient: patient ? createPut(ctx, 'patients', 'id', patient) : undefined,
		patientSearch: patient ? patientIndexWrites(ctx, undefined, patient) : undefined,
		doctor: doctorId
			? createPut(
					ctx,
					'doctors',
					'id',
					stampNew(caller, {
						id: doctorId,
						user_id: id,
						name: input.name,
						name_lower: input.name.toLowerCase(),
						specialization: input.specialization,
						licence_number: input.licenceNumber,
						status: 'available',
						slot_minutes: 15,
						weekly: DEFAULT_WEEKLY
					})
				)
			: undefined,
		audit: auditPut(ctx, caller, {
			action: 'create',
			resourceType: 'user',
			resourceId: id,
			changedFields: Object.keys(user).filter((k) => (user as Record<string, unknown>)[k] !== undefined)
		})
	});
	if (!outcome.ok) {
		if (outcome.failed === 'email') {
			throw new AppError(409, 'ALREADY_EXISTS', 'An account with this e-mail address already exists.', [
				{ field: 'email', message: 'is already registered' }
			]);
		}
		throw unexpectedFailure(outcome);
	}
	return userView(user as UserItem);
}

export type UserChange = { version: number; role?: Role; active?: boolean; name?: string; department?: string; /** null: no hospital. */ hospitalId?: string | null };

/** A staff member (never a patient) is tied only to a hospital that exists (400 naming the field otherwise). */
async function requireHospital(ctx: Ctx, role: Role, hospitalId: string): Promise<void> {
	if (!tiesToHospital(role)) {
		throw badRequest('A patient account is not tied to a hospital: only staff work at one.', [{ field: 'hospitalId', message: 'cannot be set on a patient account' }]);
	}
	if (!(await getHospital(ctx, hospitalId))) throw badRequest('There is no hospital with this id.', [{ field: 'hospitalId', message: 'is not a hospital of this deployment' }]);
}

// Roles whose accounts carry no linked record, so an admin can move an account among them.
const PLAIN_STAFF: Role[] = ['nurse', 'front_desk', 'pharmacist', 'paramedic', 'admin'];

export async function updateUser(ctx: Ctx, caller: Caller, id: string, change: UserChange): Promise<UserView> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'users', 'write', { id });
	const target = await getUser(ctx, id);
	if (!target) throw notFound('This user');
	if (target.role === 'super_admin' && actor.role !== 'super_admin') {
		await refuse(ctx, caller, 'users', 'write', id, 'Only a super administrator can change a super administrator.');
	}
	if (change.role === 'super_admin' && target.role !== 'super_admin') {
		await refuse(ctx, caller, 'users', 'write', id, 'Super administrators are created with the create-admin command only.');
	}
	if (change.role && change.role !== target.role && !(PLAIN_STAFF.includes(change.role) && PLAIN_STAFF.includes(target.role))) {
		throw badRequest(
			`A ${target.role.replace('_', ' ')} account cannot become ${change.role.replace('_', ' ')}: create a new account instead.`,
			[{ field: 'role', message: `cannot change from ${target.role} to ${change.role}` }]
		);
	}
	if (change.active === false && id === actor.id) {
		throw badRequest('You cannot deactivate your own account.', [{ field: 'active', message: 'cannot deactivate yourself' }]);
	}
	const set: Record<string, unknown> = {};
	if (change.role !== undefined && change.role !== target.role) set.role = change.role;
	if (change.active !== undefined && change.active !== target.active) set.active = change.active;
	if (change.name !== undefined && change.name !== target.name) {
		set.name = change.name;
		set.name_lower = change.name.toLowerCase();
	}
	if (change.department !== undefined && change.department !== target.department) set.department = change.department;
	const remove: string[] = [];
	if (change.hospitalId === null && target.hospital_id) remove.push('hospital_id');
	else if (change.hospitalId && change.hospitalId !== target.hospital_id) {
		await requireHospital(ctx, change.role ?? target.role, change.hospitalId);
		set.hospital_id = change.hospitalId;
	}
	const action = set.active === false ? 'deactivate' : set.active === true ? 'activate' : 'update';
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'users',
		pkName: 'id',
		id,
		expectedVersion: change.version,
		read: target,
		set,
		remove,
		resourceType: 'user',
		audit: { action },
		extra: { search: userIndexWrites(ctx, target, { ...target, ...set }) }
	});
	forgetUserSessions(ctx, id);
	if (set.active === false) await invalidateUserSessions(ctx, id, 'deactivated');
	// A new role is a new set of permissions: the old sessions (and their sockets' rooms) end.
	else if (set.role) await invalidateUserSessions(ctx, id, 'logout');
	const updated = { ...target, ...set, ...stamp } as UserItem;
	if (remove.length) delete updated.hospital_id;
	return userView(updated);
}

export async function listUsers(
	ctx: Ctx,
	caller: Caller,
	q: { q?: string; role?: Role; cursor?: string; limit: number }
): Promise<{ items: UserView[]; nextCursor: string | null }> {
	await authorize(ctx, caller, 'users', 'read');
	if (q.q !== undefined) return searchUsers(ctx, { ...q, q: q.q });
	// The cursor names the role being paged and where in it we stopped.
	type State = { role: Role; key?: Record<string, unknown> };
	const scope = `users:${q.role ?? '*'}`;
	let state: State = q.cursor
		? decodeCursor(ctx.cursorKey, scope, q.cursor, z.object({ role: z.enum(ROLES), key: startKeySchema.optional() }).strict())
		: { role: q.role ?? ROLES[0] };
	const items: UserView[] = [];
	for (;;) {
		const { role, key } = state;
		const page = await resumeQuery(key, () => listUsersByRole(ctx, role, q.limit - items.length, key));
		items.push(...page.items.map(userView));
		const next = page.lastKey
			? { role: state.role, key: page.lastKey }
			: !q.role && ROLES.indexOf(state.role) < ROLES.length - 1
				? { role: ROLES[ROLES.indexOf(state.role) + 1]!, key: undefined }
				: undefined;
		if (!next) return { items, nextCursor: null };
		if (items.length >= q.limit) {
			return { items, nextCursor: encodeCursor(ctx.cursorKey, scope, next) };
		}
		state = next;
	}
}

/** One account, for the admin screen that edits it. */
export async function readUser(ctx: Ctx, caller: Caller, id: string): Promise<UserView> {
	await authorize(ctx, caller, 'users', 'read', { id });
	const u = await getUser(ctx, id);
	if (!u) throw notFound('This user');
	return userView(u);
}

export async function getMe(ctx: Ctx, caller: Caller): Promise<UserView> {
	const actor = requireActor(caller);
	const u = await getUser(ctx, actor.id);
	if (!u) throw notFound('Your account');
	return userView(u);
}

export async function updateMe(
	ctx: Ctx,
	caller: Caller,
	change: { version: number; name?: string; phone?: string; notifyEmail?: boolean }
): Promise<UserView> {
	const actor = requireActor(caller);
	const u = await getUser(ctx, actor.id);
	if (!u) throw notFound('Your account');
	const set: Record<string, unknown> = {};
	if (change.name !== undefined) {
		set.name = change.name;
		set.name_lower = change.name.toLowerCase();
	}
	if (change.phone !== undefined) set.phone = change.phone;
	if (change.notifyEmail !== undefined) set.notify_email = change.notifyEmail;
	const stamp = await versionedUpdate(ctx, caller, {
		table: 'users',
		pkName: 'id',
		id: actor.id,
		expectedVersion: change.version,
		read: u,
		set,
		resourceType: 'user',
		extra: { search: userIndexWrites(ctx, u, { ...u, ...set }) }
	});
	forgetUserSessions(ctx, actor.id);
	return userView({ ...u, ...set, ...stamp } as UserItem);
}


/**
 * Accounts by name or e-mail, in name order, through the same search index as patients: any
 * word of the name or of the address's local part, by prefix, accents and case ignored
 * (`mar` finds María Gómez and anne.marshall@…); a query with an `@` is an address prefix.
 * `role` narrows it. One Query per page on one term, the rest filtered on carried attributes.
 */
async function searchUsers(ctx: Ctx, q: { q: string; role?: Role; cursor?: string; limit: number }): Promise<{ items: UserView[]; nextCursor: string | null }> {
	const text = q.q.trim().toLowerCase();
	const at = text.indexOf('@');
	const plan = planNameQuery(at >= 0 ? text.slice(0, at) : text);
	if (!plan) {
		throw badRequest('Type part of a name or an e-mail address.', [{ field: 'q', message: 'needs at least one letter or digit (before the @ of an address)' }]);
	}
	const filter: SearchFilter = {
		...(plan.also.length ? { nameWords: plan.also } : {}),
		...(at >= 0 ? { beginsWith: { email: text } } : {}),
		...(q.role ? { equals: { role: q.role } } : {})
	};
	const term = `n:${plan.term}`;
	const scope = `users:search:${JSON.stringify([term, filter])}`;
	const after = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, z.object({ after: z.string().min(1).max(1000) }).strict()).after : undefined;
	const page = await searchUserTerm(ctx, { term, filter, limit: q.limit, after });
	const found = await getUsers(ctx, page.ids);
	return { items: found.map(userView), nextCursor: page.next ? encodeCursor(ctx.cursorKey, scope, { after: page.next }) : null };
}
