/**
 * A fetch that never runs twice at once: calling the returned function while a run is in
 * flight asks for exactly one more run after it, however many calls arrive meanwhile (events
 * that land during a fetch may not be in its answer). `run` handles its own errors.
 */
export function singleFlight(run: () => Promise<void>): () => Promise<void> {
	let running: Promise<void> | null = null;
	let again = false;
	const loop = async () => {
		do {
			again = false;
			await run().catch(() => {});
		} while (again);
	};
	return () => {
		if (running) {
			again = true;
			return running;
		}
		running = loop().finally(() => {
			running = null;
		});
		return running;
	};
}
