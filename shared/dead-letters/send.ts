import type { Clock } from '../core/clock.js';
import type { Faults } from '../core/faults.js';
import type { Logger } from '../core/logger.js';
import type { Publisher } from '../core/publisher.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import type { Rejection } from '../core/rejection.js';
import { buildDeadLetter, type DeadLetter } from './dead-letter.js';

/** What sending a dead letter needs: every function that rejects input has it. */
export interface DeadLetterSending {
  config: { topics: { deadLetters: string } };
  publisher: Publisher;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}

/** Publishes a rejected message to the dead-letters topic; a failure throws, so the message is retried. */
export async function sendToDeadLetters(
  deps: DeadLetterSending,
  source: string,
  msg: InboundMessage,
  rejection: Rejection,
): Promise<DeadLetter> {
  const dl = buildDeadLetter(source, msg, rejection, deps.clock.now());
  deps.faults.check('deadLetter.beforePublish');
  await deps.publisher.publish(deps.config.topics.deadLetters, Buffer.from(JSON.stringify(dl)), {
    dead_letter_id: dl.dead_letter_id,
    source,
    reason: dl.reason,
    // The same on every publish of this dead letter (late events included): consumers drop repeats by it.
    event_id: dl.dead_letter_id,
  });
  deps.logger.warn('message dead-lettered', {
    source,
    reason: dl.reason,
    error: dl.error,
    message_id: msg.messageId,
    dead_letter_id: dl.dead_letter_id,
  });
  return dl;
}
