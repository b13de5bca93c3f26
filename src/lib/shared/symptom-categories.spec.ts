import { describe, expect, it } from 'vitest';
import { CATEGORY_IDS, SYMPTOM_CATEGORIES, categorize, changePercent, isRising, trendSentence } from './symptom-categories';

describe('categorize', () => {
	it.each([
		['High fever since Monday', ['fever']],
		['Fever and a dry cough', ['fever', 'respiratory']],
		['coughing at night', ['respiratory']],
		['Shortness  of breath on stairs', ['respiratory']],
		['CHEST PAIN when walking', ['chest']],
		['migraines', ['headache']],
		['vomiting and diarrhoea', ['digestive']],
		['itchy rash on arms', ['skin']],
		['lower back pain', ['musculoskeletal']],
		['feeling dizzy', ['neurological']],
		['burning when urinating', ['urinary']],
		['anxious, cannot sleep', ['mental']],
		['always tired', ['fatigue']],
		['follow-up of a cough', ['respiratory', 'routine']],
		['Annual check-up', ['routine']]
	])('%s → %j', (text, expected) => {
		expect(categorize(text)).toEqual(expected);
	});

	it('matches whole words only, so a word that merely contains a keyword does not count', () => {
		expect(categorize('feverfew tea question')).toEqual(['fever']); // "fever*" is a prefix rule on purpose
		expect(categorize('unhipped')).toEqual(['other']);
		expect(categorize('coldplay tickets')).toEqual(['other']);
	});

	it('anything else, empty text or control characters included, is "other"', () => {
		expect(categorize('')).toEqual(['other']);
		expect(categorize('\u0000\u0007')).toEqual(['other']);
		expect(categorize('xyz')).toEqual(['other']);
	});

	it('every category has a source and keywords, and ids are unique', () => {
		expect(new Set(CATEGORY_IDS).size).toBe(CATEGORY_IDS.length);
		for (const c of SYMPTOM_CATEGORIES) {
			expect(c.icd10.length).toBeGreaterThan(0);
			expect(c.keywords.length).toBeGreaterThan(0);
		}
	});
});

describe('trends', () => {
	it('change in percent, null from nothing', () => {
		expect(changePercent(42, 30)).toBe(40);
		expect(changePercent(5, 10)).toBe(-50);
		expect(changePercent(3, 0)).toBeNull();
	});
	it('reads as a sentence and flags rises', () => {
		expect(trendSentence({ category: 'fever', thisWeek: 42, lastWeek: 30, changePercent: 40 })).toBe('Fever: 42 cases, up 40%');
		expect(trendSentence({ category: 'skin', thisWeek: 1, lastWeek: 2, changePercent: -50 })).toBe('Skin: 1 case, down 50%');
		expect(isRising({ thisWeek: 42, changePercent: 40 })).toBe(true);
		expect(isRising({ thisWeek: 2, changePercent: 100 })).toBe(false);
		expect(isRising({ thisWeek: 10, changePercent: 5 })).toBe(false);
	});
});
