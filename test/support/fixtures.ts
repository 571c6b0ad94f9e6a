import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../shared/config.js';
import type { Publisher } from '../../shared/ports.js';
import type { InboundMessage } from '../../shared/pubsub-message.js';

/** Points this test file's Google clients at the run's emulators; returns a fresh demo- project id. */
export function useEmulators(): string {
  process.env['PUBSUB_EMULATOR_HOST'] = inject('pubsubHost');
  process.env['FIRESTORE_EMULATOR_HOST'] = inject('firestoreHost');
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  return `demo-t-${randomUUID().slice(0, 8)}`;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ SPEEDCAM_WAREHOUSE: 'duckdb', ...env });
}

let seq = 0;
/** A delivered message as functions receive it. */
export function inbound(data: string | Buffer, opts: { attributes?: Record<string, string>; publishTimeMs?: number; messageId?: string } = {}): InboundMessage {
  return {
    data: typeof data === 'string' ? Buffer.from(data) : data,
    attributes: opts.attributes ?? {},
    messageId: opts.messageId ?? `m-${++seq}`,
    publishTimeMs: opts.publishTimeMs ?? Date.now(),
  };
}

/** Records publishes in memory; can be told to fail. */
export class RecordingPublisher implements Publisher {
  messages: { topic: string; data: Record<string, unknown>; attributes: Record<string, string> }[] = [];
  failNext = 0;
  async publish(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('UNAVAILABLE: injected publish failure'), { code: 14 });
    }
    this.messages.push({ topic, data: JSON.parse(data.toString()) as Record<string, unknown>, attributes });
    return String(this.messages.length);
  }
  on(topic: string) {
    return this.messages.filter((m) => m.topic === topic);
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public t = Date.parse('2026-11-21T10:00:00Z')) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}
