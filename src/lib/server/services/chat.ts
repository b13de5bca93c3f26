/**
 * Patient–doctor chat, in four units under `chat/`:
 * - `conversations.ts`: one conversation per pair (allowed only with an appointment between
 *   them), who may read or write it, the list;
 * - `messages.ts`: paged history and sending (stored once per clientId, unread kept exact);
 * - `receipts.ts`: delivery and read cursors, typing;
 * - `throttle.ts`: the per-sender rate limit and the offline recipient's SMS/e-mail throttle.
 * Storage is in repositories/conversations.ts, chat-messages.ts, counters.ts and throttles.ts.
 */
export {
	conversationEvent,
	conversationFor,
	conversationIdOf,
	conversationView,
	listConversations,
	openConversation,
	readConversation,
	type ConversationItem
} from './chat/conversations';
export { listMessages, messageView, sendMessage, type ChatMessageItem } from './chat/messages';
export { acknowledge, relayTyping } from './chat/receipts';
