import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { notFound } from '../errors';
import { refuse, requireActor } from '../auth/guard';
import { decodeCursor, encodeCursor, resumeQuery, startKeySchema } from '../db/cursor';
import { readStock } from './blood-bank';
import { listHospitals } from './hospitals';
import { appointmentView } from './appointments';
import { getDoctor } from '../repositories/doctors';
import { appointmentsByStatusPage, appointmentsOfDoctor, type AppointmentItem } from '../repositories/appointments';
import {
	ANALYTICS_SHARDS,
	TOTAL_SK,
	categoryCounter,
	contribution,
	mergeDeltas,
	readAggregates,
	scanTable,
	scopeAll,
	scopeDoctor,
	servedGuardKey,
	statusCounter,
	weekMonday,
	writeAnalyticsRows,
	revenueDelta,
	type Counters,
	type Delta
} from '../repositories/analytics';
import { BILLING_CURRENCY } from '$lib/shared/billing';
import { PRIORITY_RANK, STATUSES, type AppointmentStatus } from '$lib/shared/appointments';
import { CATEGORY_IDS, CATEGORY_LABEL, changePercent, isRising, trendSentence } from '$lib/shared/symptom-categories';
import { RESOURCE_KINDS } from '$lib/shared/hospitals';
import { readsDoctorAnalytics, readsHospitalAnalytics } from '$lib/shared/policy';
import type { AdminDashboard, DoctorDashboard, DrillDownPage, SymptomTrend } from '$lib/shared/analytics';
import { addDays, dateIn, zonedToUtc } from '$lib/shared/time';

/**
 * The dashboards (issue #11 B). Every figure comes from the daily aggregates that the writes
 * keep in their own transactions (repositories/analytics.ts), read for the days shown only, so
 * a dashboard costs the same with 10 appointments of history or 10 million: the admin's is one
 * BatchGet of the aggregate rows, the blood stock rows and one query of the hospital rows; the
 * doctor's is one BatchGet and one query of today's appointments (for the next patient).
 */

const lastDays = (today: string, n: number) => Array.from({ length: n }, (_, i) => addDays(today, i - n + 1));
const num = (c: Counters | undefined, k: string) => c?.[k] ?? 0;
const minutes = (ms: number, n: number) => (n > 0 ? Math.round(ms / n / 6_000) / 10 : null);

async function assertHospitalAnalytics(ctx: Ctx, caller: Caller) {
	if (readsHospitalAnalytics(requireActor(caller).role)) return;
	await refuse(ctx, caller, 'appointment', 'read', 'analytics', 'The hospital dashboard is for administrators.');
}

export async function adminDashboard(ctx: Ctx, caller: Caller, opts: { days?: number } = {}): Promise<AdminDashboard> {
	await assertHospitalAnalytics(ctx, caller);
	const days = opts.days ?? 7;
	const today = dateIn(ctx.config.timezone);
	const shown = lastDays(today, days);
	// Symptom trends compare the last 7 days with the 7 before, whatever the days shown.
	const trendDays = lastDays(today, 14);
	const dates = [...new Set([...trendDays, ...shown])];
	const [rows, bloodStock, hospitals] = await Promise.all([readAggregates(ctx, scopeAll, dates), readStock(ctx, caller), listHospitals(ctx, caller)]);

	const thisWeek = trendDays.slice(7);
	const lastWeek = trendDays.slice(0, 7);
	const sum = (ds: string[], k: string) => ds.reduce((s, d) => s + num(rows.get(d), k), 0);
	const symptoms: SymptomTrend[] = CATEGORY_IDS.map((category) => {
		const t = { category, thisWeek: sum(thisWeek, categoryCounter(category)), lastWeek: sum(lastWeek, categoryCounter(category)) };
		const cp = changePercent(t.thisWeek, t.lastWeek);
		return { ...t, label: CATEGORY_LABEL[category] ?? category, changePercent: cp, rising: isRising({ thisWeek: t.thisWeek, changePercent: cp }), sentence: trendSentence({ ...t, changePercent: cp }) };
	})
		.filter((t) => t.thisWeek || t.lastWeek)
		.sort((x, y) => y.thisWeek - x.thisWeek || y.lastWeek - x.lastWeek || x.category.localeCompare(y.category));

	return {
		generatedAt: new Date().toISOString(),
		days: shown.map((date) => {
			const r = rows.get(date);
			return {
				date,
				total: num(r, 'total'),
				byStatus: Object.fromEntries(STATUSES.map((s) => [s, num(r, statusCounter(s))])) as Record<AppointmentStatus, number>
			};
		}),
		symptoms,
		revenue: shown.map((date) => {
			const cents = num(rows.get(date), 'revenue_cents');
			return { date, amountCents: cents, amount: cents / 100 };
		}),
		currency: BILLING_CURRENCY,
		bloodStock,
		occupancy: hospitals.map((h) => ({
			hospitalId: h.id,
			name: h.name,
			resources: RESOURCE_KINDS.map((kind) => {
				const c = h.resources[kind];
				const inService = c.total - c.outOfService;
				return {
					kind,
					total: c.total,
					occupied: c.occupied,
					reserved: c.reserved,
					available: c.available,
					outOfService: c.outOfService,
					percent: inService > 0 ? Math.round(((c.occupied + c.reserved) / inService) * 100) : 0
				};
			})
		})),
		consultations: { completed: sum(shown, statusCounter('COMPLETED')), averageMinutes: minutes(sum(shown, 'consult_ms'), sum(shown, 'consult_n')) },
		week: { thisWeekFrom: thisWeek[0]!, lastWeekFrom: lastWeek[0]! }
	};
}

