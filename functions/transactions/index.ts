import * as ff from '@google-cloud/functions-framework';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/** transactions → 30-second windows over all transactions → transaction_windows (through the flush). */
ff.cloudEvent('transactions', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  await rt.transactions.handle(decodeCloudEvent(event, rt.clock.now()));
});
