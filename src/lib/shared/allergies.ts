import { z } from 'zod';
import { version } from './schemas';
import { lineText } from './text';

/**
 * Allergies on a patient's chart, and the check that runs wherever a medicine is
 * prescribed. The check is a transparent table, not a pharmacology database: a medicine
 * matches an allergy when one names the other (word by word, case-insensitive), or when
 * both fall in one of the drug classes below. A match is a warning the prescriber must
 * confirm, never a silent block and never silently ignored.
 */
export const ALLERGY_SEVERITIES = ['mild', 'moderate', 'severe', 'life_threatening'] as const;
export type AllergySeverity = (typeof ALLERGY_SEVERITIES)[number];
export const SEVERITY_LABEL: Record<AllergySeverity, string> = {
	mild: 'Mild',
	moderate: 'Moderate',
	severe: 'Severe',
	life_threatening: 'Life-threatening'
};

export const allergySchema = z
	.object({
		substance: lineText(80, 2),
		reaction: lineText(200).default(''),
		severity: z.enum(ALLERGY_SEVERITIES, { message: `must be one of ${ALLERGY_SEVERITIES.join(', ')}` })
	})
	.strict();
export type Allergy = z.infer<typeof allergySchema>;

export const allergiesUpdateSchema = z
	.object({
		version,
		allergies: z.array(allergySchema).max(50, 'at most 50 allergies'),
		/** Needed when an allergy is removed or its severity lowered (a doctor's decision). */
		reason: lineText(500, 10, 'say why, in at least 10 characters').optional()
	})
	.strict();

const RANK: Record<AllergySeverity, number> = { mild: 0, moderate: 1, severe: 2, life_threatening: 3 };
const key = (s: string) => s.trim().toLowerCase();

/**
 * What a new allergy list takes away from the old one: allergies no longer listed and
 * severities lowered. Such a change silences future warnings, so it is a doctor's, with a reason.
 */
export function allergiesWeakened(before: Allergy[], after: Allergy[]): string[] {
	const next = new Map(after.map((a) => [key(a.substance), a]));
	const out: string[] = [];
	for (const a of before) {
		const n = next.get(key(a.substance));
		if (!n) out.push(`${a.substance} removed`);
		else if (RANK[n.severity] < RANK[a.severity]) out.push(`${a.substance} lowered to ${SEVERITY_LABEL[n.severity].toLowerCase()}`);
	}
	return out;
}

/** Drug classes whose members cross-react often enough that a prescriber must be asked. */
export const DRUG_CLASSES: Record<string, string[]> = {
	penicillin: ['penicillin', 'penicillinv', 'pen vk', 'amoxicillin', 'amoxil', 'ampicillin', 'piperacillin', 'flucloxacillin', 'dicloxacillin', 'oxacillin', 'nafcillin', 'co-amoxiclav', 'augmentin'],
	cephalosporin: ['cephalexin', 'cefalexin', 'keflex', 'cefazolin', 'ceftriaxone', 'cefuroxime', 'cefdinir', 'cefepime'],
	sulfonamide: ['sulfa', 'sulfonamide', 'sulfamethoxazole', 'trimethoprim-sulfamethoxazole', 'co-trimoxazole', 'bactrim', 'septra', 'sulfasalazine'],
	nsaid: ['nsaid', 'nsaids', 'aspirin', 'ibuprofen', 'advil', 'motrin', 'nurofen', 'naproxen', 'aleve', 'diclofenac', 'voltaren', 'ketorolac', 'indomethacin', 'celecoxib', 'meloxicam'],
	opioid: ['opioid', 'opioids', 'morphine', 'codeine', 'oxycodone', 'hydrocodone', 'tramadol', 'fentanyl', 'hydromorphone'],
	macrolide: ['macrolide', 'erythromycin', 'azithromycin', 'clarithromycin'],
	fluoroquinolone: ['fluoroquinolone', 'ciprofloxacin', 'levofloxacin', 'moxifloxacin'],
	tetracycline: ['tetracycline', 'doxycycline', 'minocycline'],
	statin: ['statin', 'atorvastatin', 'simvastatin', 'rosuvastatin', 'pravastatin'],
	'ace inhibitor': ['ace inhibitor', 'lisinopril', 'enalapril', 'ramipril', 'captopril']
};

/** Cyrillic and Greek letters that look like Latin ones, as a prescriber's text may hold them. */
const LOOKALIKES: Record<string, string> = {
	а: 'a', в: 'b', с: 'c', е: 'e', ё: 'e', һ: 'h', і: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', ѕ: 's', т: 't', у: 'y', х: 'x', ԁ: 'd',
	α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x'
};
/** A name as the check compares it: compatibility-folded, accents dropped, look-alike letters read as Latin. */
export const foldName = (s: string) =>
	s
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^\x00-\x7f]/g, (ch) => LOOKALIKES[ch] ?? ch);

/** Words of a name: hyphenated compounds whole and in their parts (amoxicillin-clavulanate). */
const words = (s: string) => {
	const out: string[] = [];
	for (const w of foldName(s).split(/[^a-z0-9-]+/)) {
		out.push(w, ...w.split('-'));
	}
	return out.filter((w) => w.length >= 3);
};

function classesOf(name: string): Set<string> {
	const ws = new Set(words(name));
	const lower = foldName(name);
	const out = new Set<string>();
	for (const [cls, members] of Object.entries(DRUG_CLASSES)) {
		if (ws.has(cls) || lower.includes(cls) || members.some((m) => ws.has(m) || (m.includes(' ') && lower.includes(m)))) out.add(cls);
	}
	return out;
}

export type AllergyMatch = { medicine: string; substance: string; severity: AllergySeverity; reaction: string; why: string };

/** Every (medicine, allergy) pair that should stop a prescriber and ask. */
export function allergyMatches(medicines: string[], allergies: Allergy[]): AllergyMatch[] {
	const out: AllergyMatch[] = [];
	for (const medicine of medicines) {
		const mWords = new Set(words(medicine));
		const mClasses = classesOf(medicine);
		for (const a of allergies) {
			const aWords = words(a.substance);
			let why: string | undefined;
			if (aWords.some((w) => mWords.has(w))) why = `${medicine} contains ${a.substance}`;
			else {
				const shared = [...classesOf(a.substance)].find((c) => mClasses.has(c));
				if (shared) why = `${medicine} and ${a.substance} are both ${shared === 'nsaid' ? 'NSAIDs' : `${shared}s`}`;
			}
			if (why) out.push({ medicine, substance: a.substance, severity: a.severity, reaction: a.reaction, why });
		}
	}
	return out;
}
