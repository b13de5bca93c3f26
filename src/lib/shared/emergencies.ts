/** Internal emergencies (code blue, fire, mass casualty…): shapes and input, shared by server and browser. */
import { z } from 'zod';
import { id } from './schemas';
import { lineText } from './text';
import { departmentName, SEVERITIES, type Needs, type Severity } from './hospitals';

export const EMERGENCY_TYPES = ['code_blue', 'fire', 'mass_casualty', 'security', 'evacuation', 'other'] as const;
export type EmergencyType = (typeof EMERGENCY_TYPES)[number];
export const EMERGENCY_LABEL: Record<EmergencyType, string> = {
	code_blue: 'Code blue',
	fire: 'Fire',
	mass_casualty: 'Mass casualty',
	security: 'Security',
	evacuation: 'Evacuation',
	other: 'Emergency'
};

export const emergencyCreateSchema = z
	.object({
		hospitalId: id,
		type: z.enum(EMERGENCY_TYPES),
		location: lineText(120, 2),
		severity: z.enum(SEVERITIES),
		departments: z.array(departmentName).min(1).max(20),
		/** A critical emergency may hold resources of its hospital until it is resolved. */
		reserve: z
			.object({ icu_beds: z.number().int().min(0).max(50).optional(), ventilators: z.number().int().min(0).max(50).optional(), general_beds: z.number().int().min(0).max(200).optional() })
			.strict()
			.optional()
	})
	.strict()
	.refine((e) => !e.reserve || e.severity === 'critical', { message: 'only a critical emergency reserves resources', path: ['reserve'] });
export type EmergencyCreate = z.infer<typeof emergencyCreateSchema>;

export type EmergencyAck = { department: string; by: string; byName: string; at: string; responseSeconds: number };
export type TimelineEntry = { at: string; what: string; by: string };

export type EmergencyView = {
	id: string;
	hospitalId: string;
	type: EmergencyType;
	location: string;
	severity: Severity;
	departments: string[];
	status: 'active' | 'resolved';
	raisedBy: string;
	raisedByName: string;
	createdAt: string;
	acknowledgements: EmergencyAck[];
	timeline: TimelineEntry[];
	/** What the emergency holds of its hospital's resources while active (released on resolution). */
	reserved: Needs;
	resolvedAt?: string;
};
