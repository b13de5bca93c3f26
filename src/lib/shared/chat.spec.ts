import { describe, expect, it } from 'vitest';
import { chatMessageInput, chatSortKey, CHAT_MAX_CHARS } from './chat';

describe('chat message input', () => {
	const clientId = '6f1c1b1e-0d2b-4c8a-9b55-3f1f2a1b9c0d';

	it('trims the text and keeps markup as it is', () => {
		const r = chatMessageInput.parse({ clientId, text: '  <b>hi</b>\n' });
		expect(r.text).toBe('<b>hi</b>');
	});

	it('refuses empty and whitespace-only text', () => {
		for (const text of ['', ' \n\t ']) expect(chatMessageInput.safeParse({ clientId, text }).success).toBe(false);
	});

	it('counts characters, not UTF-16 units: 4,000 emoji pass, 4,001 letters do not', () => {
		expect(chatMessageInput.safeParse({ clientId, text: '🩺'.repeat(CHAT_MAX_CHARS) }).success).toBe(true);
		expect(chatMessageInput.safeParse({ clientId, text: 'a'.repeat(CHAT_MAX_CHARS + 1) }).success).toBe(false);
	});

	it('needs a UUID clientId and nothing else', () => {
		expect(chatMessageInput.safeParse({ clientId: 'abc', text: 'hi' }).success).toBe(false);
		expect(chatMessageInput.safeParse({ clientId, text: 'hi', html: true }).success).toBe(false);
	});

	it('a receipt cursor is a message sortKey', () => {
		expect(chatSortKey.safeParse(`2026-11-23T10:00:00.000Z#${clientId}`).success).toBe(true);
		expect(chatSortKey.safeParse('9999').success).toBe(false);
	});
});
