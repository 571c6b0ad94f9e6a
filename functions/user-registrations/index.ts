import * as ff from '@google-cloud/functions-framework';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';
import { handleRegistrations } from '../../shared/windows/users.js';

/** user-registrations (randomuser.me responses) → one users row per result (through the flush). */
ff.cloudEvent('userRegistrations', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  await handleRegistrations({ ...rt.windowDeps, users: rt.users }, decodeCloudEvent(event, rt.clock.now()));
});
