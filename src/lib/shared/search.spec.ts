import { describe, expect, it } from 'vitest';
import { MAX_NAME_TERMS, MAX_PREFIX, nameMatches, namePrefixes, normalizeText, planNameQuery, prefixOf, words } from './search';

describe('words and normalizeText', () => {
	it('drops accents and case: María Gómez is "maria gomez"', () => {
		expect(normalizeText('María Gómez')).toBe('maria gomez');
		expect(normalizeText('  TOMÁS   Martínez ')).toBe('tomas martinez');
		expect(normalizeText('François Ñúñez-Çelik')).toBe('francois nunez celik');
	});
	it('folds letters that do not decompose (ß, ø, ł, æ)', () => {
		expect(words('Strauß Søren Łukasz Æthelred')).toEqual(['strauss', 'soren', 'lukasz', 'aethelred']);
	});
	it('splits on hyphens, dots and spaces, joins across apostrophes', () => {
		expect(words("Anne-Marie O'Brien Jr.")).toEqual(['anne', 'marie', 'obrien', 'jr']);
		expect(words('D’Angelo')).toEqual(['dangelo']);
	});
	it('keeps scripts without case or marks', () => {
		expect(words('محمد علي')).toEqual(['محمد', 'علي']);
		expect(words('王 小明')).toEqual(['王', '小明']);
	});
	it('folds compatibility forms (NFKD): full-width letters, ligatures; Turkish i both ways; capital ẞ', () => {
		expect(words('ＭＡＲÍＡ ｇóｍｅｚ')).toEqual(['maria', 'gomez']);
		expect(words('Ｆｕｌｌｗｉｄｔｈ')).toEqual(words('Fullwidth'));
		expect(words('ﬁnn')).toEqual(['finn']);
		expect(words('İŞIK ışık Işık')).toEqual(['isik', 'isik', 'isik']);
		expect(words('STRAUẞ')).toEqual(['strauss']);
		expect(words('m\u0301a\u0308r')).toEqual(['mar']);
	});
	it('has no words for punctuation only', () => {
		expect(words(' - . ')).toEqual([]);
	});
});

describe('namePrefixes', () => {
	it('every prefix of every word once', () => {
		expect(namePrefixes('Ana Anabel')).toEqual(['a', 'an', 'ana', 'anab', 'anabe', 'anabel']);
	});
	it(`caps each word at ${MAX_PREFIX} characters and counts code points`, () => {
		const p = namePrefixes('Wolfeschlegelsteinhausen');
		expect(p).toHaveLength(MAX_PREFIX);
		expect(p.at(-1)).toBe('wolfeschlege');
		expect(prefixOf('𝒜bcdefghijklmnop')).toBe('𝒜bcdefghijkl');
	});
	it(`never more than ${MAX_NAME_TERMS} terms, whole words kept`, () => {
		const p = namePrefixes('Abcdefghijkl Bcdefghijklm Cdefghijklmn Defghijklmno');
		expect(p.length).toBeLessThanOrEqual(MAX_NAME_TERMS);
		expect(p).toContain('abcdefghijkl');
		expect(p).toContain('cdefghijklmn');
		expect(p).not.toContain('d');
	});
});

describe('planNameQuery and nameMatches', () => {
	it('queries on the longest word and filters on the others', () => {
		expect(planNameQuery('ma GÓME')).toEqual({ term: 'gome', also: ['ma'] });
		expect(planNameQuery('gomez')).toEqual({ term: 'gomez', also: [] });
	});
	it('a word longer than the indexed prefix is also a filter', () => {
		expect(planNameQuery('wolfeschlegelstein')).toEqual({ term: 'wolfeschlege', also: ['wolfeschlegelstein'] });
	});
	it('nothing to search for is undefined', () => {
		expect(planNameQuery(' -- ')).toBeUndefined();
	});
	it('"mar" finds any word starting with mar, not one containing it', () => {
		expect(nameMatches('María Gómez', 'mar')).toBe(true);
		expect(nameMatches('Anne Marshall', 'mar')).toBe(true);
		expect(nameMatches('Tomás Martínez', 'mar')).toBe(true);
		expect(nameMatches('Omar Haddad', 'mar')).toBe(false);
		expect(nameMatches('María Gómez', 'GOMEZ')).toBe(true);
		expect(nameMatches('María Gómez', 'maria gom')).toBe(true);
		expect(nameMatches('María Gómez', 'maria hal')).toBe(false);
	});
});
