import type { Faults } from '../core/faults.js';
import type { Logger } from '../core/logger.js';
import type { Publisher } from '../core/publisher.js';
import type { NonFinedVehicle } from '../contracts/non-fined-vehicle.js';
import { passageDecisionAttributes, type PassageDecisionMessage } from '../contracts/passage-decision.js';
import type { SpeedingVehicle } from '../contracts/speeding-vehicle.js';
import type { Row } from '../export/warehouse.js';
import type { PassageDecision } from './passage.js';
import type { DecisionRef, PassageStore } from './passage-store.js';
import { iso } from '../core/clock.js';
import type { Topics } from '../contracts/topics.js';

/** What a decision's message and its vehicle_passages row both say of it. */
function decisionFacts(d: PassageDecision) {
  return {
    passage_id: d.passageId,
    radar_id: d.radarId,
    vehicle_id: d.vehicleId,
    avg_speed: d.avgSpeedKmh,
    speed_limit: d.speedLimitKmh,
    speed_threshold: d.thresholdKmh ?? d.speedLimitKmh + d.toleranceKmh,
    tolerance: d.tolerance ?? null,
    review_reason: d.reviewReason,
    method: d.method,
    close_reason: d.closeReason,
    observations: d.observations,
    first_seen: iso(d.firstSeenMs),
    last_seen: iso(d.lastSeenMs),
    last_published: iso(d.lastPublishMs),
    decided_at: iso(d.decidedAtMs),
  } satisfies Partial<PassageDecisionMessage>;
}

/**
 * The message for `speeding-vehicles` (a fined passage: its plate, its speed) or `non-fined-vehicles` (no
 * plate): the contracts in shared/contracts/speeding-vehicle.ts and non-fined-vehicle.ts.
 */
export function decisionMessage(d: PassageDecision): SpeedingVehicle | NonFinedVehicle {
  const message = { ...decisionFacts(d), coordinates: d.coordinates, image_uri: d.imageUri, photos: d.photos ?? [] };
  // A fined passage always has a speed (judgeSpeed fines only above the threshold).
  if (d.isTicketed && d.avgSpeedKmh !== null) return { ...message, avg_speed: d.avgSpeedKmh, is_Ticketed: true, license_plate: d.plate };
  return { ...message, is_Ticketed: false, license_plate: null };
}

/** A `vehicle_passages` row; row_id = passage_id makes the export idempotent. */
export function passageRow(d: PassageDecision): Row {
  return {
    row_id: d.passageId,
    ...decisionFacts(d),
    speed_tolerance: d.toleranceKmh,
    is_Ticketed: d.isTicketed,
    coordinates: [...d.coordinates],
    license_plate: d.plate,
    image_uri: d.imageUri,
  };
}

/** What publishing decisions needs. */
export interface DecisionPublishing {
  config: { topics: Pick<Topics, 'nonFinedVehicles' | 'speedingVehicles'> };
  store: Pick<PassageStore, 'markPublished'>;
  publisher: Publisher;
  logger: Logger;
  faults: Faults;
}

/** Publishes a decision to its topic (`non-fined-vehicles` or `speeding-vehicles`); the caller marks it published. */
export async function publishDecisionMessage(
  deps: Pick<DecisionPublishing, 'config' | 'publisher' | 'logger'>,
  ref: DecisionRef,
): Promise<void> {
  const d = ref.decision;
  const message = decisionMessage(d);
  const topic = message.is_Ticketed ? deps.config.topics.speedingVehicles : deps.config.topics.nonFinedVehicles;
  // event_id: the same on every publish of this decision (a retry, the flush's republish): consumers drop repeats by it.
  await deps.publisher.publish(topic, Buffer.from(JSON.stringify(message)), passageDecisionAttributes(message));
  // Logs are kept 30 days: a passage not fined is logged without its vehicle (docs/data-retention.md).
  deps.logger.info('passage decided', {
    ...(d.isTicketed ? { passage_id: d.passageId, vehicle_id: d.vehicleId } : { radar_id: d.radarId }),
    avg_speed: d.avgSpeedKmh,
    is_Ticketed: d.isTicketed,
    review_reason: d.reviewReason,
    close_reason: d.closeReason,
    topic,
  });
}

/** Publishes decisions, then records them published with one write (the flush republishes unrecorded ones). */
export async function publishDecisions(deps: DecisionPublishing, refs: readonly DecisionRef[]): Promise<void> {
  await Promise.all(refs.map((ref) => publishDecisionMessage(deps, ref))); // concurrent publishes share a request
  deps.faults.check('decision.afterPublish');
  await deps.store.markPublished(...refs);
}

/** Publishes a decision to its topic, then marks it published (the flush republishes unmarked ones). */
export async function publishDecision(deps: DecisionPublishing, ref: DecisionRef): Promise<void> {
  await publishDecisions(deps, [ref]);
}
