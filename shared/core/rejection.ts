/**
 * Why a message cannot be used, typed: every input's parser returns one instead of throwing, and the
 * message goes to the dead letters with it (shared/dead-letters/).
 */

/** Stable reason codes: dashboards and alerts key on them. */
export type DeadLetterReason =
  | 'empty_payload'
  | 'oversized'
  | 'not_utf8'
  | 'malformed_json'
  | 'not_an_object'
  | 'invalid_fields'
  | 'unknown_radar'
  | 'coordinates_out_of_range'
  | 'off_section'
  | 'speed_out_of_range'
  | 'timestamp_out_of_range'
  | 'late'
  | 'delivery_attempts_exhausted'
  /** the warehouse refused the row (the flush's export; error = the warehouse's reason and message) */
  | 'warehouse_rejected';

export class Rejection {
  constructor(
    readonly reason: DeadLetterReason,
    readonly detail: string,
    /** observation id, when the payload parsed far enough to have one */
    readonly obsId?: string,
  ) {}
}
