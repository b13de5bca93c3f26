import { describe, expect, it } from 'vitest';
import { singleFlight } from './refetch';

/** The live lists' refetch rule: never two fetches at once, and nothing announced is lost. */
function controlledFetch() {
	let active = 0;
	let maxActive = 0;
	const pending: (() => void)[] = [];
	let runs = 0;
	const run = () => {
		runs++;
		active++;
		maxActive = Math.max(maxActive, active);
		return new Promise<void>((resolve) =>
			pending.push(() => {
				active--;
				resolve();
			})
		);
	};
	return {
		run,
		finishOne: async () => {
			pending.shift()?.();
			await new Promise((r) => setTimeout(r, 0));
		},
		get runs() {
			return runs;
		},
		get maxActive() {
			return maxActive;
		}
	};
}

describe('singleFlight', () => {
	it('runs at once when idle', async () => {
		const f = controlledFetch();
		const trigger = singleFlight(f.run);
		const done = trigger();
		expect(f.runs).toBe(1);
		await f.finishOne();
		await done;
		expect(f.runs).toBe(1);
	});

	it('calls during a run cause exactly one more run after it, never two at once', async () => {
		const f = controlledFetch();
		const trigger = singleFlight(f.run);
		const first = trigger();
		void trigger();
		void trigger();
		void trigger();
		expect(f.runs).toBe(1);
		await f.finishOne();
		expect(f.runs).toBe(2);
		await f.finishOne();
		await first;
		expect(f.runs).toBe(2);
		expect(f.maxActive).toBe(1);
		// Idle again: the next call runs.
		void trigger();
		expect(f.runs).toBe(3);
		await f.finishOne();
	});

	it('keeps going after a failed run', async () => {
		let n = 0;
		const trigger = singleFlight(async () => {
			n++;
			if (n === 1) throw new Error('network');
		});
		await trigger();
		await trigger();
		expect(n).toBe(2);
	});
});
