import type { Clock } from '../core/clock.js';
import type { Faults } from '../core/faults.js';
import type { Logger } from '../core/logger.js';
import type { Publisher } from '../core/publisher.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import type { Rejection } from '../core/rejection.js';
import { deadLetterAttributes, type DeadLetter } from '../contracts/dead-letter.js';
import { buildDeadLetter } from './dead-letter.js';
import type { Topics } from '../contracts/topics.js';

/** What sending a dead letter needs: every function that rejects input has it. */
export interface DeadLetterSending {
  config: { topics: Pick<Topics, 'deadLetters'> };
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
  // event_id: the same on every publish of this dead letter (late events included), so consumers drop repeats by it.
  await deps.publisher.publish(deps.config.topics.deadLetters, Buffer.from(JSON.stringify(dl)), deadLetterAttributes(dl));
  deps.logger.warn('message dead-lettered', {
    source,
    reason: dl.reason,
    error: dl.error,
    message_id: msg.messageId,
    dead_letter_id: dl.dead_letter_id,
  });
  return dl;
}
