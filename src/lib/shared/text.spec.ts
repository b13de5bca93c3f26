import { describe, expect, it } from 'vitest';
import { lineText, multilineText, text, textProblem } from './text';

const issues = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
	r.success ? [] : (r.error?.issues ?? []).map((i) => i.message);

describe('the text primitive', () => {
	it('keeps ordinary text, accents, emoji and other scripts as typed (trimmed)', () => {
		const s = multilineText(200);
		expect(s.parse('  Fièvre 39 °C — 🤒 头痛, ألم  ')).toBe('Fièvre 39 °C — 🤒 头痛, ألم');
		expect(s.parse('line one\r\nline two\tindented')).toBe('line one\nline two\tindented');
	});

	it('refuses NUL, ESC, DEL and C1 controls, naming the code point', () => {
		for (const [ch, cp] of [
			['\u0000', 'U+0000'],
			['\u001B', 'U+001B'],
			['\u007F', 'U+007F'],
			['\u0085', 'U+0085']
		] as const) {
			const r = multilineText(100).safeParse(`fever${ch}cough`);
			expect(r.success, cp).toBe(false);
			expect(issues(r)[0]).toContain(cp);
		}
	});

	it('refuses a control character even at the ends, where trimming would have hidden it', () => {
		expect(lineText(100).safeParse('note\u000B').success).toBe(false);
		expect(lineText(100).safeParse('\u000Cnote').success).toBe(false);
	});

	it('allows tab and newline only where the field is multi-line; a lone CR is refused', () => {
		expect(lineText(100).safeParse('a\nb').success).toBe(false);
		expect(issues(lineText(100).safeParse('a\tb'))[0]).toMatch(/single line/);
		expect(multilineText(100).safeParse('a\nb').success).toBe(true);
		expect(multilineText(100).safeParse('a\rb').success).toBe(false);
	});

	it('refuses bidi embedding, override and isolate controls (Trojan Source)', () => {
		for (const ch of ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069']) {
			const r = multilineText(100).safeParse(`dose 10${ch}0 mg`);
			expect(r.success).toBe(false);
			expect(issues(r)[0]).toMatch(/bidirectional/);
		}
	});

	it('refuses unpaired surrogates but keeps paired ones (emoji)', () => {
		expect(multilineText(100).safeParse('x\uD800y').success).toBe(false);
		expect(multilineText(100).safeParse('x\uDC00').success).toBe(false);
		expect(issues(multilineText(100).safeParse('\uDFFFabc'))[0]).toMatch(/surrogate/);
		expect(multilineText(100).safeParse('😀').success).toBe(true);
	});

	it('checks length after trimming, and can count code points', () => {
		expect(lineText(5).safeParse('  abcde  ').success).toBe(true);
		expect(issues(lineText(5).safeParse('abcdef'))[0]).toBe('must be at most 5 characters');
		expect(issues(lineText(100, 10).safeParse('   short   '))[0]).toBe('must be at least 10 characters');
		expect(issues(lineText(100, 1).safeParse('   '))[0]).toBe('cannot be empty');
		expect(text({ max: 2, countCodePoints: true }).safeParse('😀😀').success).toBe(true);
		expect(text({ max: 2 }).safeParse('😀😀').success).toBe(false);
	});

	it('refuses invisible characters that disguise text (zero-width space, soft hyphen, fillers, tags, noncharacters)', () => {
		for (const ch of ['\u200B', '\u00AD', '\u034F', '\u2060', '\uFEFF', '\u2028', '\u3164', '\uFFFC', '\u{E0041}', '\uFFFF', '\u{1FFFE}']) {
			const r = multilineText(100).safeParse(`amox${ch}icillin`);
			expect(r.success, ch.codePointAt(0)!.toString(16)).toBe(false);
			expect(issues(r)[0]).toMatch(/invisible/);
		}
		// A reason made only of fillers is refused, not taken as ten characters.
		expect(lineText(500, 10).safeParse('\u3164'.repeat(10)).success).toBe(false);
	});

	it('keeps joiners, variation selectors and direction marks that real text needs', () => {
		for (const t of ['👩‍⚕️ nurse', 'می‌خواهم', 'שלום\u200F!', '❤️']) expect(multilineText(100).safeParse(t).success, t).toBe(true);
	});

	it('says nothing is wrong with clean text', () => {
		expect(textProblem('Penicillin — rash')).toBeUndefined();
		expect(textProblem('a\nb', true)).toBeUndefined();
	});
});
