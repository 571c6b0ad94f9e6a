import type { PubSub, Message, Subscription } from '@google-cloud/pubsub';
import type { ZodType } from 'zod';
import { fineNotification } from '../../shared/contracts/fine-notification.js';
import { nonFinedVehicle } from '../../shared/contracts/non-fined-vehicle.js';
import { speedingVehicle } from '../../shared/contracts/speeding-vehicle.js';
import type { ReadyInfo } from '../stack.js';

/** A decision as the demo received it from its topic. */
export interface ReceivedDecision {
  receivedMs: number;
  body: Record<string, unknown>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The demo's view of the output topics: every decision (non-fined-vehicles, speeding-vehicles) and fine
 * notification, by id, and how many arrived twice with the same id.
 */
export class OutputWatch {
  readonly decisions = new Map<string, ReceivedDecision>();
  readonly fines = new Map<string, Record<string, unknown>>();
  duplicateDecisions = 0;
  duplicateFines = 0;
  /** messages their topic's contract (shared/contracts/) refuses, with the first problem of each */
  readonly offContract: string[] = [];

  private constructor(private readonly subs: Subscription[]) {}

  static async start(ps: PubSub, info: ReadyInfo): Promise<OutputWatch> {
    const subs: Subscription[] = [];
    const watch = new OutputWatch(subs);
    // Each output topic read as a consumer outside speedcam would: by its contract.
    const contracts: [string, ZodType][] = [
      [info.topics.nonFinedVehicles, nonFinedVehicle],
      [info.topics.speedingVehicles, speedingVehicle],
      [info.topics.fineNotifications, fineNotification],
    ];
    for (const [topic, contract] of contracts) {
      const [sub] = await ps.topic(topic).createSubscription(`demo-watch-${topic}-${Date.now()}`);
      sub.on('message', (m: Message) => {
        watch.receive(topic === info.topics.fineNotifications ? 'fine' : 'decision', m, topic, contract);
        m.ack();
      });
      subs.push(sub);
    }
    return watch;
  }

  private receive(kind: 'fine' | 'decision', m: Message, topic: string, contract: ZodType): void {
    const body = JSON.parse(m.data.toString()) as Record<string, unknown>;
    const checked = contract.safeParse(body);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      this.offContract.push(`${topic} ${m.id}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.slice(0, 300));
    }
    if (kind === 'fine') {
      const id = m.attributes['fine_id'] ?? '';
      if (this.fines.has(id)) this.duplicateFines++;
      else this.fines.set(id, body);
    } else {
      const id = m.attributes['passage_id'] ?? '';
      if (this.decisions.has(id)) this.duplicateDecisions++;
      else this.decisions.set(id, { receivedMs: Date.now(), body });
    }
  }

  /** Until `n` passages are decided (or the deadline), logging progress. */
  async waitDecided(n: number, deadline: number, log: (line: string) => void): Promise<void> {
    let lastCount = -1;
    while (this.decisions.size < n && Date.now() < deadline) {
      if (this.decisions.size !== lastCount) log(`  decided ${this.decisions.size}/${n}`);
      lastCount = this.decisions.size;
      await pause(250);
    }
  }

  /**
   * Until every speeding decision has its fine: notified, or held for review (no notice until a person
   * decides; `held` counts them) — or the deadline.
   */
  async waitFined(deadline: number, held: () => Promise<number>): Promise<void> {
    const speeding = () => [...this.decisions.values()].filter((d) => d.body['is_Ticketed'] === true).length;
    while (this.fines.size + (await held()) < speeding() && Date.now() < deadline) await pause(250);
  }

  get lastDecisionMs(): number {
    return Math.max(...[...this.decisions.values()].map((d) => d.receivedMs));
  }

  async close(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.close()));
    await Promise.all(this.subs.map((s) => s.delete().catch(() => undefined)));
  }
}
