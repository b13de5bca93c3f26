import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { authorize } from '../auth/guard';
import { allMedicines, movementsSince, type MovementKind } from '../repositories/pharmacy';
import { dayBoundsUtc } from '$lib/shared/time';
import { csvLine, type InventoryReport, type ReportRow } from '$lib/shared/pharmacy';

/**
 * Received, dispensed and expired per medicine between `from` and `to` (hospital dates,
 * inclusive), and what was on hand at the end of `to`: today's count with every later
 * movement undone.
 */
export async function inventoryReport(ctx: Ctx, caller: Caller, q: { from: string; to: string }): Promise<InventoryReport> {
	await authorize(ctx, caller, 'pharmacy', 'read');
	const tz = ctx.config.timezone;
	const fromIso = dayBoundsUtc(q.from, tz).from.toISOString();
	const toIso = dayBoundsUtc(q.to, tz).to.toISOString();
	const [meds, moves] = await Promise.all([allMedicines(ctx), movementsSince(ctx, fromIso)]);
	const blank = () => ({ received: 0, dispensed: 0, expired: 0 });
	const inRange = new Map<string, Record<MovementKind, number>>();
	const after = new Map<string, Record<MovementKind, number>>();
	for (const mv of moves) {
		const target = mv.at < toIso ? inRange : after;
		const row = target.get(mv.medicine_id) ?? blank();
		row[mv.kind] += mv.quantity;
		target.set(mv.medicine_id, row);
	}
	const rows: ReportRow[] = meds.map((m) => {
		const r = inRange.get(m.id) ?? blank();
		const a = after.get(m.id) ?? blank();
		return { medicineId: m.id, name: m.name, strength: m.strength, ...r, onHand: m.on_hand - a.received + a.dispensed + a.expired };
	});
	const totals = rows.reduce((t, r) => ({ received: t.received + r.received, dispensed: t.dispensed + r.dispensed, expired: t.expired + r.expired, onHand: t.onHand + r.onHand }), { received: 0, dispensed: 0, expired: 0, onHand: 0 });
	return { from: q.from, to: q.to, rows, totals };
}

export function reportCsv(report: InventoryReport): string {
	const lines = [csvLine(['Medicine', 'Strength', 'Received', 'Dispensed', 'Expired', 'On hand']), ...report.rows.map((r) => csvLine([r.name, r.strength, r.received, r.dispensed, r.expired, r.onHand]))];
	lines.push(csvLine(['Total', '', report.totals.received, report.totals.dispensed, report.totals.expired, report.totals.onHand]));
	return `${lines.join('\r\n')}\r\n`;
}
