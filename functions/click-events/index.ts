import * as ff from '@google-cloud/functions-framework';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/** click-events (GA4 rows) → per-user one-minute windows → user_event_counts (through the flush). */
ff.cloudEvent('clickEvents', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  await rt.clicks.handle(decodeCloudEvent(event, rt.clock.now()));
});
