import { deadLetter, type DeadLetter } from '../contracts/dead-letter.js';
import { buildDeadLetter } from './dead-letter.js';
import { Rejection } from '../core/rejection.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import type { Faults } from '../core/faults.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { decodeJsonObject } from '../core/payload.js';

/**
 * Consumes the dead-letters topic and keeps each dead letter for the flush to export. Two kinds arrive:
 * our own envelopes, and raw messages that a subscription's dead-letter policy forwarded after too many
 * failed deliveries (those are wrapped with reason delivery_attempts_exhausted, payload untouched).
 */
export async function recordDeadLetter(
  deps: { store: { save(dl: DeadLetter): Promise<void> }; logger: Logger; clock: Clock; faults: Faults },
  msg: InboundMessage,
): Promise<DeadLetter> {
  let dl: DeadLetter;
  // No size limit: our envelope carries a payload that was itself up to the limit. Anything else is not ours: wrapped below.
  const parsed = decodeJsonObject(msg, Number.POSITIVE_INFINITY);
  const ours = msg.attributes['dead_letter_id'] && !(parsed instanceof Rejection) ? deadLetter.safeParse(parsed) : null;
  if (ours?.success) {
    dl = ours.data;
  } else {
    const source = msg.attributes['CloudPubSubDeadLetterSourceSubscription'] ?? msg.attributes['source'] ?? 'unknown';
    dl = buildDeadLetter(
      source,
      msg,
      new Rejection(
        'delivery_attempts_exhausted',
        `forwarded by Pub/Sub after ${msg.attributes['CloudPubSubDeadLetterSourceDeliveryCount'] ?? 'too many'} failed deliveries`,
      ),
      deps.clock.now(),
    );
  }
  deps.faults.check('deadLetterSink.beforeWrite');
  await deps.store.save(dl);
  deps.logger.info('dead letter recorded', { dead_letter_id: dl.dead_letter_id, source: dl.source, reason: dl.reason });
  return dl;
}
