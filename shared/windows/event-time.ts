import { DateTime } from 'luxon';
import type { InboundMessage } from '../core/pubsub-message.js';
import { Rejection } from '../core/rejection.js';
import type { ParseContext } from './declaration.js';
import type { EventTimeSource } from './pipeline-config.js';

/** Where an event's time comes from (SPEEDCAM_PIPELINES event_time), read and checked. */

/** Event time must be plausible: not before 2000, not more than the configured future skew. */
function checkTime(ms: number, ctx: ParseContext, what: string): Rejection | null {
  if (!Number.isFinite(ms) || ms < Date.UTC(2000, 0, 1) || ms > ctx.nowMs + ctx.maxEventFutureMs) {
    return new Rejection('timestamp_out_of_range', `${what} is not a plausible event time`);
  }
  return null;
}

/**
 * An ISO 8601 (or SQL-style, space-separated) timestamp; without a zone it is local time in `zone`
 * (Python's datetime.now().isoformat() has none). Ambiguous local times in the repeated hour of a DST
 * change read as the later (standard-time) one; times in the skipped hour move forward. NaN if unparsable.
 */
export function parseZonedTimestamp(text: string, zone: string): number {
  const s = text.trim();
  if (s.length === 0 || s.length > 64) return NaN;
  let d = DateTime.fromISO(s, { zone });
  if (!d.isValid) d = DateTime.fromSQL(s, { zone });
  return d.isValid ? d.toMillis() : NaN;
}

/** Beam's timestamp_attribute: epoch milliseconds, or RFC 3339 text (read in `zone` when it has none). */
export function parseAttributeTime(value: string, zone: string): number {
  return /^\d{1,16}$/.test(value) ? Number(value) : parseZonedTimestamp(value, zone);
}

/**
 * The event's time under the pipeline's setting: the publish time, the payload's own time (`fromPayload`),
 * or a message attribute. A Rejection when the chosen source is missing or implausible.
 */
export function eventTimeOf(
  msg: InboundMessage,
  ctx: ParseContext,
  fromPayload: () => { ms: number; what: string } | Rejection,
): number | Rejection {
  const { settings } = ctx;
  const src = settings.eventTime;
  if (src.kind === 'publish_time') return msg.publishTimeMs;
  let found: { ms: number; what: string } | Rejection;
  if (src.kind === 'payload') found = fromPayload();
  else {
    const value = msg.attributes[src.name];
    if (value === undefined)
      return new Rejection('timestamp_out_of_range', `event time is the attribute ${src.name}, which this message does not have`);
    found = { ms: parseAttributeTime(value, settings.timezone), what: `attribute ${src.name}=${value.slice(0, 64)}` };
  }
  if (found instanceof Rejection) return found;
  return checkTime(found.ms, ctx, found.what) ?? found.ms;
}

/** The setting as SPEEDCAM_PIPELINES spells it, for logs and dead letters. */
export function describeEventTime(s: EventTimeSource): string {
  return s.kind === 'attribute' ? `attribute:${s.name}` : s.kind;
}
