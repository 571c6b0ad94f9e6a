import { z } from 'zod';

/** How a passage's average speed was computed (shared/speed/average-speed.ts computes it). */
export const speedMethod = z.enum(['entry_exit', 'space_mean', 'harmonic_mean', 'arithmetic_mean', 'none']);
export type SpeedMethod = z.infer<typeof speedMethod>;
/** Why a passage closed: its exit camera, its expected count of observations, or the session gap. */
export const closeReason = z.enum(['exit', 'count', 'gap']);
export type CloseReason = z.infer<typeof closeReason>;
/** Why a person should look at a passage before it counts (flagged, not fined). */
export const passageReviewReason = z.enum(['implausible_speed', 'insufficient_data', 'incomplete_passage']);
export type PassageReviewReason = z.infer<typeof passageReviewReason>;

/**
 * A passage's decision as the speed check publishes it (shared/speed/decision.ts): on speeding-vehicles when
 * it is fined (speeding-vehicle.ts), on non-fined-vehicles otherwise (non-fined-vehicle.ts). The original
 * pipeline's fields (radar_id, vehicle_id, avg_speed, coordinates, is_Ticketed, license_plate) plus the
 * passage's facts. Both topics' messages are this object with their own is_Ticketed.
 */
export const passageDecision = z.object({
  passage_id: z.string().min(1).max(200),
  radar_id: z.string().min(1).max(64),
  vehicle_id: z.string().min(1).max(64),
  /** km/h; null when the passage gave no speed (one camera, too few observations) */
  avg_speed: z.number().finite().nullable(),
  speed_limit: z.number().finite(),
  /** fined strictly above this (docs/tolerances.md) */
  speed_threshold: z.number().finite(),
  /** the tolerance rule it was judged by (JSON text); null before tolerances were rules */
  tolerance: z.string().max(500).nullable(),
  /** [lat, lon] of the section's exit */
  coordinates: z.tuple([z.number(), z.number()]).readonly(),
  is_Ticketed: z.boolean(),
  license_plate: z.string().nullable(),
  /** the photo the observations named last (the exit camera's, for a timed section) */
  image_uri: z.string().nullable(),
  /** every camera photo the observations named, in time order (entry and exit) */
  photos: z.array(z.object({ camera: z.string().nullable(), uri: z.string().max(2048), at: z.string() })).max(8),
  observations: z.number().int().nonnegative(),
  method: speedMethod,
  close_reason: closeReason,
  review_reason: passageReviewReason.nullable(),
  first_seen: z.string(),
  last_seen: z.string(),
  last_published: z.string(),
  decided_at: z.string(),
});
export type PassageDecisionMessage = z.infer<typeof passageDecision>;

/**
 * The attributes of a decision's message. event_id is the passage id: the same on every publish of this
 * decision (a retry, the flush's republish), so consumers drop repeats by it.
 */
export function passageDecisionAttributes(
  m: Pick<PassageDecisionMessage, 'passage_id' | 'radar_id'>,
): Record<'passage_id' | 'radar_id' | 'event_id', string> {
  return { passage_id: m.passage_id, radar_id: m.radar_id, event_id: m.passage_id };
}
