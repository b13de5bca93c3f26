/**
 * Every outbound SMS or e-mail is first an `outbox` row, written in the same transaction
 * as the change that caused it (`outboxPut`, built in repositories/outbox.ts); a worker
 * delivers it later with retries (`services/delivery.ts`). Nothing is sent from a request
 * path, so nothing is lost when SNS is slow or absent.
 */
export { outboxPut, type OutboxMessage } from '../repositories/outbox';
