import { z } from 'zod';

/**
 * The one text primitive for every free-text field MedTrack stores. Text a person typed is
 * kept as typed, but some code points are never text: C0/C1 control characters (NUL, ESC,
 * DEL…; tab and newline are allowed where a field is multi-line), unpaired UTF-16
 * surrogates, and the bidirectional embedding/override/isolate controls that make a note
 * display differently from what it says ("Trojan Source"). Those are refused with a 400
 * that names the field and the character.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
// C0 except TAB (09) and LF (0A), DEL, C1.
const CONTROL_MULTILINE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
const CONTROL_SINGLE_LINE = /[\u0000-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * Characters that show nothing yet change what text compares equal to, or pass for a
 * character: soft hyphen, combining grapheme joiner, zero-width space, word joiner and
 * invisible operators, byte-order mark, line/paragraph separators, interlinear annotation and
 * object replacement, Hangul fillers, tag characters and noncharacters. Zero-width joiners
 * (emoji, Persian, Indic scripts), variation selectors and LRM/RLM (right-to-left text) stay.
 */
const INVISIBLE = /[\u00AD\u034F\u115F\u1160\u200B\u2028\u2029\u2060-\u2064\u3164\uFEFF\uFFA0\uFFF9-\uFFFC]|[\u{E0000}-\u{E007F}]|\p{Noncharacter_Code_Point}/u;

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why a string is not storable text, or undefined when it is. */
export function textProblem(value: string, multiline = false): string | undefined {
	const surrogate = LONE_SURROGATE.exec(value);
	if (surrogate) return `contains an unpaired surrogate (${codePoint(surrogate[0])}); send valid UTF-8 text`;
	const control = (multiline ? CONTROL_MULTILINE : CONTROL_SINGLE_LINE).exec(value);
	if (control) {
		const ch = control[0];
		if (!multiline && (ch === '\n' || ch === '\t' || ch === '\r')) return 'must be a single line (no line breaks or tabs)';
		return `contains a control character (${codePoint(ch)}) that is not allowed in text`;
	}
	const bidi = BIDI_CONTROLS.exec(value);
	if (bidi) return `contains a bidirectional control character (${codePoint(bidi[0])}) that can disguise what the text says`;
	const invisible = INVISIBLE.exec(value);
	if (invisible) return `contains an invisible character (${codePoint(invisible[0])}) that is not allowed in text`;
	return undefined;
}

export type TextOptions = {
	max: number;
	min?: number;
	/** Allows line breaks and tabs (notes, symptoms, chat); CRLF is stored as LF, a lone CR is refused. */
	multiline?: boolean;
	/** The message for a value shorter than `min`. */
	minMessage?: string;
	/** Count length in code points instead of UTF-16 units (what a person sees as characters). */
	countCodePoints?: boolean;
};

/** A trimmed string of storable text (see above), `min`–`max` characters long. */
export function text(opts: TextOptions) {
	const length = (s: string) => (opts.countCodePoints ? [...s].length : s.length);
	return z
		.string({ message: 'must be text' })
		.superRefine((raw, ctx) => {
			// Checked before trimming: a control character is refused wherever it stands.
			const problem = textProblem(opts.multiline ? raw.replace(/\r\n/g, '\n') : raw, opts.multiline);
			if (problem) ctx.addIssue({ code: 'custom', message: problem, abort: true });
		})
		.transform((s) => (opts.multiline ? s.replace(/\r\n/g, '\n') : s).trim())
		.superRefine((s, ctx) => {
			if (opts.min !== undefined && length(s) < opts.min) {
				ctx.addIssue({
					code: 'custom',
					message: opts.minMessage ?? (opts.min === 1 ? 'cannot be empty' : `must be at least ${opts.min} characters`)
				});
			}
			if (length(s) > opts.max) {
				ctx.addIssue({ code: 'custom', message: `must be at most ${opts.max.toLocaleString('en')} characters` });
			}
		});
}

/** Multi-line free text (symptoms, notes, diagnosis…). */
export const multilineText = (max: number, min?: number, minMessage?: string) =>
	text({ max, min, multiline: true, minMessage });
/** One line of free text (a reason, a department, an address line…). */
export const lineText = (max: number, min?: number, minMessage?: string) => text({ max, min, minMessage });
