import { describe, expect, it } from 'vitest';
import { csvCell, prescriptionNames } from './pharmacy';

describe('prescriptionNames: which stock may be dispensed against a prescription', () => {
	it('matches the medicine name as the whole prescribed text or its first words, case, width and spacing aside', () => {
		expect(prescriptionNames('Amoxicillin 250 mg', 'Amoxicillin')).toBe(true);
		expect(prescriptionNames('amoxicillin', 'Amoxicillin')).toBe(true);
		expect(prescriptionNames('  AMOXICILLIN   250 mg', 'amoxicillin')).toBe(true);
		expect(prescriptionNames('Ａｍｏｘｉｃｉｌｌｉｎ 250 mg', 'Amoxicillin')).toBe(true);
		expect(prescriptionNames('Salbutamol inhaler', 'Salbutamol')).toBe(true);
		expect(prescriptionNames('Paracetamol (Panadol) 1 g', 'Paracetamol')).toBe(true);
	});
	it('refuses another medicine, a prefix of a longer word and combinations', () => {
		expect(prescriptionNames('Amlodipine 5 mg', 'Methotrexate')).toBe(false);
		expect(prescriptionNames('Amoxicillin 250 mg', 'Amox')).toBe(false);
		expect(prescriptionNames('Amoxicillin/Clavulanate 625 mg', 'Amoxicillin')).toBe(false);
		expect(prescriptionNames('Codeine-free linctus', 'Codeine')).toBe(false);
		expect(prescriptionNames('Co-amoxiclav', 'Amoxicillin')).toBe(false);
		expect(prescriptionNames('Amoxicillin', 'Amoxicillin 500')).toBe(false);
		expect(prescriptionNames('Amoxicillin', '  ')).toBe(false);
	});
	it('csvCell neutralises formula starts', () => {
		for (const s of ['=1', '+1', '-1', '@1', '\t1', '\r1']) expect(csvCell(s).replace(/^"/, '').startsWith("'")).toBe(true);
	});
});
