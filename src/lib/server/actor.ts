import type { Role } from '$lib/shared/roles';

/** The signed-in person a request or socket acts for. */
export type Actor = {
	id: string;
	email: string;
	name: string;
	role: Role;
	/** The patient record of a patient user. */
	patientId?: string;
	/** The doctor record of a doctor user. */
	doctorId?: string;
	/** The hospital a staff member works at (a nurse changes beds and ventilators of this one only). */
	hospitalId?: string;
};

/** Who is asking, and from where: what every service call and audit entry needs. */
export type Caller = {
	actor: Actor | null;
	requestId: string;
	ip: string;
	sessionId?: string;
};

export const systemCaller = (requestId = 'system'): Caller => ({
	actor: null,
	requestId,
	ip: '127.0.0.1'
});
