import { describe, expect, it } from 'vitest';
import { doctorAddress, doctorGreeting, greeting } from './format';

const morning = new Date(2026, 10, 24, 9, 30);

describe('greetings', () => {
	it('a doctor stored with "Dr." is greeted by the family name, not by the title', () => {
		expect(doctorGreeting('Dr. Amara Okafor', morning)).toBe('Good morning, Dr. Okafor');
	});

	it('a doctor stored without a title gets one, with the family name', () => {
		expect(doctorAddress('Amara Okafor')).toBe('Dr. Okafor');
		expect(doctorAddress('  Okafor ')).toBe('Dr. Okafor');
		expect(doctorAddress('Dr Okafor')).toBe('Dr. Okafor');
		expect(doctorAddress('doctor Chen Wei Lin')).toBe('Dr. Lin');
	});

	it('a name that is only a title leaves a plain "Doctor", never "Dr. Dr."', () => {
		expect(doctorAddress('Dr.')).toBe('Doctor');
		expect(doctorGreeting('', morning)).toBe('Good morning, Doctor');
	});

	it('everyone else is greeted by their given name, skipping a title', () => {
		expect(greeting('Asha Rao', morning)).toBe('Good morning, Asha');
		expect(greeting('Dr. Asha Rao', new Date(2026, 10, 24, 14))).toBe('Good afternoon, Asha');
		expect(greeting('', new Date(2026, 10, 24, 20))).toBe('Good evening');
	});
});
