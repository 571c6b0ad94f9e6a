import { createHash } from 'node:crypto';
import type { InboundMessage } from '../core/pubsub-message.js';

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

/** What travels on the dead-letters topic and lands in the dead_letters table. */
export interface DeadLetter {
  dead_letter_id: string;
  timestamp: string;
  source: string;
  reason: DeadLetterReason;
  error: string;
  /** the original payload: UTF-8 text when it was valid UTF-8, else base64 */
  payload: string;
  payload_encoding: 'utf8' | 'base64';
  attributes: Record<string, string>;
  message_id: string;
  publish_time: string;
}

const MAX_ERROR_CHARS = 2000;

export function buildDeadLetter(source: string, msg: InboundMessage, rejection: Rejection, nowMs: number): DeadLetter {
  let payload: string;
  let payload_encoding: DeadLetter['payload_encoding'];
  try {
    payload = new TextDecoder('utf-8', { fatal: true }).decode(msg.data);
    payload_encoding = 'utf8';
  } catch {
    payload = msg.data.toString('base64');
    payload_encoding = 'base64';
  }
  // One id per (source, message or observation, reason): redelivery and publisher duplicates of the same
  // rejected observation collapse onto one row.
  const identity = rejection.obsId ?? `msg:${msg.messageId || sha256(msg.data)}`;
  return {
    dead_letter_id: sha256(`${source}\n${identity}\n${rejection.reason}`).slice(0, 32),
    timestamp: new Date(nowMs).toISOString(),
    source,
    reason: rejection.reason,
    error: rejection.detail.slice(0, MAX_ERROR_CHARS),
    payload,
    payload_encoding,
    attributes: msg.attributes,
    message_id: msg.messageId,
    publish_time: new Date(msg.publishTimeMs).toISOString(),
  };
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
