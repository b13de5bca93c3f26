import type { Tone } from './appointments';

/** The outbox as `GET /api/admin/outbox` shows it (see services/delivery.ts). */
export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'logged', 'dead', 'skipped'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export type OutboxEntry = {
	id: string;
	kind: string;
	channel: 'sms' | 'email';
	/** Masked; "(current contact of the user)" when the worker reads it at delivery. */
	recipient: string | null;
	userId: string;
	relatedId: string | null;
	status: OutboxStatus;
	attempts: number;
	lastError: string | null;
	subject: string | null;
	body: string;
	createdAt: string;
	nextAttemptAt: string | null;
	sentAt: string | null;
};

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
