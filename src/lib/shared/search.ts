/**
 * The words of a name as search compares them, and the index terms written for them. Pure, so
 * the browser could highlight matches the way the server finds them, and so it is unit-tested.
 *
 * Normalising: Unicode NFKD (compatibility forms too: full-width ＭＡＲ → MAR, ligatures ﬁ → fi)
 * with combining marks removed (á → a, ñ → n), lower case, letters that
 * do not decompose folded by hand (ß → ss, ø → o, ł → l, æ → ae…), apostrophes dropped inside a
 * word (O'Brien → obrien), and anything that is not a letter or digit separates words
 * (hyphens, spaces, dots). Scripts without case or marks (Arabic, CJK…) pass through.
 */

/** Index terms are prefixes of at most this many characters; a longer query word uses this prefix plus a filter. */
export const MAX_PREFIX = 12;
/** At most this many name terms per record, so a rename (old terms out, new in) fits one transaction. */
export const MAX_NAME_TERMS = 40;

const FOLD: Record<string, string> = { ß: 'ss', ø: 'o', ł: 'l', æ: 'ae', œ: 'oe', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ħ: 'h' };
const APOSTROPHES = /['’ʼ`´]/g;
const MARKS = /\p{M}+/gu;
const SEPARATORS = /[^\p{L}\p{N}]+/u;

/** One string in the form search compares: no accents, lower case, words separated by single spaces. */
export function normalizeText(s: string): string {
	return words(s).join(' ');
}

/** The words of a name or query, normalised (see above). */
export function words(s: string): string[] {
	const folded = s
		// NFKD, not NFD: a name typed in full-width or compatibility letters is the same name.
		.normalize('NFKD')
		.replace(MARKS, '')
		.toLowerCase()
		.replace(/[ßøłæœđðþıħ]/g, (c) => FOLD[c] ?? c)
		.replace(APOSTROPHES, '');
	return folded.split(SEPARATORS).filter((w) => w.length > 0);
}

/** The first `n` characters (code points, not UTF-16 units) of a word. */
export function prefixOf(word: string, n = MAX_PREFIX): string {
	return Array.from(word).slice(0, n).join('');
}

/**
 * Every prefix (1..MAX_PREFIX characters) of every word, each once, in the order of the words;
 * words past the MAX_NAME_TERMS budget are left out (a 40-term name is far beyond real ones).
 */
export function namePrefixes(name: string | string[]): string[] {
	const out = new Set<string>();
	for (const w of Array.isArray(name) ? name : words(name)) {
		const chars = Array.from(w).slice(0, MAX_PREFIX);
		const fresh: string[] = [];
		for (let i = 1; i <= chars.length; i++) {
			const p = chars.slice(0, i).join('');
			if (!out.has(p)) fresh.push(p);
		}
		if (out.size + fresh.length > MAX_NAME_TERMS) break;
		for (const p of fresh) out.add(p);
	}
	return [...out];
}

/**
 * How to answer a name query with one index term: the term of the longest query word (the
 * most selective), and the words a result must still start a word with (`also`): the other
 * query words, and the key word itself when it is longer than the indexed prefix.
 */
export type NamePlan = { term: string; also: string[] };

export function planNameQuery(q: string): NamePlan | undefined {
	const ws = [...new Set(words(q))];
	if (ws.length === 0) return undefined;
	const key = ws.reduce((a, b) => (Array.from(b).length > Array.from(a).length ? b : a));
	const term = prefixOf(key);
	const also = ws.filter((w) => w !== key || term !== key).sort();
	return { term, also };
}

/** Whether every query word starts some word of the name (what the index and its filter decide). */
export function nameMatches(name: string, q: string): boolean {
	const nameWords = words(name);
	return words(q).every((qw) => nameWords.some((w) => w.startsWith(qw)));
}
