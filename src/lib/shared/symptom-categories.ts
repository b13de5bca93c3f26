/**
 * Symptom categories as a transparent rule table, shared by the analytics dashboard (symptom
 * trends) and, later, a symptom checker. Each category lists the words and phrases that put a
 * patient's own description of their symptoms into it, matched case-insensitively on word
 * boundaries. A description may fall into several categories ("fever and a cough": fever and
 * respiratory); one that matches none is `other`. No scoring, no model: read the table to know
 * why a visit was counted where it was.
 *
 * Sources for the grouping: ICD-10 (WHO, 2019 edition) chapter XVIII "Symptoms, signs and
 * abnormal clinical and laboratory findings" (R00–R99), by its blocks: R00–R09 circulatory and
 * respiratory, R10–R19 digestive system and abdomen, R20–R23 skin, R25–R29 nervous and
 * musculoskeletal, R30–R39 urinary system, R40–R46 cognition, perception and emotional state,
 * R50–R69 general symptoms (R50 fever, R51 headache, R53 malaise and fatigue, R55 syncope);
 * musculoskeletal pain from chapter XIII (M25.5 joint pain, M54 dorsalgia, M79.1 myalgia);
 * anxiety and sleep from F41 and G47; routine visits from chapter XXI (Z00 general examination,
 * Z09 follow-up examination). The keywords are the lay words patients type for those codes.
 */
export type SymptomCategory = {
	id: string;
	label: string;
	/** ICD-10 codes or blocks the category follows. */
	icd10: string;
	/** Lower-case words or phrases; a trailing `*` matches any ending ("cough*": cough, coughing). */
	keywords: readonly string[];
};

export const SYMPTOM_CATEGORIES: readonly SymptomCategory[] = [
	{ id: 'fever', label: 'Fever', icd10: 'R50', keywords: ['fever*', 'feverish', 'high temperature', 'temperature', 'chills', 'shivering', 'pyrexia', 'febrile'] },
	{
		id: 'respiratory',
		label: 'Cough and breathing',
		icd10: 'R04–R06, R07.0, J00–J06',
		keywords: ['cough*', 'breath*', 'breathless*', 'shortness of breath', 'wheez*', 'sore throat', 'throat', 'cold', 'flu', 'runny nose', 'congest*', 'sneez*', 'asthma', 'phlegm', 'sputum']
	},
	{ id: 'chest', label: 'Chest pain and heart', icd10: 'R00–R03, R07.1–R07.9', keywords: ['chest pain', 'chest', 'palpitation*', 'heart racing', 'racing heart', 'angina', 'blood pressure', 'hypertension'] },
	{ id: 'headache', label: 'Headache', icd10: 'R51, G43–G44', keywords: ['headache*', 'head ache', 'migraine*', 'head pain'] },
	{
		id: 'digestive',
		label: 'Stomach and digestion',
		icd10: 'R10–R19',
		keywords: ['stomach*', 'abdominal', 'abdomen', 'belly', 'nausea', 'nauseous', 'vomit*', 'diarrh*', 'constipat*', 'heartburn', 'indigestion', 'bloat*', 'reflux']
	},
	{ id: 'skin', label: 'Skin', icd10: 'R20–R23, L20–L30', keywords: ['rash*', 'itch*', 'hives', 'eczema', 'skin', 'spots', 'blister*', 'swelling of the skin'] },
	{
		id: 'musculoskeletal',
		label: 'Joints, back and muscles',
		icd10: 'M25.5, M54, M79.1',
		keywords: ['back pain', 'backache', 'lower back', 'joint*', 'knee*', 'shoulder*', 'neck pain', 'muscle*', 'sprain*', 'hip', 'arthritis', 'ankle*', 'wrist*']
	},
	{ id: 'neurological', label: 'Dizziness and nerves', icd10: 'R20, R25–R29, R42, R55', keywords: ['dizz*', 'vertigo', 'faint*', 'numb*', 'tingling', 'seizure*', 'tremor*', 'unsteady', 'blackout*'] },
	{ id: 'urinary', label: 'Urinary', icd10: 'R30–R39', keywords: ['urin*', 'bladder', 'pee', 'peeing', 'kidney*'] },
	{ id: 'mental', label: 'Mood, anxiety and sleep', icd10: 'R45, F41, G47', keywords: ['anxi*', 'panic', 'depress*', 'low mood', 'stress*', 'insomnia', 'sleep*', 'worried'] },
	{ id: 'fatigue', label: 'Tiredness and weight', icd10: 'R53, R63', keywords: ['tired*', 'fatigue*', 'exhaust*', 'weak*', 'lethargy', 'weight loss', 'weight gain', 'appetite'] },
	{ id: 'routine', label: 'Check-up and follow-up', icd10: 'Z00, Z09', keywords: ['check-up', 'checkup', 'check up', 'follow-up', 'follow up', 'followup', 'review', 'routine', 'results', 'prescription renewal'] }
];

export const OTHER_CATEGORY = 'other';
export const CATEGORY_IDS: readonly string[] = [...SYMPTOM_CATEGORIES.map((c) => c.id), OTHER_CATEGORY];
export const CATEGORY_LABEL: Readonly<Record<string, string>> = {
	...Object.fromEntries(SYMPTOM_CATEGORIES.map((c) => [c.id, c.label])),
	[OTHER_CATEGORY]: 'Other'
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** One regular expression per category, built once from its keywords. */
const MATCHERS = SYMPTOM_CATEGORIES.map((c) => ({
	id: c.id,
	re: new RegExp(
		`(?:^|[^a-z])(?:${c.keywords
			.map((k) => (k.endsWith('*') ? `${escape(k.slice(0, -1)).replace(/ /g, '\\s+')}[a-z]*` : escape(k).replace(/ /g, '\\s+')))
			.join('|')})(?![a-z])`
	)
}));

/** The categories a symptom description falls into, in table order; `['other']` when none matches. */
export function categorize(text: string): string[] {
	const t = text.normalize('NFKC').toLowerCase();
	const found = MATCHERS.filter((m) => m.re.test(t)).map((m) => m.id);
	return found.length ? found : [OTHER_CATEGORY];
}

/** Week-over-week change in percent, rounded; null when last week had none (a rise from nothing has no percentage). */
export function changePercent(thisWeek: number, lastWeek: number): number | null {
	if (lastWeek === 0) return null;
	return Math.round(((thisWeek - lastWeek) / lastWeek) * 100);
}

/** "Fever: 42 cases, up 40%" — the sentence a dashboard shows for one category. */
export function trendSentence(t: { category: string; thisWeek: number; lastWeek: number; changePercent: number | null }): string {
	const label = CATEGORY_LABEL[t.category] ?? t.category;
	const cases = `${t.thisWeek} case${t.thisWeek === 1 ? '' : 's'}`;
	if (t.changePercent === null) return t.thisWeek ? `${label}: ${cases}, new this week` : `${label}: no cases`;
	if (t.changePercent === 0) return `${label}: ${cases}, no change`;
	return `${label}: ${cases}, ${t.changePercent > 0 ? 'up' : 'down'} ${Math.abs(t.changePercent)}%`;
}

/** A rise worth flagging: up by at least a fifth on at least 3 cases, or new this week with at least 3. */
export const isRising = (t: { thisWeek: number; changePercent: number | null }) =>
	t.thisWeek >= 3 && (t.changePercent === null || t.changePercent >= 20);
