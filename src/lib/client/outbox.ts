import type { Tone } from './appointments';

/** The outbox as `GET /api/admin/outbox` shows it (see services/delivery.ts). */
export { OUTBOX_STATUSES, type OutboxStatus, type OutboxEntryView as OutboxEntry } from '$lib/shared/views';
import type { OutboxStatus } from '$lib/shared/views';

export const OUTBOX_STATUS_LABEL: Record<OutboxStatus, string> = {
	pending: 'Pending',
	sending: 'Sending',
	sent: 'Sent',
	logged: 'Logged (no SNS)',
	dead: 'Dead',
	skipped: 'Skipped'
};

export const OUTBOX_STATUS_HELP: Record<OutboxStatus, string> = {
	pending: 'waiting for its next attempt',
	sending: 'a worker is publishing it now',
	sent: 'accepted by SNS',
	logged: 'no SNS topic is configured: kept here as it would have been sent',
	dead: 'gave up after the last attempt; can be retried',
	skipped: 'not sent: the person turned e-mail notifications off'
};

export const OUTBOX_STATUS_TONE: Record<OutboxStatus, Tone> = {
	pending: 'accent',
	sending: 'warning',
	sent: 'success',
	logged: 'neutral',
	dead: 'danger',
	skipped: 'neutral'
};
