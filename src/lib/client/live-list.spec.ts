import { describe, expect, it, vi, afterEach } from 'vitest';
import { LiveList } from './live-list.svelte';

type Row = { id: string; version: number };

/** A load function whose answers the test hands out one by one. */
function loader() {
	const pending: ((rows: Row[]) => void)[] = [];
	const load = vi.fn(() => new Promise<Row[]>((resolve) => pending.push(resolve)));
	return { load, answer: (rows: Row[]) => pending.shift()!(rows), waiting: () => pending.length };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => vi.useRealTimers());

describe('LiveList', () => {
	it('an event about a version it already holds fetches nothing', async () => {
		const { load, answer } = loader();
		const list = new LiveList<Row>(load);
		const first = list.refresh();
		answer([{ id: 'a', version: 3 }]);
		await first;
		list.heard({ id: 'a', version: 3 }, true);
		list.heard({ id: 'b', version: 1 }, false);
		expect(load).toHaveBeenCalledTimes(1);
	});

	it('events arriving during a fetch cause exactly one more fetch, never overlapping ones', async () => {
		const { load, answer, waiting } = loader();
		const list = new LiveList<Row>(load);
		void list.refresh();
		list.heard({ id: 'a', version: 2 }, true);
		list.heard({ id: 'b', version: 5 }, true);
		list.heard({ id: 'c', version: 1 }, true);
		expect(waiting()).toBe(1);
		answer([]);
		await tick();
		expect(load).toHaveBeenCalledTimes(2);
		answer([
			{ id: 'a', version: 2 },
			{ id: 'b', version: 5 },
			{ id: 'c', version: 1 }
		]);
		await tick();
		expect(load).toHaveBeenCalledTimes(2);
		expect(list.items.map((x) => x.id)).toEqual(['a', 'b', 'c']);
	});

	it('a fetch that does not show an announced version yet is retried briefly, then stops', async () => {
		vi.useFakeTimers();
		const { load, answer } = loader();
		const list = new LiveList<Row>(load);
		void list.refresh();
		answer([{ id: 'a', version: 1 }]);
		await vi.advanceTimersByTimeAsync(0);
		list.heard({ id: 'a', version: 2 }, true);
		answer([{ id: 'a', version: 1 }]); // the index has not caught up
		await vi.advanceTimersByTimeAsync(0);
		expect(load).toHaveBeenCalledTimes(2);
		await vi.advanceTimersByTimeAsync(200);
		expect(load).toHaveBeenCalledTimes(3);
		answer([{ id: 'a', version: 2 }]);
		await vi.advanceTimersByTimeAsync(10_000);
		expect(load).toHaveBeenCalledTimes(3);
		expect(list.get('a')?.version).toBe(2);
	});

	it('an item that no longer belongs leaves the list on the next fetch', async () => {
		const { load, answer } = loader();
		const list = new LiveList<Row>(load);
		void list.refresh();
		answer([{ id: 'a', version: 1 }]);
		await tick();
		list.heard({ id: 'a', version: 2 }, false);
		answer([]);
		await tick();
		expect(list.items).toEqual([]);
	});
});
