import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp, type TestUser } from '../fixtures/app';
import { auditEntries, getItem } from './helpers';

/** SPEC §5 optimistic concurrency: never last-write-wins, the loser learns who won. */
let app: TestApp;
let editors: TestUser[];
beforeAll(async () => {
	app = await startTestApp();
	editors = [
		await app.userOf('front_desk', { name: 'Fiona Desk' }),
		await app.userOf('admin', { name: 'Adam Admin' }),
		await app.userOf('super_admin', { name: 'Sue Super' }),
		await app.userOf('front_desk', { name: 'Frank Desk' })
	];
});
afterAll(async () => app?.close());

const updates = (pid: string) => auditEntries(app, (e) => e.resource_key === `patient#${pid}` && e.action === 'update');

describe('concurrent saves of one patient record', () => {
	it('two saves of the same version: exactly one 200, the other 409 naming the winner; the stored record is the winner’s', async () => {
		const patient = await app.userOf('patient');
		const pid = patient.patientId!;
		const [a, b] = [editors[0]!, editors[1]!];
		for (let round = 0; round < 5; round++) {
			const version = (await a.api.get(`/api/patients/${pid}`)).body.patient.version as number;
			const changes = [
				{ who: a, body: { version, address: `A-${round} Left Lane`, emergencyContactName: `Alpha Kin ${round}` } },
				{ who: b, body: { version, address: `B-${round} Right Road`, gender: round % 2 ? 'male' : 'female' } }
			];
			const before = await getItem(app, 'patients', { id: pid });
			const results = await Promise.all(changes.map((c) => c.who.api.patch(`/api/patients/${pid}`, c.body)));
			expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
			const w = results.findIndex((r) => r.status === 200);
			const winner = changes[w]!;
			const loser = results[1 - w]!;

			expect(loser.body.error.code).toBe('VERSION_CONFLICT');
			expect(loser.body.error.details).toMatchObject({
				updatedBy: winner.who.name,
				currentVersion: version + 1,
				yourVersion: version,
				updatedAt: results[w]!.body.patient.updatedAt
			});
			expect(loser.body.error.message).toContain(winner.who.name);

			const stored = (await getItem(app, 'patients', { id: pid }))!;
			expect(stored.version).toBe(version + 1);
			expect(stored.updated_by).toBe(winner.who.id);
			expect(stored.address).toBe(winner.body.address);
			if (winner.who === a) {
				expect(stored.emergency_contact_name).toBe(changes[0]!.body.emergencyContactName);
				expect(stored.gender).toBe(before!.gender); // the loser's field never landed
			} else {
				expect(stored.gender).toBe(changes[1]!.body.gender);
				expect(stored.emergency_contact_name).toBe(before!.emergency_contact_name);
			}
		}
		expect(await updates(pid)).toHaveLength(5);
	});

	it('twenty saves of one version: exactly one succeeds, nineteen get 409, the version ends at +1', async () => {
		const patient = await app.userOf('patient');
		const pid = patient.patientId!;
		for (let round = 0; round < 3; round++) {
			const version = (await getItem(app, 'patients', { id: pid }))!.version as number;
			const auditBefore = (await updates(pid)).length;
			const saves = Array.from({ length: 20 }, (_, i) => ({
				who: i % 5 === 4 ? patient : editors[i % editors.length]!,
				body: { version, address: `${round}-${i} Crowded Court` }
			}));
			const results: ApiResponse[] = await Promise.all(saves.map((s) => s.who.api.patch(`/api/patients/${pid}`, s.body)));
			const statuses = results.map((r) => r.status);
			expect(statuses.filter((s) => s === 200), statuses.join(',')).toHaveLength(1);
			expect(statuses.filter((s) => s === 409), statuses.join(',')).toHaveLength(19);
			const w = statuses.indexOf(200);
			const winner = saves[w]!;
			for (const r of results.filter((x) => x.status === 409)) {
				expect(r.body.error.details).toMatchObject({ updatedBy: winner.who.name, currentVersion: version + 1 });
			}
			const stored = (await getItem(app, 'patients', { id: pid }))!;
			expect(stored.version).toBe(version + 1);
			expect(stored.address).toBe(winner.body.address);
			expect(stored.updated_by).toBe(winner.who.id);
			expect((await updates(pid)).length).toBe(auditBefore + 1);
		}
	});
});
