import { describe, expect, it } from 'vitest';
import { allergyMatches, allergySchema, type Allergy } from './allergies';

const penicillin: Allergy = { substance: 'Penicillin', reaction: 'hives', severity: 'severe' };
const nsaids: Allergy = { substance: 'Ibuprofen', reaction: 'bronchospasm', severity: 'life_threatening' };

describe('allergy check', () => {
	it('matches a medicine that names the allergen, whatever the case or strength', () => {
		const m = allergyMatches(['penicillin V 500 mg'], [penicillin]);
		expect(m).toHaveLength(1);
		expect(m[0]).toMatchObject({ medicine: 'penicillin V 500 mg', substance: 'Penicillin', severity: 'severe' });
	});

	it('matches members of one drug class (amoxicillin for a penicillin allergy, naproxen for ibuprofen)', () => {
		expect(allergyMatches(['Amoxicillin 500mg'], [penicillin])[0]?.why).toMatch(/penicillin/);
		expect(allergyMatches(['Naproxen'], [nsaids])[0]?.why).toMatch(/NSAIDs/);
	});

	it('is not fooled by hyphenated compounds, look-alike letters, full-width forms or brand names', () => {
		for (const m of ['amoxicillin-clavulanate', 'аmoxicillin' /* Cyrillic а */, 'ａｍｏｘｉｃｉｌｌｉｎ', 'Amoxil 250', 'Pen VK', 'Augmentin']) {
			expect(allergyMatches([m], [penicillin]), m).toHaveLength(1);
		}
		for (const m of ['Advil', 'Nurofen Express', 'Motrin IB']) expect(allergyMatches([m], [nsaids]), m).toHaveLength(1);
	});

	it('does not warn for an unrelated medicine', () => {
		expect(allergyMatches(['Paracetamol 1 g', 'Azithromycin'], [penicillin, nsaids])).toEqual([]);
	});

	it('lists every pair when several medicines and allergies match', () => {
		expect(allergyMatches(['Amoxicillin', 'Aspirin'], [penicillin, nsaids]).map((m) => m.medicine)).toEqual(['Amoxicillin', 'Aspirin']);
	});

	it('a recorded allergy needs a substance and a known severity', () => {
		expect(allergySchema.safeParse({ substance: 'P', severity: 'severe' }).success).toBe(false);
		expect(allergySchema.safeParse({ substance: 'Latex', severity: 'deadly' }).success).toBe(false);
		expect(allergySchema.parse({ substance: ' Latex ', severity: 'mild' })).toEqual({ substance: 'Latex', reaction: '', severity: 'mild' });
	});
});
