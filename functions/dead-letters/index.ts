import * as ff from '@google-cloud/functions-framework';
import { recordDeadLetter } from '../../shared/dead-letter-sink.js';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/** dead-letters → kept in Firestore until the flush writes the dead_letters table. */
ff.cloudEvent('deadLetters', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  await recordDeadLetter({ store: rt.deadLetters, logger: rt.logger, clock: rt.clock, faults: rt.faults }, decodeCloudEvent(event, rt.clock.now()));
});
