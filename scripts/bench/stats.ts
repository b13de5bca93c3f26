/** The p-th percentile of a sample (nearest rank; NaN when empty): every benchmark's one definition. */
export function percentile(xs: number[], p: number): number {
	if (!xs.length) return NaN;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
