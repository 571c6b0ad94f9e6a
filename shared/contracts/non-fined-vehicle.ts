import { z } from 'zod';
import { passageDecision } from './passage-decision.js';

/**
 * non-fined-vehicles: a passage that was not fined (under the threshold, or flagged for review). Producer: the
 * speed check (shared/speed/decision.ts). Consumers: outside speedcam (the original pipeline's subscribers);
 * its plate is never published. Attributes: passageDecisionAttributes.
 */
export const nonFinedVehicle = passageDecision.extend({
  is_Ticketed: z.literal(false),
  license_plate: z.null(),
});
export type NonFinedVehicle = z.infer<typeof nonFinedVehicle>;
