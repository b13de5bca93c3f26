/** The one error shape every JSON error of MedTrack has. */
export type ErrorBody = {
	error: { code: ErrorCode; message: string; details?: unknown };
};

export type ErrorCode =
	| 'VALIDATION_FAILED'
	| 'INVALID_JSON'
	| 'UNAUTHENTICATED'
	| 'FORBIDDEN'
	| 'NOT_FOUND'
	| 'VERSION_CONFLICT'
	| 'ALREADY_EXISTS'
	| 'INVALID_TRANSITION'
	| 'SLOT_TAKEN'
	| 'TOO_MANY_REQUESTS'
	| 'PAYLOAD_TOO_LARGE'
	| 'UNSUPPORTED_MEDIA_TYPE'
	| 'INVALID_CREDENTIALS'
	| 'ACCOUNT_DISABLED'
	| 'INVALID_TOKEN'
	| 'CSRF'
	| 'SERVICE_UNAVAILABLE'
	| 'DATABASE_UNAVAILABLE'
	| 'RECORD_LOCKED'
	| 'RECORD_OPEN'
	| 'PATIENT_BUSY'
	| 'DOCTOR_OFF_DUTY'
	| 'INVALID_CURSOR'
	| 'ALLERGY_WARNING'
	| 'INSUFFICIENT_STOCK'
	| 'MEDICINE_MISMATCH'
	| 'BLOOD_GROUP_MISMATCH'
	| 'INCOMPATIBLE_BLOOD'
	| 'RESOURCES_GONE'
	| 'NO_VENTILATOR_AVAILABLE'
	| 'PATIENT_ON_VENTILATOR'
	| 'ALREADY_ACKNOWLEDGED'
	| 'ALREADY_ANSWERED'
	| 'NOT_A_CANDIDATE'
	| 'URI_TOO_LONG'
	| 'HEADERS_TOO_LARGE'
	| 'INTERNAL';

/** Details of a 409 VERSION_CONFLICT: what the client needs to show who won. */
export type VersionConflictDetails = {
	resourceType: string;
	id: string;
	yourVersion: number;
	currentVersion: number | null;
	updatedBy: string | null;
	updatedAt: string | null;
};
