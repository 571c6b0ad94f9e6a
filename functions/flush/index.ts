import * as ff from '@google-cloud/functions-framework';
import { runFlush, runUntilForTick } from '../../shared/flush.js';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/**
 * flush-ticks (Cloud Scheduler) → close expired passages, export to the warehouse; while windows are
 * open, keep exporting each as it falls due until the next tick (the tick's publish time + the period).
 */
ff.cloudEvent('flush', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  const tick = decodeCloudEvent(event, rt.clock.now());
  await runFlush(rt.flushDeps, undefined, { runUntilMs: runUntilForTick(tick.publishTimeMs, rt.config.flushPeriodMs) });
});
