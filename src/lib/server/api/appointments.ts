import { Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../context';
import { body, params, query, withIfMatch } from '../http/validate';
import * as appointments from '../services/appointments';
import * as doctors from '../services/doctors';
import * as records from '../services/medical-records';
import { listInvoices } from '../services/invoices';
import { id, isoDate, version, SPECIALIZATIONS } from '$lib/shared/schemas';
import { amendmentSchema, appointmentPatchSchema, bookingSchema, medicalRecordPatchSchema, vitalsSchema } from '$lib/shared/appointments';
import { dateIn } from '$lib/shared/time';

const idParams = z.object({ id });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time as HH:MM');
const availabilityBody = z
	.object({
		version,
		slotMinutes: z.number().int().min(5, 'must be at least 5').max(120, 'must be at most 120'),
		weekly: z.array(z.object({ day: z.number().int().min(1).max(7), start: hhmm, end: hhmm }).strict()).max(50)
	})
	.strict();
const doctorPatchBody = z.object({ version, status: z.enum(['available', 'busy', 'off']) }).strict();

export function appointmentRoutes(ctx: Ctx): Router {
	const r = Router();

	// The hospital's zone and today's date there: a browser in another zone shows the hospital's day.
	r.get('/clock', (_req, res) => {
		res.json({ timezone: ctx.config.timezone, today: dateIn(ctx.config.timezone), now: new Date().toISOString() });
	});

	r.get('/doctors', async (req, res) => {
		const q = query(req, z.object({ specialization: z.enum(SPECIALIZATIONS).optional(), date: isoDate.optional() }).strict());
		res.json({ doctors: await doctors.listDoctors(ctx, req.caller, q) });
	});

	r.get('/doctors/:id', async (req, res) => {
		res.json({ doctor: await doctors.readDoctor(ctx, req.caller, params(req, idParams).id) });
	});

	r.patch('/doctors/:id', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ doctor: await doctors.updateDoctorStatus(ctx, req.caller, p.id, body(req, doctorPatchBody)) });
	});

	r.put('/doctors/:id/availability', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ doctor: await doctors.updateAvailability(ctx, req.caller, p.id, body(req, availabilityBody)) });
	});

	r.get('/doctors/:id/slots', async (req, res) => {
		const p = params(req, idParams);
		const q = query(req, z.object({ date: isoDate }).strict());
		res.json({ date: q.date, timezone: ctx.config.timezone, slots: (await doctors.listFreeSlots(ctx, req.caller, p.id, q.date)).map(({ start, end }) => ({ start, end })) });
	});

	r.get('/doctors/:id/queue', async (req, res) => {
		const p = params(req, idParams);
		const q = query(req, z.object({ date: isoDate.optional() }).strict());
		res.json({ queue: await appointments.readQueue(ctx, req.caller, p.id, q.date) });
	});

	r.post('/appointments', async (req, res) => {
		res.status(201).json({ appointment: await appointments.bookAppointment(ctx, req.caller, body(req, bookingSchema)) });
	});

	r.get('/appointments', async (req, res) => {
		const q = query(req, z.object({ patientId: id.optional(), doctorId: id.optional(), date: isoDate.optional() }).strict());
		res.json({ appointments: await appointments.listAppointments(ctx, req.caller, q) });
	});

	r.get('/appointments/:id', async (req, res) => {
		res.json({ appointment: await appointments.readAppointment(ctx, req.caller, params(req, idParams).id) });
	});

	r.patch('/appointments/:id', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ appointment: await appointments.changeAppointment(ctx, req.caller, p.id, body(req, appointmentPatchSchema)) });
	});

	r.post('/appointments/:id/vitals', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ appointment: await appointments.recordVitals(ctx, req.caller, p.id, body(req, vitalsSchema)) });
	});

	r.get('/medical-records', async (req, res) => {
		const q = query(req, z.object({ patientId: id }).strict());
		res.json({ records: await records.listMedicalRecords(ctx, req.caller, q.patientId) });
	});

	r.post('/medical-records', async (req, res) => {
		const b = body(req, z.object({ appointmentId: id }).strict());
		res.json({ record: await records.recordForAppointment(ctx, req.caller, b.appointmentId) });
	});

	r.get('/medical-records/:id', async (req, res) => {
		res.json({ record: await records.readMedicalRecord(ctx, req.caller, params(req, idParams).id) });
	});

	r.patch('/medical-records/:id', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.json({ record: await records.updateMedicalRecord(ctx, req.caller, p.id, body(req, medicalRecordPatchSchema)) });
	});

	r.post('/medical-records/:id/amendments', async (req, res) => {
		const p = params(req, idParams);
		req.body = withIfMatch(req);
		res.status(201).json({ record: await records.amendMedicalRecord(ctx, req.caller, p.id, body(req, amendmentSchema)) });
	});

	r.get('/invoices', async (req, res) => {
		const q = query(req, z.object({ patientId: id }).strict());
		res.json({ invoices: await listInvoices(ctx, req.caller, q.patientId) });
	});

	return r;
}
