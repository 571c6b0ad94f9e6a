import { describe, expect, it } from 'vitest';
import { pushFunction } from '../../../functions/push.js';
import type { InboundMessage } from '../../../shared/core/pubsub-message.js';
import { setRuntime, type Runtime } from '../../../shared/runtime.js';
import { useFunctionServer } from '../../support/function-server.js';

/**
 * What reaches a function in Google Cloud: a push subscription POSTs its push body (Pub/Sub's documented
 * shape, with message_id/publish_time twins, deliveryAttempt and subscription) to the function's URL.
 * The function is registered as pushFunction registers the real ones, served by the functions-framework.
 */
const received: InboundMessage[] = [];
const logged: unknown[] = [];
let fail = false;
const server = useFunctionServer('pushProbe', () => {
  setRuntime({
    clock: { now: () => Date.parse('2026-11-22T12:00:00Z') },
    logger: { debug() {}, info() {}, warn() {}, error: (m: string, f: unknown) => logged.push([m, f]) },
  } as unknown as Runtime);
  pushFunction('pushProbe', () => ({
    handle: async (msg) => {
      if (fail) throw new Error('transient');
      received.push(msg);
    },
  }));
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  received.length = 0;
  const res = await fetch(`${server.base()}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
};

const pushBody = (message: Record<string, unknown>) => ({
  message,
  subscription: 'projects/my-proj/subscriptions/speedcam-vehicle-observations',
  deliveryAttempt: 3,
});
const full = {
  data: Buffer.from('{"vehicle_id":"aB3xY9","speed":57.31,"location":[40.7638,-73.9729]}').toString('base64'),
  attributes: { radar_id: 'r1' },
  messageId: '4242',
  message_id: '4242',
  publishTime: '2026-11-22T11:59:59.123Z',
  publish_time: '2026-11-22T11:59:59.123Z',
};

describe('a push delivery reaching a function', () => {
  it('at the endpoint path the subscriptions use (/projects/P/topics/T): payload, attributes, id and publish time', async () => {
    expect(await post('/projects/my-proj/topics/vehicle-observations', pushBody(full))).toBe(204);
    expect(received).toEqual([
      {
        data: Buffer.from('{"vehicle_id":"aB3xY9","speed":57.31,"location":[40.7638,-73.9729]}'),
        attributes: { radar_id: 'r1' },
        messageId: '4242',
        publishTimeMs: Date.parse('2026-11-22T11:59:59.123Z'),
      },
    ]);
  });

  it('at the root path too', async () => {
    expect(await post('/', pushBody(full))).toBe(204);
    expect(received.map((m) => m.messageId)).toEqual(['4242']);
  });

  it("an attributes-only message (no data) keeps its attributes and id (the framework's own conversion drops them)", async () => {
    expect(
      await post(
        '/projects/my-proj/topics/dead-letters',
        pushBody({
          attributes: { CloudPubSubDeadLetterSourceDeliveryCount: '20' },
          messageId: '77',
          message_id: '77',
          publishTime: '2026-11-22T11:00:00Z',
        }),
      ),
    ).toBe(204);
    expect(received).toEqual([
      {
        data: Buffer.alloc(0),
        attributes: { CloudPubSubDeadLetterSourceDeliveryCount: '20' },
        messageId: '77',
        publishTimeMs: Date.parse('2026-11-22T11:00:00Z'),
      },
    ]);
  });

  it('only the snake_case twins (message_id, publish_time)', async () => {
    expect(await post('/projects/p/topics/t', pushBody({ data: 'e30=', message_id: '88', publish_time: '2026-11-22T10:00:00Z' }))).toBe(
      204,
    );
    expect(received.map((m) => [m.messageId, m.publishTimeMs])).toEqual([['88', Date.parse('2026-11-22T10:00:00Z')]]);
  });

  it('a binary-mode CloudEvent (Eventarc) and a structured one', async () => {
    const data = { message: { data: 'e30=', attributes: { a: 'b' } }, subscription: 'projects/p/subscriptions/eventarc-x' };
    expect(
      await post('/', data, {
        'ce-id': '99',
        'ce-time': '2026-11-22T09:00:00Z',
        'ce-specversion': '1.0',
        'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
        'ce-source': '//pubsub.googleapis.com/projects/p/topics/t',
      }),
    ).toBe(204);
    expect(received.map((m) => [m.messageId, m.publishTimeMs, m.attributes])).toEqual([
      ['99', Date.parse('2026-11-22T09:00:00Z'), { a: 'b' }],
    ]);
    expect(
      await post('/', {
        specversion: '1.0',
        id: '100',
        time: '2026-11-22T08:00:00Z',
        type: 'google.cloud.pubsub.topic.v1.messagePublished',
        source: '//pubsub.googleapis.com/projects/p/topics/t',
        data,
      }),
    ).toBe(204);
    expect(received.map((m) => m.messageId)).toEqual(['100']);
  });

  it("Eventarc's binary mode as it delivers a Pub/Sub message: every ce-* header, the message with its own twins, with and without data", async () => {
    const ce = {
      'ce-id': '4242',
      'ce-source': '//pubsub.googleapis.com/projects/my-proj/topics/vehicle-observations',
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-time': '2026-11-22T11:59:59.123Z',
      'ce-subject': '',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const subscription = 'projects/my-proj/subscriptions/eventarc-us-east1-trigger-vehicle-observations-sub-123';
    expect(await post('/', { message: full, subscription }, ce)).toBe(204);
    expect(received).toEqual([
      {
        data: Buffer.from('{"vehicle_id":"aB3xY9","speed":57.31,"location":[40.7638,-73.9729]}'),
        attributes: { radar_id: 'r1' },
        messageId: '4242',
        publishTimeMs: Date.parse('2026-11-22T11:59:59.123Z'),
      },
    ]);
    // The message's own id and time win over the event's (they are the same in what Eventarc sends; a relay may differ).
    expect(await post('/', { message: { ...full, messageId: '4343', message_id: '4343' }, subscription }, ce)).toBe(204);
    expect(received.map((m) => m.messageId)).toEqual(['4343']);
    expect(
      await post(
        '/',
        { message: { attributes: { kind: 'ping' }, messageId: '4444', publishTime: '2026-11-22T11:59:00Z' }, subscription },
        { ...ce, 'ce-id': '4444' },
      ),
    ).toBe(204);
    expect(received).toEqual([
      { data: Buffer.alloc(0), attributes: { kind: 'ping' }, messageId: '4444', publishTimeMs: Date.parse('2026-11-22T11:59:00Z') },
    ]);
  });

  it('a push body without subscription or deliveryAttempt (no dead-letter policy) and without attributes', async () => {
    expect(await post('/projects/p/topics/t', { message: { data: full.data, messageId: '55', publishTime: '2026-11-22T11:00:00Z' } })).toBe(
      204,
    );
    expect(received).toEqual([
      { data: Buffer.from(full.data, 'base64'), attributes: {}, messageId: '55', publishTimeMs: Date.parse('2026-11-22T11:00:00Z') },
    ]);
  });

  it('a handler that throws answers 500 (Pub/Sub retries) and logs why; a request that is no delivery answers 400', async () => {
    fail = true;
    try {
      expect(await post('/projects/p/topics/t', pushBody(full))).toBe(500);
    } finally {
      fail = false;
    }
    expect(JSON.stringify(logged)).toContain('delivery failed; Pub/Sub will retry it');
    expect(await post('/', { hello: 'world' })).toBe(400);
    expect(await post('/', { message: { data: 42 } })).toBe(400);
    expect(received).toEqual([]);
  });
});
