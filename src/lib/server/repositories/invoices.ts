import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Ctx } from '../context';
import type { VersionStamp } from '../db/versioned';

/** `invoices`: one per completed visit (created with the completion, services/appointments.ts). */
export type InvoiceItem = VersionStamp & {
	id: string;
	patient_id: string;
	appointment_id: string;
	doctor_name: string;
	date: string;
	items: { service_id: string; name: string; price_cents: number }[];
	total_cents: number;
	currency: string;
	status: 'paid' | 'unpaid';
	created_at: string;
};

/** A patient's invoices, newest first. */
export async function invoicesOfPatient(ctx: Ctx, patientId: string): Promise<InvoiceItem[]> {
	const res = await ctx.db.doc.send(
		new QueryCommand({
			TableName: ctx.db.tables.invoices,
			IndexName: 'patient-index',
			KeyConditionExpression: 'patient_id = :p',
			ExpressionAttributeValues: { ':p': patientId },
			ScanIndexForward: false
		})
	);
	return (res.Items ?? []) as InvoiceItem[];
}
