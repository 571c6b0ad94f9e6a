import { z } from 'zod';

/**
 * dead-letters: a message some function could not use, with why, and the message itself. Producers: every
 * function that rejects input (shared/dead-letters/send.ts builds and publishes it) and Pub/Sub's own
 * dead-letter policy, which forwards a message after too many failed deliveries as it was (no envelope).
 * Consumer: the dead-letter sink (shared/dead-letters/sink.ts), which keeps it for the flush to export to
 * the dead_letters table.
 */
export const deadLetter = z.object({
  /** one id per (source, message or observation, reason): a redelivery is the same dead letter */
  dead_letter_id: z.string().regex(/^[0-9a-f]{32}$/),
  timestamp: z.string(),
  /** the topic (or warehouse:<table>) it came from */
  source: z.string().max(256),
  /** a stable code (core/rejection.ts DeadLetterReason): dashboards and alerts key on it */
  reason: z.string().max(64),
  error: z.string(),
  /** the original payload: UTF-8 text when it was valid UTF-8, else base64 */
  payload: z.string(),
  payload_encoding: z.enum(['utf8', 'base64']),
  attributes: z.record(z.string(), z.string()),
  message_id: z.string(),
  publish_time: z.string(),
});
export type DeadLetter = z.infer<typeof deadLetter>;

/**
 * The attributes of a dead letter's message. The sink takes a message with dead_letter_id for an envelope;
 * event_id is the dead letter's id: the same on every publish of it, so consumers drop repeats by it.
 */
export function deadLetterAttributes(
  dl: Pick<DeadLetter, 'dead_letter_id' | 'source' | 'reason'>,
): Record<'dead_letter_id' | 'source' | 'reason' | 'event_id', string> {
  return { dead_letter_id: dl.dead_letter_id, source: dl.source, reason: dl.reason, event_id: dl.dead_letter_id };
}
