import { describe, expect, it } from 'vitest';
import { messageView, preview, type ChatMessageItem } from './messages';
import { conversationIdOf, otherSide } from './conversations';

const msg = (sortKey: string, from: 'patient' | 'doctor' = 'patient'): ChatMessageItem => ({
	conversation_id: 'c1',
	sort_key: sortKey,
	id: sortKey.split('#')[1]!,
	sender_user_id: from === 'patient' ? 'up' : 'ud',
	sender_role: from,
	sender_name: from === 'patient' ? 'Pat' : 'Dr D',
	text: 'hello',
	created_at: sortKey.split('#')[0]!
});

describe('message receipt status', () => {
	const k1 = '2027-01-01T10:00:00.000Z#a';
	const k2 = '2027-01-01T10:00:01.000Z#b';

	it('is read from the recipient side: sent, delivered, read', () => {
		expect(messageView(msg(k2), {}).status).toBe('sent');
		expect(messageView(msg(k2), { doctor_delivered_upto: k2 }).status).toBe('delivered');
		expect(messageView(msg(k2), { doctor_delivered_upto: k2, doctor_read_upto: k2 }).status).toBe('read');
		// the sender's own cursors say nothing about the recipient
		expect(messageView(msg(k2), { patient_read_upto: k2 }).status).toBe('sent');
	});

	it('a cursor before the message leaves it unreceived; one past it covers it', () => {
		expect(messageView(msg(k2), { doctor_read_upto: k1 }).status).toBe('sent');
		expect(messageView(msg(k1, 'doctor'), { patient_read_upto: k2 }).status).toBe('read');
	});

	it('reading implies delivery even without a delivered cursor', () => {
		expect(messageView(msg(k1), { doctor_read_upto: k1 }).status).toBe('read');
	});
});

describe('chat helpers', () => {
	it('previews at most 140 characters, counting code points, with an ellipsis', () => {
		expect(preview('short')).toBe('short');
		expect(preview('x'.repeat(140))).toBe('x'.repeat(140));
		expect(preview('x'.repeat(141))).toBe(`${'x'.repeat(139)}…`);
		const emoji = '😀'.repeat(141);
		expect([...preview(emoji)]).toHaveLength(140);
	});

	it('gives a pair one conversation id, whoever opens it', () => {
		expect(conversationIdOf('p1', 'd1')).toBe(conversationIdOf('p1', 'd1'));
		expect(conversationIdOf('p1', 'd1')).not.toBe(conversationIdOf('d1', 'p1'));
		expect(conversationIdOf('p1', 'd1')).toMatch(/^c_[0-9a-f]{40}$/);
		expect(otherSide('patient')).toBe('doctor');
		expect(otherSide('doctor')).toBe('patient');
	});
});
