import { ApiError, api } from './api';
import { formatDate } from './format';
import type {
	BatchView,
	DispensationView,
	InsufficientStockDetails,
	InventoryReport,
	MedicineView,
	PharmacyAlert,
	QueueEntry
} from '$lib/shared/pharmacy';

export type { BatchView, DispensationView, InventoryReport, MedicineView, PharmacyAlert, QueueEntry };
export { MEDICINE_FORMS } from '$lib/shared/pharmacy';

/** The pharmacy's API calls, as the pages use them. */
export const pharmacyApi = {
	queue: () => api.get<{ items: QueueEntry[]; nextCursor: string | null }>('/api/pharmacy/queue'),
	alerts: () => api.get<{ alerts: PharmacyAlert[] }>('/api/pharmacy/alerts').then((r) => r.alerts),
	medicines: (prefix: string, cursor?: string) =>
		api.get<{ items: MedicineView[]; nextCursor: string | null }>('/api/medicines', { prefix: prefix.trim(), cursor, limit: 20 }),
	medicine: (id: string) => api.get<{ medicine: MedicineView }>(`/api/medicines/${id}`).then((r) => r.medicine),
	createMedicine: (body: { name: string; form: string; strength: string; threshold: number }) =>
		api.post<{ medicine: MedicineView }>('/api/medicines', body).then((r) => r.medicine),
	receiveBatch: (id: string, body: { batchNumber: string; quantity: number; expiresOn: string }) =>
		api.post<{ medicine: MedicineView; batch: BatchView }>(`/api/medicines/${id}/batches`, body),
	dispense: (body: { medicineId: string; quantity: number; prescriptionId?: string }) =>
		api.post<{ dispensation: DispensationView }>('/api/dispensations', body).then((r) => r.dispensation),
	report: (from: string, to: string) => api.get<{ report: InventoryReport }>('/api/pharmacy/report', { from, to }).then((r) => r.report)
};

/** What a 409 INSUFFICIENT_STOCK says is missing, if that is what the error is. */
export function shortage(err: unknown): InsufficientStockDetails | null {
	if (err instanceof ApiError && err.code === 'INSUFFICIENT_STOCK') return err.details as InsufficientStockDetails;
	return null;
}

export function alertText(a: PharmacyAlert): string {
	if (a.kind === 'low_stock') return `${a.medicineName}: ${a.onHand} on hand, below the threshold of ${a.threshold}.`;
	const when = a.daysLeft < 0 ? `expired ${-a.daysLeft} day${a.daysLeft === -1 ? '' : 's'} ago` : a.daysLeft === 0 ? 'expires today' : a.daysLeft === 1 ? 'expires tomorrow' : `expires in ${a.daysLeft} days`;
	return `${a.medicineName}, batch ${a.batchNumber} (${a.quantity} units) ${when}, on ${formatDate(a.expiresOn)}.`;
}

/** A plain "YYYY-MM-DD" a number of days from today (local calendar). */
export function isoDaysFromToday(days: number): string {
	const d = new Date();
	d.setDate(d.getDate() + days);
	return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
