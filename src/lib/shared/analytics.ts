/** The dashboards' API shapes and query rules (GET /api/analytics/*), shared by the server and the pages. */
import { z } from 'zod';
import type { AppointmentStatus, AppointmentView } from './appointments';
import { STATUSES } from './appointments';
import type { StockRow } from './blood';
import type { ResourceKind } from './hospitals';
import { id, isoDate } from './schemas';

export const MAX_DASHBOARD_DAYS = 31;

export const adminDashboardQuery = z
	.object({
		days: z
			.string()
			.regex(/^\d{1,3}$/, 'must be a whole number of days')
			.transform(Number)
			.pipe(z.number().int().min(1, 'must be at least 1').max(MAX_DASHBOARD_DAYS, `must be at most ${MAX_DASHBOARD_DAYS}`))
			.optional()
	})
	.strict();

export const doctorDashboardParams = z.object({ id }).strict();

export const drillDownQuery = z
	.object({
		status: z.enum(STATUSES),
		date: isoDate,
		cursor: z.string().min(1).max(2000).optional()
	})
	.strict();

export type DayFigures = { date: string; total: number; byStatus: Record<AppointmentStatus, number> };
export type SymptomTrend = { category: string; label: string; thisWeek: number; lastWeek: number; changePercent: number | null; rising: boolean; sentence: string };
export type RevenueDay = { date: string; amount: number; amountCents: number };
export type OccupancyRow = {
	hospitalId: string;
	name: string;
	resources: { kind: ResourceKind; total: number; occupied: number; reserved: number; available: number; outOfService: number; percent: number }[];
};

export type AdminDashboard = {
	generatedAt: string;
	days: DayFigures[];
	symptoms: SymptomTrend[];
	revenue: RevenueDay[];
	/** ISO 4217 code the revenue is billed in. */
	currency: string;
	bloodStock: StockRow[];
	occupancy: OccupancyRow[];
	/** Completed visits on the days shown: their count and average consultation length. */
	consultations: { completed: number; averageMinutes: number | null };
	week: { thisWeekFrom: string; lastWeekFrom: string };
};

export type DoctorDashboard = {
	generatedAt: string;
	doctorId: string;
	today: { date: string; total: number; waiting: number; completed: number };
	patientsServed: { allTime: number; thisWeek: number };
	averageConsultationMinutes: number | null;
	nextPatient: null | { appointmentId: string; patientName: string; start: string; status: AppointmentStatus; priority: string; waiting: boolean };
	week: { date: string; total: number; completed: number }[];
};

export type DrillDownPage = { items: AppointmentView[]; nextCursor: string | null };

/** `analytics:updated`, to `role:admin` and the doctor's `user:<id>`: a figure moved; refetch the dashboard. */
export type AnalyticsEvent = { at: string };
