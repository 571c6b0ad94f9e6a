import type { Config } from './config.js';
import { buildDeadLetter, Rejection, type DeadLetter } from './dead-letter.js';
import { decisionMessage } from './decision-output.js';
import { GroupCommitter } from './group-commit.js';
import type { Logger } from './logger.js';
import { parseObservation, type Observation } from './observation.js';
import { passageKey, type ObservationOutcome } from './passage.js';
import type { DecisionRef, PassageStore } from './passage-store.js';
import type { Clock, Faults, Publisher } from './ports.js';
import type { InboundMessage } from './pubsub-message.js';

export interface SpeedCheckDeps {
  config: Config;
  store: PassageStore;
  publisher: Publisher;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}

export type ObservationResult =
  | { status: 'added' | 'duplicate'; obsId: string }
  | { status: 'dead_letter'; reason: string; deadLetterId: string };

/**
 * The observation function's logic: parse → group-committed passage update → decisions published.
 * A message resolves only once its effects are durable; anything transient throws so Pub/Sub
 * redelivers, and every effect is keyed so that the redelivery changes nothing.
 */
export class SpeedCheck {
  private readonly committer: GroupCommitter<Observation, ObservationOutcome>;

  constructor(private readonly deps: SpeedCheckDeps) {
    this.committer = new GroupCommitter((key, items) => this.commitBatch(key, items), {
      waitMs: deps.config.groupCommitWaitMs,
      maxBatch: (key) => deps.config.radars.get(key.slice(0, key.indexOf('~')))?.expectedObservations ?? 50,
    });
  }

  async handle(msg: InboundMessage): Promise<ObservationResult> {
    const { config, clock, logger } = this.deps;
    const parsed = parseObservation(msg, config, clock.now());
    if (parsed instanceof Rejection) return this.deadLetter(msg, parsed);
    const outcome = await this.committer.submit(passageKey(parsed.radarId, parsed.vehicleId), parsed);
    if (outcome.kind === 'late') return this.deadLetter(msg, new Rejection('late', outcome.detail, parsed.obsId));
    logger.debug('observation recorded', { obs_id: parsed.obsId, vehicle_id: parsed.vehicleId, outcome: outcome.kind });
    return { status: outcome.kind, obsId: parsed.obsId };
  }

  private async commitBatch(key: string, items: readonly Observation[]): Promise<ObservationOutcome[]> {
    const { config, store, faults } = this.deps;
    const first = items[0]!;
    const radar = config.radars.get(first.radarId)!;
    faults.check('observation.beforeCommit');
    const outcome = await store.applyBatch(radar, first.vehicleId, items);
    faults.check('observation.afterCommit');
    for (const ref of outcome.toPublish) await publishDecision(this.deps, ref);
    this.deps.logger.debug('batch committed', { key, size: items.length, decided: outcome.decided.length });
    return items.map((o) => outcome.outcomes.get(o.obsId)!);
  }

  private async deadLetter(msg: InboundMessage, rejection: Rejection): Promise<ObservationResult> {
    const dl = await sendToDeadLetters(this.deps, this.deps.config.topics.vehicleObservations, msg, rejection);
    return { status: 'dead_letter', reason: dl.reason, deadLetterId: dl.dead_letter_id };
  }
}

/** Publishes a decision to its topic, then marks it published (the flush republishes unmarked ones). */
export async function publishDecision(
  deps: Pick<SpeedCheckDeps, 'config' | 'store' | 'publisher' | 'faults' | 'logger'>,
  ref: DecisionRef,
): Promise<void> {
  const d = ref.decision;
  const topic = d.isTicketed ? deps.config.topics.speedingVehicles : deps.config.topics.nonFinedVehicles;
  await deps.publisher.publish(topic, Buffer.from(JSON.stringify(decisionMessage(d))), {
    passage_id: d.passageId,
    radar_id: d.radarId,
  });
  deps.faults.check('decision.afterPublish');
  await deps.store.markPublished(ref);
  deps.logger.info('passage decided', {
    passage_id: d.passageId,
    vehicle_id: d.vehicleId,
    avg_speed: d.avgSpeedKmh,
    is_Ticketed: d.isTicketed,
    review_reason: d.reviewReason,
    close_reason: d.closeReason,
    topic,
  });
}

/** Publishes a rejected message to the dead-letters topic; a failure throws, so the message is retried. */
export async function sendToDeadLetters(
  deps: Pick<SpeedCheckDeps, 'config' | 'publisher' | 'logger' | 'clock' | 'faults'>,
  source: string,
  msg: InboundMessage,
  rejection: Rejection,
): Promise<DeadLetter> {
  const dl = buildDeadLetter(source, msg, rejection, deps.clock.now());
  deps.faults.check('deadLetter.beforePublish');
  await deps.publisher.publish(deps.config.topics.deadLetters, Buffer.from(JSON.stringify(dl)), {
    dead_letter_id: dl.dead_letter_id,
    source,
    reason: dl.reason,
  });
  deps.logger.warn('message dead-lettered', { source, reason: dl.reason, error: dl.error, message_id: msg.messageId, dead_letter_id: dl.dead_letter_id });
  return dl;
}
