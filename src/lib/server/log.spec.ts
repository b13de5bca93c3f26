import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED_KEYS } from './log';

function capture(level: Parameters<typeof createLogger>[0] = 'debug', base: Record<string, unknown> = { service: 'medtrack' }) {
	const lines: string[] = [];
	const log = createLogger(level, base, (l) => lines.push(l));
	return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log', () => {
	it('writes one JSON line an event: level name, ISO time, base fields, the fields and the message', () => {
		const { log, lines, parsed } = capture();
		log.info('request', { requestId: 'r-1', status: 200, ms: 1.5 });
		expect(lines).toHaveLength(1);
		expect(lines[0]).not.toContain('\n');
		const [e] = parsed();
		expect(e).toMatchObject({ level: 'info', service: 'medtrack', requestId: 'r-1', status: 200, ms: 1.5, msg: 'request' });
		expect(new Date(e!.time as string).toISOString()).toBe(e!.time);
		expect(e).not.toHaveProperty('pid');
		expect(e).not.toHaveProperty('hostname');
	});

	it('drops what is below the level; silent writes nothing', () => {
		const warn = capture('warn');
		warn.log.debug('d');
		warn.log.info('i');
		warn.log.warn('w');
		warn.log.error('e');
		expect(warn.parsed().map((e) => e.level)).toEqual(['warn', 'error']);
		const silent = capture('silent');
		silent.log.error('e');
		expect(silent.lines).toEqual([]);
	});

	it('child loggers add their fields to every line', () => {
		const { log, parsed } = capture();
		log.child({ job: 'reminders' }).child({ workerId: 'w-1' }).warn('beat failed', { error: 'TimeoutError' });
		expect(parsed()[0]).toMatchObject({ service: 'medtrack', job: 'reminders', workerId: 'w-1', error: 'TimeoutError', msg: 'beat failed' });
	});

	it('no identity, health value or secret reaches a line, at the top level, one level down or in a child', () => {
		const { log, lines, parsed } = capture();
		const phi = {
			name: 'Ada Lovelace',
			email: 'ada@example.org',
			phone: '+12025550123',
			password: 'Corr3ct-Horse!',
			token: 'tok_secret_value',
			dateOfBirth: '1815-12-10',
			date_of_birth: '1815-12-10',
			symptoms: 'chest pain',
			notes: 'history of angina',
			diagnosis: 'angina',
			allergies: ['penicillin'],
			vitals: { bp: '150/95' },
			cookie: 'medtrack_session=abc',
			authorization: 'Bearer abc'
		};
		log.info('top', { patientId: 'p-1', ...phi });
		log.info('nested', { patient: { id: 'p-1', ...phi } });
		log.child({ email: 'ada@example.org', userId: 'u-1' }).info('child');
		const text = lines.join('\n');
		for (const secret of ['Ada', 'ada@example.org', '2025550123', 'Corr3ct', 'tok_secret', '1815', 'chest', 'angina', 'penicillin', '150/95', 'abc']) {
			expect(text).not.toContain(secret);
		}
		const [top, nested, child] = parsed();
		expect(top).toMatchObject({ patientId: 'p-1', name: '[redacted]', phone: '[redacted]' });
		expect(nested!.patient).toMatchObject({ id: 'p-1', email: '[redacted]', vitals: '[redacted]' });
		expect(child).toMatchObject({ userId: 'u-1', email: '[redacted]' });
		expect(REDACTED_KEYS.length).toBeGreaterThan(10);
	});

	it('a circular value does not throw in the request path', () => {
		const { log, parsed } = capture();
		const a: Record<string, unknown> = { id: 'x' };
		a.self = a;
		expect(() => log.error('odd', { a })).not.toThrow();
		expect(parsed()[0]!.msg).toBe('odd');
	});
});
