import { sha256 } from '../core/hashing.js';
import type { DeadLetter } from '../contracts/dead-letter.js';
import type { Rejection } from '../core/rejection.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { iso } from '../core/clock.js';

/** What travels on the dead-letters topic and lands in the dead_letters table: its contract. */
export type { DeadLetter };

/** Where dead letters are kept until the flush exports them (Firestore: shared/platform/firestore/firestore-dead-letter-store.ts). */
export interface DeadLetterStore {
  /** keeps the dead letter under its id (a redelivery is the same document) */
  save(dl: DeadLetter): Promise<void>;
  /** dead letters kept in [fromMs, toMs) of commit time, oldest first */
  scanForExport(fromMs: number, toMs: number, limit: number): Promise<{ dl: DeadLetter; exportAtMs: number }[]>;
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
    timestamp: iso(nowMs),
    source,
    reason: rejection.reason,
    error: rejection.detail.slice(0, MAX_ERROR_CHARS),
    payload,
    payload_encoding,
    attributes: msg.attributes,
    message_id: msg.messageId,
    publish_time: iso(msg.publishTimeMs),
  };
}
