import { describe, expect, it } from 'vitest';
import type { Ctx } from '../context';
import type { Caller } from '../actor';
import { tableNames } from './tables';
import { auditEntry, auditPut, hashIp } from './audit';

const ctx = { auditIpKey: Buffer.from('k'.repeat(32)), db: { tables: tableNames('t_') } } as unknown as Ctx;
const doctor: Caller = {
	actor: { id: 'u1', email: 'doc@example.org', name: 'Dr A', role: 'doctor', doctorId: 'd1' },
	requestId: 'req-1',
	ip: '203.0.113.7'
};

describe('audit entries', () => {
	it('names who, what and where from, with the IP only as a keyed hash', () => {
		const e = auditEntry(ctx, doctor, { action: 'update', resourceType: 'appointment', resourceId: 'a1', changedFields: ['status'] });
		expect(e).toMatchObject({
			user: 'doc@example.org',
			user_id: 'u1',
			role: 'doctor',
			action: 'update',
			resource_type: 'appointment',
			resource_id: 'a1',
			resource_key: 'appointment#a1',
			request_id: 'req-1',
			outcome: 'success',
			changed_fields: ['status']
		});
		expect(e.ip_hash).toBe(hashIp(ctx, '203.0.113.7'));
		expect(e.ip_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(e)).not.toContain('203.0.113.7');
		expect(e.log_id.startsWith(`${e.timestamp}#`)).toBe(true);
		expect(e.log_date).toBe(e.timestamp.slice(0, 10));
	});

	it('keeps changed field names once, sorted', () => {
		expect(auditEntry(ctx, doctor, { action: 'update', resourceType: 'x', changedFields: ['b', 'a', 'b'] }).changed_fields).toEqual(['a', 'b']);
	});

	it('an anonymous event names its subject, or says anonymous; no resource is "-"', () => {
		const anon: Caller = { actor: null, requestId: 'r', ip: '::1' };
		expect(auditEntry(ctx, anon, { action: 'login_failed', resourceType: 'session', outcome: 'failure' })).toMatchObject({
			user: '(anonymous)',
			user_id: '(anonymous)',
			role: '(none)',
			resource_id: '-',
			outcome: 'failure'
		});
		expect(
			auditEntry(ctx, anon, { action: 'login_failed', resourceType: 'session', subject: { id: 'u9', email: 'p@example.org', role: 'patient' } })
		).toMatchObject({ user: 'p@example.org', user_id: 'u9', role: 'patient' });
	});

	it('the reason is kept only when given', () => {
		expect(auditEntry(ctx, doctor, { action: 'emergency_access', resourceType: 'patient', reason: 'unconscious' }).reason).toBe('unconscious');
		expect('reason' in auditEntry(ctx, doctor, { action: 'read', resourceType: 'patient' })).toBe(false);
	});

	it('is put once: never over an existing entry', () => {
		const put = auditPut(ctx, doctor, { action: 'read', resourceType: 'patient' });
		expect(put.Put.TableName).toBe('t_audit_logs');
		expect(put.Put.ConditionExpression).toBe('attribute_not_exists(log_id)');
	});
});
