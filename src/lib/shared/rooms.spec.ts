import { describe, expect, it } from 'vitest';
import { parseRoom, RECORD_TYPES, room, roomName, slotsRoom, type ParsedRoom } from './rooms';
import { slotsRoom as slotsRoomFromRealtime } from './realtime';

const uuid = '0b0f4c1e-6a55-4d8e-9d67-3f8d7f1f2a10';

describe('room names', () => {
	it('are the names SPEC §6 gives', () => {
		expect(room.user(uuid)).toBe(`user:${uuid}`);
		expect(room.session('abc')).toBe('session:abc');
		expect(room.role('admin')).toBe('role:admin');
		expect(room.record('medical_record', `mr_${uuid}`)).toBe(`record:medical_record:mr_${uuid}`);
		expect(room.doctorQueue('d1')).toBe('doctor-queue:d1');
		expect(room.board('2027-03-14')).toBe('board:2027-03-14');
		expect(room.slots('2027-03-14')).toBe('slots:2027-03-14');
		expect(room.chat('c_0123abcd')).toBe('chat:c_0123abcd');
		expect(room.appointment(uuid)).toBe(`appointment:${uuid}`);
		expect(slotsRoom).toBe(room.slots);
		expect(slotsRoomFromRealtime).toBe(room.slots);
	});

	const every: ParsedRoom[] = [
		{ kind: 'user', userId: uuid },
		{ kind: 'session', sessionId: 'a'.repeat(64) },
		{ kind: 'role', role: 'admin' },
		...RECORD_TYPES.map((type) => ({ kind: 'record' as const, type, id: `x_${type}` })),
		{ kind: 'doctor-queue', doctorId: uuid },
		{ kind: 'board', date: '2028-02-29' },
		{ kind: 'slots', date: '2027-03-14' },
		{ kind: 'chat', conversationId: 'c_0123456789abcdef' },
		{ kind: 'appointment', appointmentId: uuid },
		{ kind: 'hospital', hospitalId: uuid },
		{ kind: 'hospital-alerts', hospitalId: uuid },
		{ kind: 'dept', hospitalId: uuid, department: 'intensive-care' }
	];

	it('department rooms are per hospital, the department named by slug', () => {
		expect(room.dept('h_a', '  Intensive  Care ')).toBe('dept:h_a:intensive-care');
		expect(room.dept('h_a', 'Emergency')).toBe('dept:h_a:emergency');
		expect(room.dept('h_b', 'Emergency')).not.toBe(room.dept('h_a', 'Emergency'));
		expect(parseRoom('dept:h_a:emergency')).toEqual({ kind: 'dept', hospitalId: 'h_a', department: 'emergency' });
		// the old site-less name, a bad slug, a bad hospital id, extra parts
		expect(parseRoom('dept:emergency')).toBeNull();
		expect(parseRoom('dept:h_a:Emergency')).toBeNull();
		expect(parseRoom('dept:h_a:a--b')).toBeNull();
		expect(parseRoom('dept::emergency')).toBeNull();
		expect(parseRoom('dept:h a:emergency')).toBeNull();
		expect(parseRoom('dept:h_a:emergency:x')).toBeNull();
		expect(parseRoom('hospital:a:b')).toBeNull();
	});

	it.each(every.map((r) => [roomName(r), r] as const))('%s parses back to what built it', (name, r) => {
		expect(parseRoom(name)).toEqual(r);
		expect(roomName(parseRoom(name)!)).toBe(name);
	});

	it.each([
		// unknown kinds and roles
		'role:doctor',
		'role:super_admin',
		'admin',
		'',
		'user',
		// missing, blank or extra parts
		'user:',
		`user:${uuid}:extra`,
		'record:patient',
		'record:patient:',
		'record:patient:p1:more',
		'record:invoice:i1',
		'record::p1',
		'doctor-queue:',
		'chat:',
		'chat:c1:c2',
		'appointment:a:b',
		'session:',
		// ids that are not ids
		'user:a b',
		'user:a/b',
		'user:é',
		`user:${'x'.repeat(65)}`,
		'record:patient:<script>',
		'doctor-queue:d1\n',
		// dates that are not real dates
		'board:today',
		'board:2027-02-30',
		'slots:2027-13-01',
		'slots:27-03-14',
		'slots:2027-03-14T00:00',
		'slots:2027-03-14:extra',
		'slots:',
		'slots',
		// case matters
		'User:u1',
		'RECORD:patient:p1'
	])('refuses the forged or malformed name %j', (name) => {
		expect(parseRoom(name)).toBeNull();
	});

	it('refuses what is not a string, or too long to be a room', () => {
		for (const v of [42, null, undefined, {}, ['user:u1'], { room: 'user:u1' }]) expect(parseRoom(v)).toBeNull();
		expect(parseRoom(`user:${'x'.repeat(400)}`)).toBeNull();
	});
});
