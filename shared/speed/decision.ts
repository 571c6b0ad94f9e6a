import type { PassageDecision } from './passage.js';
import type { Row } from '../core/ports.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The message for `non-fined-vehicles` or `speeding-vehicles`: seed 000's fields
 * (radar_id, vehicle_id, avg_speed, coordinates, is_Ticketed, license_plate) plus the passage's facts.
 */
export function decisionMessage(d: PassageDecision): Record<string, unknown> {
  return {
    passage_id: d.passageId,
    radar_id: d.radarId,
    vehicle_id: d.vehicleId,
    avg_speed: d.avgSpeedKmh,
    speed_limit: d.speedLimitKmh,
    coordinates: d.coordinates,
    is_Ticketed: d.isTicketed,
    license_plate: d.isTicketed ? d.plate : null,
    image_uri: d.imageUri,
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
