import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
import type { Ctx } from './context';

/**
 * Amazon SNS, the outbox's transport: SMS straight to a phone number, e-mail through the
 * topic (subscriptions filter on the message attributes). One client per context.
 */

/** What publishes one message; SNS in production, a local SNS-compatible endpoint in tests. */
export type Publisher = (input: {
	id: string;
	channel: 'sms' | 'email';
	to: string;
	subject?: string;
	body: string;
	attributes: Record<string, string>;
}) => Promise<{ messageId: string | undefined }>;

const publishers = new WeakMap<Ctx, Publisher | null>();

/** The SNS publisher of this context, or null for the "outbox only" transport. */
export function snsPublisher(ctx: Ctx): Publisher | null {
	const cached = publishers.get(ctx);
	if (cached !== undefined) return cached;
	const { topicArn, endpoint, region } = ctx.config.sns;
	let publisher: Publisher | null = null;
	if (topicArn) {
		const client = new SNSClient({
			region,
			endpoint,
			// The outbox retries with its own backoff and dead-letter state; SDK retries would hide failures.
			maxAttempts: 1,
			...(endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {})
		});
		const fifo = topicArn.endsWith('.fifo');
		const attr = (v: string): MessageAttributeValue => ({ DataType: 'String', StringValue: v });
		publisher = async (m) => {
			const res = await client.send(
				m.channel === 'sms'
					? new PublishCommand({
							PhoneNumber: m.to,
							Message: m.body,
							MessageAttributes: { 'AWS.SNS.SMS.SMSType': attr('Transactional') }
						})
					: new PublishCommand({
							TopicArn: topicArn,
							Subject: (m.subject ?? 'MedTrack').slice(0, 100),
							Message: m.body,
							// Subscription filter policies route on these (e.g. { "channel": ["email"] }).
							MessageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, attr(v)])),
							...(fifo ? { MessageDeduplicationId: m.id, MessageGroupId: m.attributes.user_id ?? 'medtrack' } : {})
						})
			);
			return { messageId: res.MessageId };
		};
	}
	publishers.set(ctx, publisher);
	return publisher;
}
