import { describe, expect, it } from 'vitest';
import { BLOOD_GROUPS, PLASMA_DONORS, RED_CELL_DONORS, compatibleDonors, eligibleFrom, expiryOf, type BloodGroup } from './blood';

/** The compatibility tables checked against the rule they write out, group by group. */
const abo = (g: BloodGroup) => g.replace(/[+-]$/, '');
const antigens = (g: BloodGroup) => new Set(abo(g) === 'O' ? [] : abo(g).split(''));
const rhPositive = (g: BloodGroup) => g.endsWith('+');

// Red cells: the donor's cells carry no ABO antigen the recipient lacks; Rh- recipients take Rh- only.
const redCellRule = (recipient: BloodGroup, donor: BloodGroup) =>
	[...antigens(donor)].every((a) => antigens(recipient).has(a)) && (rhPositive(recipient) || !rhPositive(donor));
// Plasma: the donor's plasma has no antibody against the recipient's antigens, i.e. the donor
// carries every ABO antigen the recipient has; Rh does not matter.
const plasmaRule = (recipient: BloodGroup, donor: BloodGroup) => [...antigens(recipient)].every((a) => antigens(donor).has(a));

describe('blood compatibility', () => {
	for (const recipient of BLOOD_GROUPS) {
		it(`${recipient}: the red-cell and plasma tables follow the ABO/Rh rules, identical group first`, () => {
			expect([...RED_CELL_DONORS[recipient]].sort()).toEqual(BLOOD_GROUPS.filter((d) => redCellRule(recipient, d)).sort());
			expect([...PLASMA_DONORS[recipient]].sort()).toEqual(BLOOD_GROUPS.filter((d) => plasmaRule(recipient, d)).sort());
			expect(RED_CELL_DONORS[recipient][0]).toBe(recipient);
			expect(PLASMA_DONORS[recipient][0]).toBe(recipient);
		});
	}

	it('O- red cells go to anyone; AB+ takes red cells from anyone; AB plasma goes to anyone', () => {
		for (const g of BLOOD_GROUPS) {
			expect(compatibleDonors(g, 'red_cells')).toContain('O-');
			expect(compatibleDonors(g, 'plasma')).toContain('AB+');
		}
		expect(compatibleDonors('AB+', 'whole_blood')).toHaveLength(8);
		expect(compatibleDonors('O-', 'red_cells')).toEqual(['O-']);
		expect(compatibleDonors('O+', 'plasma')).toHaveLength(8);
	});

	it('platelets are matched as red cells (documented simplification)', () => {
		for (const g of BLOOD_GROUPS) expect(compatibleDonors(g, 'platelets')).toEqual(compatibleDonors(g, 'red_cells'));
	});
});

describe('dates', () => {
	it('expiry is collection plus shelf life', () => {
		expect(expiryOf('whole_blood', '2026-01-01T10:00:00.000Z')).toBe('2026-02-05T10:00:00.000Z');
		expect(expiryOf('red_cells', '2026-01-01T10:00:00.000Z')).toBe('2026-02-12T10:00:00.000Z');
		expect(expiryOf('platelets', '2026-01-01T10:00:00.000Z')).toBe('2026-01-06T10:00:00.000Z');
		expect(expiryOf('plasma', '2026-01-01T10:00:00.000Z')).toBe('2027-01-01T10:00:00.000Z');
	});
	it('a donor may give again 90 days after the last donation', () => {
		expect(eligibleFrom('2026-01-01')).toBe('2026-04-01');
	});
});
