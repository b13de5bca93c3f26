import { describe, expect, it } from 'vitest';
import { applyConversationEvent, mergeByRev } from './chat.svelte';
import type { ConversationEvent, ConversationView } from '$lib/shared/chat';

/** The conversation list's rule: a row changes only for a newer rev, from an event or a fetch. */
const row = (id: string, rev: number, unread: number): ConversationView => ({
	id,
	patientId: 'p',
	patientName: 'P',
	patientUserId: 'pu',
	doctorId: 'd',
	doctorName: 'D',
	doctorUserId: 'du',
	you: 'doctor',
	withName: 'P',
	withUserId: 'pu',
	createdAt: '2026-12-01T08:00:00.000Z',
	lastMessageAt: '2026-12-01T09:00:00.000Z',
	lastMessagePreview: 'hi',
	unread,
	rev,
	readUpTo: { patient: null, doctor: null },
	deliveredUpTo: { patient: null, doctor: null }
});
const event = (rev: number, unread: number): ConversationEvent => ({
	conversationId: 'c',
	lastMessageAt: `2026-12-01T09:00:${String(rev).padStart(2, '0')}.000Z`,
	lastMessagePreview: `message ${rev}`,
	unread,
	rev
});

describe('conversation rows by rev', () => {
	it('an event with a rev not newer than the row is not applied; a newer one replaces count and preview', () => {
		const held = row('c', 7, 3);
		expect(applyConversationEvent(held, event(6, 5))).toBeNull();
		expect(applyConversationEvent(held, event(7, 5))).toBeNull();
		expect(applyConversationEvent(held, event(8, 0))).toMatchObject({ unread: 0, rev: 8, lastMessagePreview: 'message 8' });
		expect(applyConversationEvent(row('other', 1, 0), event(8, 0))).toBeNull();
	});

	it('events applied in any order end on the newest one', () => {
		const events = [event(2, 1), event(3, 2), event(4, 0), event(5, 1), event(6, 2)];
		for (let round = 0; round < 50; round++) {
			let held = row('c', 1, 0);
			for (const e of [...events].sort(() => Math.random() - 0.5)) held = applyConversationEvent(held, e) ?? held;
			expect(held).toMatchObject({ unread: 2, rev: 6 });
		}
	});

	it('a fetched list replaces rows it has newer or equal copies of, keeps rows held at a higher rev, and adds new ones', () => {
		const merged = mergeByRev([row('a', 5, 2), row('b', 3, 1)], [row('a', 4, 9), row('b', 3, 0), row('c', 1, 1)]);
		expect(merged.map((c) => [c.id, c.rev, c.unread])).toEqual([
			['a', 5, 2],
			['b', 3, 0],
			['c', 1, 1]
		]);
	});
});
