import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import { Rejection } from '../core/rejection.js';
import { sha256 } from '../core/hashing.js';
import type { Row } from '../export/warehouse.js';
import { decodeJsonObject } from '../core/payload.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { describeEventTime, type LatePolicy, type PipelineSettings } from './pipeline-config.js';

/** One event for the window engine: identity (for dedupe), key, event time and numeric values. */
export interface WindowEvent {
  id: string;
  key: string;
  timeMs: number;
  values: Record<string, number>;
}

export type AggregateFn = 'count' | 'sum' | 'mean' | 'min' | 'max';

export interface Aggregate {
  column: string;
  fn: AggregateFn;
  /** the event value aggregated (not for count) */
  field?: string;
  /** decimals to round to */
  round?: number;
}

/**
 * A windowed pipeline, declared: input, parser, key, fixed window, allowed lateness, late policy,
 * aggregates and the output table's row. Ingest (window-ingest.ts) and the flush (window-flush.ts) do the rest.
 * Session windows are the passages' (passage.ts); this engine does fixed windows.
 */
export interface WindowPipeline {
  name: string;
  inputTopic: (c: Config) => string | null;
  /** one message may hold several events; a Rejection sends it to the dead letters */
  parse: (msg: InboundMessage, nowMs: number) => WindowEvent[] | Rejection;
  window: { kind: 'fixed'; sizeMs: number };
  /** how far (in event time and in processing time) the data must move past a window's end before it closes */
  allowedLatenessMs: number;
  /** an event for an exported window: dead-lettered as late, or folded into a revision of the row */
  late: LatePolicy;
  /** where event time comes from, for logs and dead letters */
  eventTime: string;
  aggregates: readonly Aggregate[];
  table: string;
  /** the output row; the engine adds row_revision */
  row: (key: string, windowStartMs: number, windowEndMs: number, aggregates: Record<string, number>) => Row;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Event time must be plausible: not before 2000, not more than the configured future skew. */
function checkTime(ms: number, nowMs: number, config: Config, what: string): Rejection | null {
  if (!Number.isFinite(ms) || ms < Date.UTC(2000, 0, 1) || ms > nowMs + config.maxEventFutureMs) {
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
function eventTimeOf(
  msg: InboundMessage,
  settings: PipelineSettings,
  fromPayload: () => { ms: number; what: string } | Rejection,
  nowMs: number,
  config: Config,
): number | Rejection {
  const src = settings.eventTime;
  if (src.kind === 'publish_time') return msg.publishTimeMs;
  let found: { ms: number; what: string } | Rejection;
  if (src.kind === 'payload') found = fromPayload();
  else {
    const value = msg.attributes[src.name];
    if (value === undefined) return new Rejection('timestamp_out_of_range', `event time is the attribute ${src.name}, which this message does not have`);
    found = { ms: parseAttributeTime(value, settings.timezone), what: `attribute ${src.name}=${value.slice(0, 64)}` };
  }
  if (found instanceof Rejection) return found;
  return checkTime(found.ms, nowMs, config, found.what) ?? found.ms;
}

/**
 * Python's float() on a JSON value, as seed 003 applies it to `amount`: numbers as they are; strings
 * with surrounding whitespace, underscores between digits, exponents ("1e3", " 12.5 ", "1_000.5").
 * Unlike the seed, booleans, NaN and infinities are refused (float(True) is 1.0; a NaN amount passes
 * the seed's `> 0` check): null then.
 */
export function pythonFloat(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  const digits = String.raw`\d(?:_?\d)*`;
  if (!new RegExp(String.raw`^[+-]?(?:${digits}(?:\.(?:${digits})?)?|\.${digits})(?:[eE][+-]?${digits})?$`).test(s)) return null;
  const n = Number(s.replace(/_/g, ''));
  return Number.isFinite(n) ? n : null;
}

/** A present JSON value as text: strings as they are, numbers and others as JSON (numeric ids stay exact). */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function missing(json: Record<string, unknown>, fields: readonly string[]): Rejection | null {
  const absent = fields.filter((f) => !(f in json));
  return absent.length ? new Rejection('invalid_fields', `missing field(s) ${absent.join(', ')}`) : null;
}

/**
 * seed 002: GA4 export rows; events per user_pseudo_id per minute. The seed reads user_pseudo_id and
 * event_name; event_timestamp (µs, a number or, as BigQuery's JSON export writes INT64, a string) is
 * read only when event time comes from the payload. Other fields are ignored.
 */
export function clickPipeline(config: Config): WindowPipeline {
  const settings = config.pipelines.clicks;
  return {
    name: 'clicks',
    inputTopic: (c) => c.topics.clickEvents,
    parse(msg, nowMs) {
      const json = decodeJsonObject(msg, config.maxMessageBytes);
      if (json instanceof Rejection) return json;
      const absent = missing(json, ['user_pseudo_id', 'event_name']);
      if (absent) return absent;
      const user = json['user_pseudo_id'];
      if (!((typeof user === 'string' && user.length > 0 && user.length <= 256) || (typeof user === 'number' && Number.isFinite(user)))) {
        return new Rejection('invalid_fields', 'user_pseudo_id: a string of 1-256 characters (the key of the window)');
      }
      const timeMs = eventTimeOf(msg, settings, () => {
        const ts = json['event_timestamp'];
        if (!((typeof ts === 'number' && Number.isSafeInteger(ts) && ts > 0) || (typeof ts === 'string' && /^\d{1,19}$/.test(ts)))) {
          return new Rejection('invalid_fields', `click event: event_timestamp ${JSON.stringify(ts)?.slice(0, 64)} is not microseconds since the epoch (a number or a string of digits)`);
        }
        return { ms: Number(BigInt(ts) / 1000n), what: `event_timestamp ${ts} (µs)` };
      }, nowMs, config);
      if (timeMs instanceof Rejection) return timeMs;
      // GA4 rows carry no event id: the row itself is the identity (a redelivery or a re-publish is the same row).
      return [{ id: sha256(msg.data).slice(0, 32), key: asText(user), timeMs, values: {} }];
    },
    window: { kind: 'fixed', sizeMs: settings.windowMs },
    allowedLatenessMs: settings.latenessMs,
    late: settings.late,
    eventTime: describeEventTime(settings.eventTime),
    aggregates: [{ column: 'event_count', fn: 'count' }],
    table: 'user_event_counts',
    row: (key, start, end, a) => ({ row_id: `${start}~${key}`, user_pseudo_id: key, event_count: a['event_count']!, window_start: iso(start), window_end: iso(end) }),
  };
}

const TRANSACTION_FIELDS = ['transaction_id', 'amount', 'timestamp', 'store_id'] as const;

/**
 * seed 003: transaction statistics per 30-second window over all transactions (one global key). As the
 * seed: the four fields must be present and float(amount) > 0; the timestamp is read only when event
 * time comes from the payload (then without a zone it is local time in the configured time zone).
 */
export function transactionPipeline(config: Config): WindowPipeline {
  const settings = config.pipelines.transactions;
  return {
    name: 'transactions',
    inputTopic: (c) => c.topics.transactions,
    parse(msg, nowMs) {
      const json = decodeJsonObject(msg, config.maxMessageBytes);
      if (json instanceof Rejection) return json;
      const absent = missing(json, TRANSACTION_FIELDS);
      if (absent) return absent;
      const amount = pythonFloat(json['amount']);
      if (amount === null) return new Rejection('invalid_fields', `transaction: amount ${JSON.stringify(json['amount'])?.slice(0, 64)} is not a finite number (Python float() rules)`);
      if (amount <= 0) return new Rejection('invalid_fields', `transaction: amount ${amount} must be > 0`);
      const timeMs = eventTimeOf(msg, settings, () => {
        const ts = json['timestamp'];
        const ms = typeof ts === 'string' ? parseZonedTimestamp(ts, settings.timezone) : NaN;
        return { ms, what: `timestamp ${JSON.stringify(ts)?.slice(0, 64)} (${settings.timezone} when it has no zone)` };
      }, nowMs, config);
      if (timeMs instanceof Rejection) return timeMs;
      // seed 003 draws TXN- plus 6 random digits, which collide (≈5 % of ids at 10,000 transactions):
      // the identity is the whole transaction, so a redelivery dedupes and two sales sharing an id both count.
      const id = sha256(`${asText(json['transaction_id'])}|${asText(json['timestamp'])}|${amount}|${asText(json['store_id'])}`).slice(0, 32);
      return [{ id, key: 'all', timeMs, values: { amount } }];
    },
    window: { kind: 'fixed', sizeMs: settings.windowMs },
    allowedLatenessMs: settings.latenessMs,
    late: settings.late,
    eventTime: describeEventTime(settings.eventTime),
    aggregates: [
      { column: 'total_transactions', fn: 'count' },
      { column: 'total_amount_sum', fn: 'sum', field: 'amount', round: 2 },
      { column: 'avg_transaction_amount', fn: 'mean', field: 'amount', round: 2 },
      { column: 'max_amount', fn: 'max', field: 'amount', round: 2 },
      { column: 'min_amount', fn: 'min', field: 'amount', round: 2 },
    ],
    table: 'transaction_windows',
    row: (_key, start, end, a) => ({
      row_id: String(start),
      window_start_time: iso(start),
      window_end_time: iso(end),
      total_transactions: a['total_transactions']!,
      total_amount_sum: a['total_amount_sum']!,
      avg_transaction_amount: a['avg_transaction_amount']!,
      max_amount: a['max_amount']!,
      min_amount: a['min_amount']!,
    }),
  };
}

/** Completed passages → per radar per minute (of the exit): vehicles, fined, mean and max average speed. */
export function sectionTrafficPipeline(config: Config): WindowPipeline {
  return {
    name: 'section_traffic',
    // Fed by the flush from the passages it exports; no topic of its own.
    inputTopic: () => null,
    parse: () => new Rejection('invalid_fields', 'section traffic is fed by the flush'),
    window: { kind: 'fixed', sizeMs: 60_000 },
    // Passages reach the flush up to a session gap + the export grace + a flush interval after their exit.
    allowedLatenessMs: config.sectionTrafficLatenessMs,
    late: 'dead_letter',
    eventTime: 'passage (last observation)',
    aggregates: [
      { column: 'vehicles', fn: 'count' },
      { column: 'fined', fn: 'sum', field: 'fined' },
      { column: 'mean_avg_speed', fn: 'mean', field: 'speed', round: 2 },
      { column: 'max_avg_speed', fn: 'max', field: 'speed', round: 2 },
    ],
    table: 'section_traffic_minute',
    row: (key, start, end, a) => ({
      row_id: `${start}~${key}`,
      radar_id: key,
      minute_start: iso(start),
      minute_end: iso(end),
      vehicles: a['vehicles']!,
      fined: a['fined']!,
      mean_avg_speed: a['mean_avg_speed'] ?? null,
      max_avg_speed: a['max_avg_speed'] ?? null,
    }),
  };
}

/** What section traffic counts of a completed passage. */
export interface CompletedPassage {
  passageId: string;
  radarId: string;
  lastSeenMs: number;
  isTicketed: boolean;
  avgSpeedKmh: number | null;
}

/**
 * Completed passages as section traffic events: id = passage id (a passage exported twice counts once),
 * keyed by radar at the time of its last observation.
 */
export function sectionTrafficEvents(passages: readonly CompletedPassage[]): WindowEvent[] {
  return passages.map((d) => ({
    id: d.passageId,
    key: d.radarId,
    timeMs: d.lastSeenMs,
    values: { fined: d.isTicketed ? 1 : 0, ...(d.avgSpeedKmh !== null ? { speed: d.avgSpeedKmh } : {}) },
  }));
}

export function windowPipelines(config: Config): WindowPipeline[] {
  return [clickPipeline(config), transactionPipeline(config), sectionTrafficPipeline(config)];
}

/**
 * A key's running aggregate, mergeable: the event count, and per value field its count, sum, min and
 * max (unrounded). Stored with an exported window so that a late event revises the row exactly.
 */
export interface Accumulator {
  n: number;
  fields: Record<string, [count: number, sum: number, min: number, max: number]>;
}

export function emptyAccumulator(): Accumulator {
  return { n: 0, fields: {} };
}

/** Adds one event to an accumulator (in place). */
export function accumulate(acc: Accumulator, e: WindowEvent): Accumulator {
  acc.n++;
  for (const [field, v] of Object.entries(e.values)) {
    const f = acc.fields[field];
    if (f) {
      f[0]++;
      f[1] += v;
      f[2] = Math.min(f[2], v);
      f[3] = Math.max(f[3], v);
    } else acc.fields[field] = [1, v, v, v];
  }
  return acc;
}

/** The declared aggregates of one key from its accumulator; mean/min/max of no values are absent. */
export function aggregatesOf(acc: Accumulator, aggregates: readonly Aggregate[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of aggregates) {
    const f = a.field ? acc.fields[a.field] : undefined;
    let v: number | undefined;
    switch (a.fn) {
      case 'count':
        v = acc.n;
        break;
      case 'sum':
        v = f ? f[1] : 0;
        break;
      case 'mean':
        v = f ? f[1] / f[0] : undefined;
        break;
      case 'min':
        v = f?.[2];
        break;
      case 'max':
        v = f?.[3];
        break;
    }
    if (v !== undefined) out[a.column] = a.round !== undefined ? roundHalfAway(v, a.round) : v;
  }
  return out;
}

/** Aggregates deduplicated events of one key, as declared; mean/min/max of no values are absent. */
export function aggregate(events: readonly WindowEvent[], aggregates: readonly Aggregate[]): Record<string, number> {
  const acc = emptyAccumulator();
  for (const e of events) accumulate(acc, e);
  return aggregatesOf(acc, aggregates);
}

/** Rounds to `d` decimals, half away from zero, correcting binary artefacts (1.005 → 1.01). */
export function roundHalfAway(x: number, d: number): number {
  const f = 10 ** d;
  return (Math.sign(x) * Math.round(Math.abs(x) * f + 1e-9 * Math.max(1, Math.abs(x) * f))) / f;
}

export function windowOf(timeMs: number, sizeMs: number): { start: number; end: number } {
  const start = Math.floor(timeMs / sizeMs) * sizeMs;
  return { start, end: start + sizeMs };
}
