import { z } from 'zod';

/**
 * click-events: one row of the GA4 BigQuery export per message (the GA4 data simulator's stream). Consumer:
 * the clicks window pipeline (shared/windows/pipelines/clicks.ts): events per user_pseudo_id per minute.
 * user_pseudo_id and event_name must be there, as the seed reads them; event_timestamp is read only when
 * event time comes from the payload. Other fields are ignored (GA4 rows carry no event id: the row is its identity).
 */
export const CLICK_EVENT_REQUIRED = ['user_pseudo_id', 'event_name'] as const;

/** the window's key: a string of 1-256 characters (or a number, kept exact as text) */
export const userPseudoId = z.union([z.string().min(1).max(256), z.number()]);

/** microseconds since the epoch: a number or, as BigQuery's JSON export writes INT64, a string of digits */
export const eventTimestampMicros = z.union([
  z.number().refine((n) => Number.isSafeInteger(n) && n > 0, 'a positive safe integer'),
  z.string().regex(/^\d{1,19}$/),
]);

/**
 * The message as a whole when event time comes from the payload (event_timestamp then required); under publish
 * time the parser reads only the user (clicks.ts).
 */
export const clickEvent = z
  .object({
    user_pseudo_id: userPseudoId,
    event_name: z.custom<unknown>((v) => v !== undefined, 'required'),
    event_timestamp: eventTimestampMicros,
  })
  .passthrough();
export type ClickEvent = z.infer<typeof clickEvent>;
