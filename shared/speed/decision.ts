import type { Faults } from '../core/faults.js';
import type { Logger } from '../core/logger.js';
import type { Publisher } from '../core/publisher.js';
import type { Row } from '../export/warehouse.js';
import type { PassageDecision } from './passage.js';
import type { DecisionRef, PassageStore } from './passage-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The message for `non-fined-vehicles` or `speeding-vehicles`: the original pipeline's fields
 * (radar_id, vehicle_id, avg_speed, coordinates, is_Ticketed, license_plate) plus the passage's facts.
 */
export function decisionMessage(d: PassageDecision): Record<string, unknown> {
  return {
    passage_id: d.passageId,
    radar_id: d.radarId,
    vehicle_id: d.vehicleId,
    avg_speed: d.avgSpeedKmh,
    speed_limit: d.speedLimitKmh,
    speed_threshold: d.thresholdKmh ?? d.speedLimitKmh + d.toleranceKmh,
    tolerance: d.tolerance ?? null,
    coordinates: d.coordinates,
    is_Ticketed: d.isTicketed,
    license_plate: d.isTicketed ? d.plate : null,
    image_uri: d.imageUri,
    photos: d.photos ?? [],
    observations: d.observations,
    method: d.method,
    close_reason: d.closeReason,
    review_reason: d.reviewReason,
    first_seen: iso(d.firstSeenMs),
    last_seen: iso(d.lastSeenMs),
    last_published: iso(d.lastPublishMs),
    decided_at: iso(d.decidedAtMs),
  };
}

/** A `vehicle_passages` row; row_id = passage_id makes the export idempotent. */
export function passageRow(d: PassageDecision): Row {
  return {
    row_id: d.passageId,
    passage_id: d.passageId,
    radar_id: d.radarId,
    vehicle_id: d.vehicleId,
    avg_speed: d.avgSpeedKmh,
    speed_limit: d.speedLimitKmh,
    speed_tolerance: d.toleranceKmh,
    speed_threshold: d.thresholdKmh ?? d.speedLimitKmh + d.toleranceKmh,
    tolerance: d.tolerance ?? null,
    is_Ticketed: d.isTicketed,
    review_reason: d.reviewReason,
    method: d.method,
    close_reason: d.closeReason,
    observations: d.observations,
    first_seen: iso(d.firstSeenMs),
    last_seen: iso(d.lastSeenMs),
    last_published: iso(d.lastPublishMs),
    decided_at: iso(d.decidedAtMs),
    coordinates: [...d.coordinates],
    license_plate: d.plate,
    image_uri: d.imageUri,
  };
}

/** What publishing decisions needs. */
export interface DecisionPublishing {
  config: { topics: { nonFinedVehicles: string; speedingVehicles: string } };
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
  const topic = d.isTicketed ? deps.config.topics.speedingVehicles : deps.config.topics.nonFinedVehicles;
  await deps.publisher.publish(topic, Buffer.from(JSON.stringify(decisionMessage(d))), {
    passage_id: d.passageId,
    radar_id: d.radarId,
    // The same on every publish of this decision (a retry, the flush's republish): consumers drop repeats by it.
    event_id: d.passageId,
  });
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
