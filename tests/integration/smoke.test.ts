import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../fixtures/app';

let app: TestApp;
beforeAll(async () => {
	app = await startTestApp();
});
afterAll(async () => app?.close());

describe('smoke', () => {
	it('health answers 200 with the database reachable', async () => {
		const res = await app.client().get('/api/health');
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ status: 'ok' });
	});

	it('a patient registers, reads and edits their own record', async () => {
		const c = app.client();
		const reg = await c.post('/api/auth/register', {
			name: 'Asha Patel',
			email: 'asha@example.org',
			phone: '+12025550000',
			dateOfBirth: '1990-02-03',
			bloodGroup: 'A+',
			password: 'Sup3r$ecret'
		});
		expect(reg.status).toBe(201);
		const pid = reg.body.user.patientId;
		const p = await c.get(`/api/patients/${pid}`);
		expect(p.status).toBe(200);
		expect(p.body.patient.version).toBe(1);
		const up = await c.patch(`/api/patients/${pid}`, { version: 1, address: '1 Main St' });
		expect(up.status).toBe(200);
		expect(up.body.patient.version).toBe(2);
		const stale = await c.patch(`/api/patients/${pid}`, { version: 1, address: '2 Main St' });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe('VERSION_CONFLICT');
		expect(stale.body.error.details.updatedBy).toBe('Asha Patel');
	});
});
