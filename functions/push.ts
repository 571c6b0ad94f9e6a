import * as ff from '@google-cloud/functions-framework';
import { decodePushRequest, NotAPushRequest, type InboundMessage } from '../shared/core/pubsub-message.js';
import { runtime, type Handler, type Runtime } from '../shared/runtime.js';

/**
 * Registers a function that Pub/Sub push subscriptions deliver to (HTTP, see terraform/pubsub.tf), served
 * by the runtime's handler that `handler` names (shared/runtime.ts builds it on first use). The handler
 * resolving acks the message (204); throwing is a transient failure (500: Pub/Sub retries with backoff,
 * then dead-letters); a request that is not a Pub/Sub delivery at all is refused (400).
 */
export function pushFunction(name: string, handler: (rt: Runtime) => Handler): void {
  ff.http(name, async (req, res) => {
    let msg: InboundMessage;
    try {
      msg = decodePushRequest(req.headers, req.body, runtime().clock.now());
    } catch (err) {
      if (!(err instanceof NotAPushRequest)) throw err;
      res.status(400).send(err.message);
      return;
    }
    try {
      await handler(runtime()).handle(msg);
      res.status(204).end();
    } catch (err) {
      runtime().logger.error('delivery failed; Pub/Sub will retry it', {
        function: name,
        message_id: msg.messageId,
        error: String((err as Error)?.stack ?? err),
      });
      res.status(500).end();
    }
  });
}