export async function doctorDashboard(ctx: Ctx, caller: Caller, doctorId: string): Promise<DoctorDashboard> {
	const actor = requireActor(caller);
	if (!readsDoctorAnalytics(actor, doctorId)) {
		await refuse(ctx, caller, 'appointment', 'read', doctorId, 'This dashboard belongs to another doctor.');
	}
	const tz = ctx.config.timezone;
	const today = dateIn(tz);
	const monday = weekMonday(today);
	const week = Array.from({ length: 7 }, (_, i) => addDays(monday, i));
	const [doctor, rows, todays] = await Promise.all([
		getDoctor(ctx, doctorId),
		readAggregates(ctx, scopeDoctor(doctorId), [...week, TOTAL_SK]),
		appointmentsOfDoctor(ctx, doctorId, zonedToUtc(today, '00:00', tz).toISOString(), zonedToUtc(addDays(today, 1), '00:00', tz).toISOString())
	]);
	if (!doctor) throw notFound('This doctor');
	const t = rows.get(today);
	const total = rows.get(TOTAL_SK);
	return {
		generatedAt: new Date().toISOString(),
		doctorId,
		today: {
			date: today,
			// The day's list: everything booked for today that was not cancelled.
			total: num(t, 'total') - num(t, statusCounter('CANCELLED')),
			waiting: num(t, statusCounter('CHECKED_IN')),
			completed: num(t, statusCounter('COMPLETED'))
		},
		patientsServed: { allTime: num(total, 'patients_served'), thisWeek: week.reduce((s, d) => s + num(rows.get(d), 'first_week'), 0) },
		averageConsultationMinutes: minutes(num(total, 'consult_ms'), num(total, 'consult_n')),
		nextPatient: nextPatient(todays, tz),
		week: week.map((date) => ({ date, total: num(rows.get(date), 'total') - num(rows.get(date), statusCounter('CANCELLED')), completed: num(rows.get(date), statusCounter('COMPLETED')) }))
	};
}

/** The first checked-in patient in queue order (priority, then arrival); else the next booked one still ahead today. */
function nextPatient(todays: AppointmentItem[], tz: string): DoctorDashboard['nextPatient'] {
	const waiting = todays
		.filter((a) => a.status === 'CHECKED_IN')
		.sort((x, y) => PRIORITY_RANK[x.priority] - PRIORITY_RANK[y.priority] || (x.checked_in_at ?? '').localeCompare(y.checked_in_at ?? ''));
	const now = new Date().toISOString();
	const a =
		waiting[0] ??
		todays.filter((x) => ['PENDING', 'CONFIRMED', 'RESCHEDULED'].includes(x.status) && x.end > now).sort((x, y) => x.start.localeCompare(y.start))[0];
	if (!a) return null;
	const view = appointmentView(a, tz, { clinical: false });
	return { appointmentId: a.id, patientName: a.patient_name, start: view.start, status: a.status, priority: a.priority, waiting: a.status === 'CHECKED_IN' };
}

