import { Agent, request } from 'node:http';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { Logger } from '../shared/core/logger.js';

/**
 * Delivers a pull subscription to a function server the way Pub/Sub push does in Google Cloud: the
 * push body ({message:{data,attributes,messageId,publishTime},subscription}) POSTed to the endpoint,
 * acked on 2xx, redelivered otherwise (after 1 s, like push's backoff).
 *
 * Why not the emulator's own push: it keeps at most 2 requests in flight per subscription (measured),
 * while production push runs hundreds concurrently; at 2 the group commit never sees a burst and
 * throughput is an emulator artefact. The functions still receive exactly the push envelope.
 */
export function startPushRelay(
  ps: PubSub,
  opts: { project: string; subscription: string; endpoint: string; maxInFlight?: number; logger: Logger; replayShare?: number },
): { close(): Promise<void>; stats: { delivered: number; failed: number; replayed: number } } {
  const stats = { delivered: 0, failed: 0, replayed: 0 };
  // Keep-alive connections, a bounded number: thousands of requests in flight queue here instead of
  // opening thousands of sockets (which fails on a small machine, and push does not do either).
  const agent = new Agent({ keepAlive: true, maxSockets: Math.min(512, opts.maxInFlight ?? 256), timeout: 60_000 });
  const sub: Subscription = ps.subscription(opts.subscription, {
    flowControl: { maxMessages: opts.maxInFlight ?? 256, allowExcessMessages: false },
  });
  const fullName = `projects/${opts.project}/subscriptions/${opts.subscription}`;
  sub.on('message', (m: Message) => {
    const body = JSON.stringify({
      subscription: fullName,
      message: {
        data: m.data.toString('base64'),
        attributes: m.attributes,
        messageId: m.id,
        publishTime: m.publishTime.toISOString(),
        deliveryAttempt: m.deliveryAttempt,
      },
    });
    const post = () => postJson(opts.endpoint, body, agent);
    const postedMs = Date.now();
    post()
      .then(async (res) => {
        if (res.ok) {
          stats.delivered++;
          // Where a delivery's time goes (bench/decision-stages.ts): Pub/Sub → this relay → the function's answer.
          opts.logger.debug('push relay delivered', {
            subscription: opts.subscription,
            message_id: m.id,
            received: m.received - m.publishTime.getTime(),
            posted: postedMs - m.publishTime.getTime(),
            answered: Date.now() - m.publishTime.getTime(),
          });
          m.ack();
          // The chaos run's replays: the same message, same messageId, again after its ack.
          if (opts.replayShare && Math.random() < opts.replayShare) {
            stats.replayed++;
            post().catch(() => undefined);
          }
        } else {
          stats.failed++;
          setTimeout(() => m.nack(), 1000);
        }
      })
      .catch((err: unknown) => {
        stats.failed++;
        opts.logger.warn('push relay: delivery failed', {
          subscription: opts.subscription,
          error: String(err),
          cause: String((err as { cause?: unknown }).cause ?? ''),
        });
        setTimeout(() => m.nack(), 1000);
      });
  });
  sub.on('error', (err: unknown) =>
    opts.logger.error('push relay: subscription error', { subscription: opts.subscription, error: String(err) }),
  );
  return {
    close: async () => {
      await sub.close();
      agent.destroy();
    },
    stats,
  };
}

/** POSTs a JSON body; resolves with whether the answer was 2xx once the answer is read. */
function postJson(endpoint: string, body: string, agent: Agent): Promise<{ ok: boolean; status: number }> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ ok: (res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 300, status: res.statusCode ?? 500 }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
