import { Rejection } from './rejection.js';
import type { InboundMessage } from './pubsub-message.js';

/**
 * The checks every input shares before its own validation: not empty, not oversized, UTF-8, JSON, an
 * object, with the required fields present. A Rejection names the first that fails.
 */
export function decodeJsonObject(
  msg: InboundMessage,
  maxBytes: number,
  required: readonly string[] = [],
): Record<string, unknown> | Rejection {
  if (msg.data.length === 0) return new Rejection('empty_payload', 'message has no data');
  if (msg.data.length > maxBytes) return new Rejection('oversized', `payload is ${msg.data.length} bytes; the limit is ${maxBytes}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(msg.data);
  } catch {
    return new Rejection('not_utf8', 'payload is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return new Rejection('malformed_json', `payload is not JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return new Rejection(
      'not_an_object',
      `payload is JSON ${Array.isArray(json) ? 'array' : json === null ? 'null' : typeof json}, expected an object`,
    );
  }
  const absent = required.filter((f) => !(f in json));
  return absent.length ? new Rejection('invalid_fields', `missing field(s) ${absent.join(', ')}`) : (json as Record<string, unknown>);
}

/** A present JSON value as text: strings as they are, numbers and others as JSON (numeric ids stay exact). */
export function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
