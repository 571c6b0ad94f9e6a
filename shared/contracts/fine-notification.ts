import { z } from 'zod';

const nullableText = z.string().nullable();

/**
 * fine-notifications: a fine that may leave (issued, or confirmed or corrected by a reviewer), for the notice
 * and the original pipeline's fined_vehicles subscribers. Producer: the fine function and the review (both
 * through shared/fines/fine-record.ts notifyFine; the flush re-sends what a crash left unsent). Consumers:
 * outside speedcam. The fine as stored, without what only the review page needs (plate box, alternatives).
 */
export const fineNotification = z.object({
  fine_id: z.string(),
  passage_id: z.string(),
  radar_id: z.string(),
  vehicle_id: z.string(),
  avg_speed: z.number(),
  speed_limit: z.number(),
  /** fined because avg_speed > speed_threshold, by this tolerance rule (absent on fines issued before tolerances) */
  speed_threshold: z.number().optional(),
  tolerance: nullableText.optional(),
  coordinates: z.array(z.number()),
  license_plate: nullableText,
  plate_confidence: z.number().nullable(),
  review_reason: z
    .enum([
      'photo_missing',
      'photo_forbidden',
      'photo_unreadable',
      'ocr_error',
      'plate_not_read',
      'low_confidence',
      'plate_format_unexpected',
      'plate_mismatch',
      'evidence_conflict',
    ])
    .nullable(),
  /** the analysed photo (authenticated URL in Google Cloud, file URL locally), its gs:// URI and SHA-256 */
  image_url: nullableText,
  image_uri: nullableText,
  image_sha256: nullableText,
  /** the camera photo that was analysed, and its copy kept with the evidence */
  capture_uri: nullableText,
  capture_copy_uri: nullableText.optional(),
  photo_source: z.enum(['image_uri', 'capture', 'cars_api']).nullable(),
  first_seen: z.string(),
  last_seen: z.string(),
  issued_at: z.string(),
  ocr_ms: z.number().nullable(),
  /** only these leave: a fine held for review or rejected is never notified */
  status: z.enum(['issued', 'confirmed', 'corrected']),
  captures: z.array(z.object({ camera: nullableText, uri: z.string(), at: nullableText })).optional(),
  /** the plate the OCR read, when a reviewer corrected license_plate */
  read_plate: nullableText.optional(),
  reviewed_by: nullableText.optional(),
  reviewed_at: nullableText.optional(),
  review_note: nullableText.optional(),
  is_Ticketed: z.literal(true),
});
export type FineNotification = z.infer<typeof fineNotification>;

/** event_id is the fine id: the same on every publish of this notification, so consumers drop repeats by it. */
export function fineNotificationAttributes(
  m: Pick<FineNotification, 'fine_id' | 'passage_id'>,
): Record<'fine_id' | 'passage_id' | 'event_id', string> {
  return { fine_id: m.fine_id, passage_id: m.passage_id, event_id: m.fine_id };
}
