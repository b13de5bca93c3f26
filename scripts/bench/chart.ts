/** A grouped horizontal bar chart as a standalone SVG (no dependencies). */
export type BarGroup = { group: string; bars: { label: string; value: number }[] };

// MedTrack's bars in teal (a lighter teal for a second MedTrack measure), baselines in grey.
const colorOf = (label: string) =>
	/in server/.test(label) ? '#4f9aa3' : /MedTrack/.test(label) ? '#0b6e79' : /DB write/.test(label) ? '#c3cad1' : '#8a96a3';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function barChartSvg(title: string, groups: BarGroup[]): string {
	const width = 760;
	const left = 150;
	const barH = 18;
	const gap = 6;
	const groupGap = 18;
	const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value)), 0.001);
	let y = 48;
	const parts: string[] = [];
	for (const g of groups) {
		parts.push(`<text x="10" y="${y + barH}" font-size="13" fill="#1f2933">${esc(g.group)}</text>`);
		g.bars.forEach((b) => {
			const w = Math.max(1, (b.value / max) * (width - left - 250));
			parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colorOf(b.label)}" rx="2"/>`);
			parts.push(`<text x="${left + w + 6}" y="${y + 13}" font-size="12" fill="#1f2933">${esc(b.label)}: ${b.value.toFixed(2)} ms</text>`);
			y += barH + gap;
		});
		y += groupGap;
	}
	const height = y + 10;
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="26" font-size="15" font-weight="600" fill="#1f2933">${esc(title)}</text>
${parts.join('\n')}
</svg>
`;
}
