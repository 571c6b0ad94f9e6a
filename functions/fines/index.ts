import * as ff from '@google-cloud/functions-framework';
import { issueFine } from '../../shared/fine.js';
import { decodeCloudEvent, type MessagePublishedData } from '../../shared/pubsub-message.js';
import { runtime } from '../../shared/runtime.js';

/** speeding-vehicles → photo, plate OCR, analysed photo (evidence bucket), fine record, fine-notifications. */
ff.cloudEvent('fines', async (event: ff.CloudEvent<MessagePublishedData>) => {
  const rt = runtime();
  await issueFine(rt.fineDeps, decodeCloudEvent(event, rt.clock.now()));
});
