import * as ff from '@google-cloud/functions-framework';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/** vehicle-observations → parse, passage state, decision (non-fined-vehicles / speeding-vehicles). */
ff.cloudEvent('vehicleObservations', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  await rt.speedCheck.handle(decodeCloudEvent(event, rt.clock.now()));
});
