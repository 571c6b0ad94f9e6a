import { z } from 'zod';

/**
 * vehicle-observations: one radar observation of one vehicle. Producers: the radar generator (the seed's
 * spot-speed format) and timed-section cameras (the timed format); `speedcam generate` stands in for both.
 * Consumer: the speed check (shared/speed/observation.ts parses, shared/speed/speed-check.ts decides). A
 * message with timestamp, radar_id or camera is read as timed, any other as the seed's format. Fields
 * beyond these are refused (a typo must not pass for an absent optional field).
 */

/** A radar or vehicle id: 1-64 letters, digits, . _ -, starting with a letter or digit (radar ids in SPEEDCAM_RADARS too). */
export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** ISO-8601 with an optional fraction (up to nanoseconds) and an optional zone (none: UTC). */
export const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;

const coordinates = z.tuple([z.number(), z.number()]);

/** The radar generator's (the seed's): {"vehicle_id","speed","location":[lat,lon]}; the radar is the radar_id attribute or the default. */
export const spotSpeedObservation = z
  .object({
    vehicle_id: z.string().regex(IDENTIFIER, 'vehicle_id: 1-64 letters, digits, . _ -'),
    speed: z.number(),
    location: coordinates,
  })
  .strict();
export type SpotSpeedObservation = z.infer<typeof spotSpeedObservation>;

/** A timed section's camera: which radar and camera saw the vehicle when, optionally its speed, plate and photo. */
export const timedObservation = z
  .object({
    radar_id: z.string().regex(IDENTIFIER, 'radar_id: 1-64 letters, digits, . _ -'),
    vehicle_id: z.string().regex(IDENTIFIER, 'vehicle_id: 1-64 letters, digits, . _ -'),
    timestamp: z.string().regex(ISO_TIMESTAMP, 'timestamp: ISO-8601, e.g. 2026-11-21T10:00:00.123Z'),
    location: coordinates,
    camera: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'camera: "entry", "exit" or another lower-case name'),
    speed: z.number().optional(),
    plate: z
      .string()
      .regex(/^[A-Za-z0-9 -]{1,16}$/, 'plate: 1-16 letters, digits, space or -')
      .optional(),
    image_uri: z
      .string()
      .max(1024)
      .regex(
        /^(gs|https?|file):\/\/[^\s\u0000-\u001f\u007f]+$/,
        'image_uri: a gs://, https:// or file:// URI without spaces or control characters',
      )
      .optional(),
  })
  .strict();
export type TimedObservation = z.infer<typeof timedObservation>;

/** Whether a decoded message is read as the timed format (else as the seed's). */
export function isTimedObservation(json: object): boolean {
  return 'timestamp' in json || 'radar_id' in json || 'camera' in json;
}
