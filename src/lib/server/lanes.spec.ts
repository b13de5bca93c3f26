import { describe, expect, it } from 'vitest';
import { createLanes } from './lanes';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lanes: one at a time per key, in order, keys in parallel', () => {
	it('runs work on one key strictly one after another, in arrival order', async () => {
		const lanes = createLanes();
		const log: string[] = [];
		let inside = 0;
		let most = 0;
		await Promise.all(
			[30, 5, 15, 1].map((ms, i) =>
				lanes.run('A+#red_cells', async () => {
					inside++;
					most = Math.max(most, inside);
					log.push(`start ${i}`);
					await tick(ms);
					log.push(`end ${i}`);
					inside--;
				})
			)
		);
		expect(most).toBe(1);
		expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
	});

	it('runs different keys at the same time', async () => {
		const lanes = createLanes();
		let inside = 0;
		let most = 0;
		const work = async () => {
			inside++;
			most = Math.max(most, inside);
			await tick(10);
			inside--;
		};
		await Promise.all([lanes.run('a', work), lanes.run('b', work), lanes.run('c', work)]);
		expect(most).toBe(3);
	});

	it('a failure rejects only its own caller; the next in the lane still runs; an empty lane is dropped', async () => {
		const lanes = createLanes();
		const first = lanes.run('k', async () => {
			throw new Error('database said no');
		});
		const second = lanes.run('k', async () => 'ran');
		await expect(first).rejects.toThrow('database said no');
		await expect(second).resolves.toBe('ran');
		await tick(0);
		expect(lanes.size()).toBe(0);
	});
});
