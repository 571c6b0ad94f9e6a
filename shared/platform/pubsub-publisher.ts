import { PubSub, type Topic } from '@google-cloud/pubsub';
import type { Publisher } from '../core/publisher.js';

/** Publishes through @google-cloud/pubsub (the emulator when PUBSUB_EMULATOR_HOST is set). */
export class PubSubPublisher implements Publisher {
  private topics = new Map<string, Topic>();
  constructor(private readonly client: PubSub) {}

  async publish(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    let t = this.topics.get(topic);
    if (!t) {
      // Short batching window: concurrent publishes of one instance share a request, none waits long.
      t = this.client.topic(topic, { batching: { maxMessages: 100, maxMilliseconds: 5 } });
      this.topics.set(topic, t);
    }
    return t.publishMessage({ data, attributes });
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.flush().catch(() => undefined)));
    await this.client.close();
  }
}
