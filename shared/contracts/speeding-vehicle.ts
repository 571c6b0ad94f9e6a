import { z } from 'zod';
import { passageDecision } from './passage-decision.js';

/**
 * speeding-vehicles: a fined passage's decision. Producer: the speed check (shared/speed/decision.ts, and the
 * flush's republish). Consumer: the fine function (shared/fines/fine.ts). Attributes: passageDecisionAttributes.
 */
export const speedingVehicle = passageDecision.extend({
  avg_speed: z.number().finite(),
  is_Ticketed: z.literal(true),
});
export type SpeedingVehicle = z.infer<typeof speedingVehicle>;

/**
 * What the fine function accepts and reads: the decision's identity, speed, place, plate and photos. The
 * threshold, the tolerance and the photos may be absent (decisions published before they were carried);
 * the other fields of the message are not read (and not required).
 */
export const speedingVehicleAccepted = speedingVehicle
  .pick({
    passage_id: true,
    radar_id: true,
    vehicle_id: true,
    avg_speed: true,
    speed_limit: true,
    speed_threshold: true,
    tolerance: true,
    coordinates: true,
    is_Ticketed: true,
    license_plate: true,
    image_uri: true,
    photos: true,
    first_seen: true,
    last_seen: true,
  })
  .partial({ speed_threshold: true, tolerance: true, photos: true });
export type AcceptedSpeedingVehicle = z.infer<typeof speedingVehicleAccepted>;
