import * as ff from '@google-cloud/functions-framework';
import { runFlush } from '../../shared/flush.js';
import type { MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/** flush-ticks (Cloud Scheduler) → close expired passages, export to the warehouse. */
ff.cloudEvent('flush', async (_event: ff.CloudEvent<MessagePublishedData>) => {
  await runFlush(runtime().flushDeps);
});
