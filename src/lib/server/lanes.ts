/**
 * One lane per key within this process: work queued on a key runs one at a time, in arrival
 * order, while different keys run in parallel. Used where many requests of one instance would
 * otherwise race each other for the same conditional write (one blood group × component's
 * counter) and spend their time losing and re-reading: in a lane they take turns, and the
 * write conditions still decide between instances. A failure settles only its own caller; the
 * lane goes on with the next. A key's lane is dropped when it empties.
 */
export type Lanes = { run<T>(key: string, work: () => Promise<T>): Promise<T>; size(): number };

export function createLanes(): Lanes {
	const tails = new Map<string, Promise<unknown>>();
	return {
		run<T>(key: string, work: () => Promise<T>): Promise<T> {
			const before = tails.get(key) ?? Promise.resolve();
			const mine = before.then(work, work);
			const tail = mine.then(
				() => undefined,
				() => undefined
			);
			tails.set(key, tail);
			void tail.then(() => {
				if (tails.get(key) === tail) tails.delete(key);
			});
			return mine;
		},
		size: () => tails.size
	};
}
