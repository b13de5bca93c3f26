import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { authorize, requireActor } from '../auth/guard';
import type { InvoiceView } from '$lib/shared/views';
import { invoicesOfPatient } from '../repositories/invoices';

export type { InvoiceView };

/** A patient's invoices, newest first (billing: patient own, front desk and admins all). */
export async function listInvoices(ctx: Ctx, caller: Caller, patientId: string): Promise<InvoiceView[]> {
	const actor = requireActor(caller);
	await authorize(ctx, caller, 'billing', 'read', { isOwn: (x) => x.patientId === patientId, hideExistence: actor.role === 'patient' });
	const invoices = await invoicesOfPatient(ctx, patientId);
	return invoices.map((i) => ({
		id: i.id,
		version: i.version,
		patientId: i.patient_id,
		appointmentId: i.appointment_id,
		doctorName: i.doctor_name,
		date: i.date,
		items: i.items.map((x) => ({ serviceId: x.service_id, name: x.name, priceCents: x.price_cents })),
		totalCents: i.total_cents,
		currency: i.currency,
		status: i.status,
		createdAt: i.created_at
	}));
}