const PAGE = 20;

/** One page of a day's appointments in a status (the dashboard's drill-down), by status-date-index; names and times only. */
export async function drillDown(ctx: Ctx, caller: Caller, q: { status: AppointmentStatus; date: string; cursor?: string }): Promise<DrillDownPage> {
	await assertHospitalAnalytics(ctx, caller);
	const scope = `analytics-drill:${q.status}:${q.date}`;
	const startKey = q.cursor ? decodeCursor(ctx.cursorKey, scope, q.cursor, startKeySchema) : undefined;
	const page = await resumeQuery(startKey, () => appointmentsByStatusPage(ctx, q.status, q.date, PAGE, startKey));
	return {
		items: page.items.map((a) => appointmentView(a, ctx.config.timezone, { clinical: false })),
		nextCursor: page.lastKey ? encodeCursor(ctx.cursorKey, scope, page.lastKey) : null
	};
}

// ——— The rebuild (maintenance job: `npm run worker -- --once analytics-rebuild`) ———

export type RebuildReport = { appointments: number; invoices: number; rows: number; guards: number; deleted: number };

/**
 * Recounts every aggregate from the raw appointments and invoices (Scans: a maintenance job,
 * never a request path) and writes them so the table holds exactly the recount: the sums on
 * shard 0, every other row and stale guard deleted. Idempotent; run it on a quiet system
 * (after a restore, or to adopt appointments written before the aggregates existed): a write
 * that commits during the scan may be missed, and running it again fixes that.
 */
export async function rebuildAnalytics(ctx: Ctx): Promise<RebuildReport> {
	const [appointments, invoices, existing] = await Promise.all([
		scanTable<AppointmentItem>(ctx, 'appointments'),
		scanTable<{ date: string; total_cents: number }>(ctx, 'invoices', { ProjectionExpression: '#d, total_cents', ExpressionAttributeNames: { '#d': 'date' } }),
		scanTable<{ pk: string; sk: string }>(ctx, 'analytics_daily', { ProjectionExpression: 'pk, sk' })
	]);
	const deltas: Delta[] = [];
	const guards = new Map<string, { pk: string; sk: string; at: string }>();
	// Earliest completed visit first, so a guard's week counts on the patient's first visit of that week.
	const completed = appointments.filter((a) => a.status === 'COMPLETED').sort((x, y) => x.date.localeCompare(y.date));
	for (const a of appointments) if (a.id && a.date && a.doctor_id) deltas.push(...contribution(a));
	for (const a of completed) {
		for (const [key, counter] of [
			[servedGuardKey(a.doctor_id, a.patient_id), { scope: scopeDoctor(a.doctor_id), sk: TOTAL_SK, counters: { patients_served: 1 } }],
			[servedGuardKey(a.doctor_id, a.patient_id, weekMonday(a.date)), { scope: scopeDoctor(a.doctor_id), sk: a.date, counters: { first_week: 1 } }]
		] as const) {
			const id = `${key.pk}\u0000${key.sk}`;
			if (guards.has(id)) continue;
			guards.set(id, { ...key, at: a.date });
			deltas.push(counter);
		}
	}
	for (const i of invoices) if (i.date && typeof i.total_cents === 'number') deltas.push(revenueDelta(i.date, i.total_cents));

	const rows = mergeDeltas(deltas).map((d) => ({ pk: `${d.scope}#0`, sk: d.sk, ...d.counters }));
	const guardRows = [...guards.values()].map((g) => ({ ...g, kind: 'served_guard' }));
	const keep = new Set([...rows, ...guardRows].map((r) => `${r.pk}\u0000${r.sk}`));
	const stale = existing.filter((r) => !keep.has(`${r.pk}\u0000${r.sk}`));
	await writeAnalyticsRows(ctx, [...rows, ...guardRows], stale);
	ctx.log.info('analytics rebuilt', { appointments: appointments.length, rows: rows.length, guards: guardRows.length, deleted: stale.length, shards: ANALYTICS_SHARDS });
	return { appointments: appointments.length, invoices: invoices.length, rows: rows.length, guards: guardRows.length, deleted: stale.length };
}
