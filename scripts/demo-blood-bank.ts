import type { Ctx } from '../src/lib/server/context';
import type { Caller } from '../src/lib/server/actor';
import { AppError } from '../src/lib/server/errors';
import { addUnit, readStock, setThreshold } from '../src/lib/server/services/blood-bank';
import { BLOOD_COMPONENTS, SHELF_LIFE_DAYS, type BloodComponent, type BloodGroup } from '../src/lib/shared/blood';

/**
 * The demo blood bank: units of every group and component, roughly in the proportions a
 * hospital holds them (O+ and A+ most, AB- least), bags of different ages within their shelf
 * life, and thresholds under which each is critical — all above them except O- red cells, so
 * the administrator's board opens with one critical group. Idempotent: bags are known by
 * their number, a threshold already set is left alone.
 */
type Plan = Record<BloodComponent, Partial<Record<BloodGroup, [units: number, threshold: number]>>>;

const PLAN: Plan = {
	red_cells: { 'O+': [18, 10], 'A+': [15, 8], 'B+': [8, 4], 'O-': [3, 6], 'A-': [6, 3], 'AB+': [5, 2], 'B-': [4, 2], 'AB-': [3, 2] },
	whole_blood: { 'O+': [6, 3], 'A+': [5, 3], 'B+': [3, 2], 'O-': [3, 2], 'A-': [3, 2], 'AB+': [2, 1], 'B-': [2, 1], 'AB-': [2, 1] },
	platelets: { 'O+': [4, 2], 'A+': [4, 2], 'B+': [2, 1], 'O-': [2, 1], 'A-': [2, 1], 'AB+': [2, 1], 'B-': [1, 1], 'AB-': [1, 1] },
	plasma: { 'O+': [8, 3], 'A+': [8, 3], 'B+': [4, 2], 'O-': [3, 2], 'A-': [3, 2], 'AB+': [4, 2], 'B-': [2, 1], 'AB-': [3, 2] }
};

const CODE: Record<BloodGroup, string> = { 'A+': 'AP', 'A-': 'AN', 'B+': 'BP', 'B-': 'BN', 'AB+': 'ABP', 'AB-': 'ABN', 'O+': 'OP', 'O-': 'ON' };
const COMPONENT_CODE: Record<BloodComponent, string> = { whole_blood: 'WB', red_cells: 'RC', platelets: 'PL', plasma: 'FP' };

export async function seedBloodBank(ctx: Ctx, admin: Caller): Promise<{ created: number; existed: number }> {
	const tally = { created: 0, existed: 0 };
	const stock = await readStock(ctx, admin);
	const rowOf = (g: BloodGroup, c: BloodComponent) => stock.find((r) => r.bloodGroup === g && r.component === c)!;
	const jobs = BLOOD_COMPONENTS.flatMap((component) =>
		(Object.entries(PLAN[component]) as [BloodGroup, [number, number]][]).map(([group, [units, threshold]]) => async () => {
			const row = rowOf(group, component);
			// A fresh counter starts at threshold 0, so filling it raises no alert on the way up.
			if (row.version === 0) await setThreshold(ctx, admin, group, component, { version: 0, threshold: 0 });
			for (let i = 0; i < units; i++) {
				// Ages spread over the first two thirds of the shelf life (platelets: hours to 3 days).
				const days = ((i + 0.5) / units) * SHELF_LIFE_DAYS[component] * 0.66;
				try {
					await addUnit(ctx, admin, {
						bloodGroup: group,
						component,
						bagNumber: `DEMO-${CODE[group]}-${COMPONENT_CODE[component]}-${String(i + 1).padStart(3, '0')}`,
						collectedAt: new Date(Date.now() - days * 86_400_000).toISOString()
					});
					tally.created++;
				} catch (err) {
					if (!(err instanceof AppError && err.code === 'ALREADY_EXISTS')) throw err;
					tally.existed++;
				}
			}
			const now = (await readStock(ctx, admin)).find((r) => r.bloodGroup === group && r.component === component)!;
			if (row.version === 0 && now.threshold !== threshold) await setThreshold(ctx, admin, group, component, { version: now.version, threshold });
		})
	);
	const queue = [...jobs];
	await Promise.all(Array.from({ length: 4 }, async () => {
		for (let job = queue.shift(); job; job = queue.shift()) await job();
	}));
	return tally;
}
