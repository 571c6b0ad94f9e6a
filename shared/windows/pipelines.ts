import { z } from 'zod';
import type { Config } from '../config.js';
import { Rejection, sha256 } from '../dead-letter.js';
import { parseIsoTimestamp } from '../observation.js';
import type { Row } from '../ports.js';
import { decodeJsonObject } from '../json-payload.js';
import type { InboundMessage } from '../pubsub-message.js';

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
 * A windowed pipeline, declared: input, parser, key, fixed window, allowed lateness, aggregates and
 * the output table's row. The engine (window-engine.ts) and the flush do the rest.
 * Session windows are the passages' (passage.ts); this engine does fixed windows.
 */
export interface WindowPipeline {
  name: string;
  inputTopic: (c: Config) => string | null;
  /** one message may hold several events; a Rejection sends it to the dead letters */
  parse: (msg: InboundMessage, nowMs: number) => WindowEvent[] | Rejection;
  window: { kind: 'fixed'; sizeMs: number };
  allowedLatenessMs: number;
  /**
   * Keep the ids of exported events with the window: an event stored after the export is then known as
   * a duplicate (dropped) or as late (dead-lettered). For low-volume windows (a window's ids < 1 MiB).
   */
  rememberIds?: boolean;
  aggregates: readonly Aggregate[];
  table: string;
  row: (key: string, windowStartMs: number, windowEndMs: number, aggregates: Record<string, number>) => Row;
}

const iso = (ms: number) => new Date(ms).toISOString();

const issues = (e: z.ZodError) => e.issues.slice(0, 6).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** Event time must be plausible: not before 2000, not more than the configured future skew. */
function checkTime(ms: number, nowMs: number, config: Config, what: string): Rejection | null {
  if (!Number.isFinite(ms) || ms < Date.UTC(2000, 0, 1) || ms > nowMs + config.maxEventFutureMs) {
    return new Rejection('timestamp_out_of_range', `${what} is not a plausible event time`);
  }
  return null;
}

/** seed 002: GA4 export rows; events per user_pseudo_id per minute. Other fields are ignored. */
export function clickPipeline(config: Config): WindowPipeline {
  const schema = z.object({
    user_pseudo_id: z.string().min(1).max(256),
    event_name: z.string().min(1).max(256),
    event_timestamp: z.union([z.number().int().positive(), z.string().regex(/^\d{1,19}$/)]),
  });
  return {
    name: 'clicks',
    inputTopic: (c) => c.topics.clickEvents,
    parse(msg, nowMs) {
      const json = decodeJsonObject(msg, config.maxMessageBytes);
      if (json instanceof Rejection) return json;
      const r = schema.safeParse(json);
      if (!r.success) return new Rejection('invalid_fields', `click event: ${issues(r.error)}`);
      const us = BigInt(r.data.event_timestamp);
      const timeMs = Number(us / 1000n);
      const bad = checkTime(timeMs, nowMs, config, `event_timestamp ${r.data.event_timestamp} (µs)`);
      if (bad) return bad;
      // GA4 rows carry no event id: the row itself is the identity (a redelivery or a re-publish is the same row).
      return [{ id: sha256(msg.data).slice(0, 32), key: r.data.user_pseudo_id, timeMs, values: {} }];
    },
    window: { kind: 'fixed', sizeMs: 60_000 },
    allowedLatenessMs: config.windowLatenessMs,
    aggregates: [{ column: 'event_count', fn: 'count' }],
    table: 'user_event_counts',
    row: (key, start, end, a) => ({ row_id: `${start}~${key}`, user_pseudo_id: key, event_count: a['event_count']!, window_start: iso(start), window_end: iso(end) }),
  };
}

/** seed 003: transaction statistics per 30-second window over all transactions (one global key). */
export function transactionPipeline(config: Config): WindowPipeline {
  const schema = z.object({
    transaction_id: z.string().min(1).max(128),
    amount: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'amount: a number or a numeric string')]),
    timestamp: z.string().max(64),
    store_id: z.string().min(1).max(64),
  });
  return {
    name: 'transactions',
    inputTopic: (c) => c.topics.transactions,
    parse(msg, nowMs) {
      const json = decodeJsonObject(msg, config.maxMessageBytes);
      if (json instanceof Rejection) return json;
      const r = schema.safeParse(json);
      if (!r.success) return new Rejection('invalid_fields', `transaction: ${issues(r.error)}`);
      const amount = Number(r.data.amount);
      if (!Number.isFinite(amount) || amount <= 0) return new Rejection('invalid_fields', `transaction: amount ${r.data.amount} must be > 0`);
      const timeMs = parseIsoTimestamp(r.data.timestamp);
      const bad = checkTime(timeMs, nowMs, config, `timestamp ${r.data.timestamp}`);
      if (bad) return bad;
      // seed 003 draws TXN- plus 6 random digits, which collide (≈5 % of ids at 10,000 transactions):
      // the identity is the whole transaction, so a redelivery dedupes and two sales sharing an id both count.
      const id = sha256(`${r.data.transaction_id}|${r.data.timestamp}|${amount}|${r.data.store_id}`).slice(0, 32);
      return [{ id, key: 'all', timeMs, values: { amount } }];
    },
    window: { kind: 'fixed', sizeMs: 30_000 },
    allowedLatenessMs: config.windowLatenessMs,
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
    // A flush that crashed before its watermark re-feeds passages already counted.
    rememberIds: true,
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

export function windowPipelines(config: Config): WindowPipeline[] {
  return [clickPipeline(config), transactionPipeline(config), sectionTrafficPipeline(config)];
}

/** Aggregates deduplicated events of one key, as declared; mean/min/max of no values are null. */
export function aggregate(events: readonly WindowEvent[], aggregates: readonly Aggregate[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of aggregates) {
    const vals = a.field ? events.map((e) => e.values[a.field!]).filter((v): v is number => typeof v === 'number') : [];
    let v: number | undefined;
    switch (a.fn) {
      case 'count':
        v = events.length;
        break;
      case 'sum':
        v = vals.reduce((s, x) => s + x, 0);
        break;
      case 'mean':
        v = vals.length ? vals.reduce((s, x) => s + x, 0) / vals.length : undefined;
        break;
      case 'min':
        v = vals.length ? Math.min(...vals) : undefined;
        break;
      case 'max':
        v = vals.length ? Math.max(...vals) : undefined;
        break;
    }
    if (v !== undefined) out[a.column] = a.round !== undefined ? roundHalfAway(v, a.round) : v;
  }
  return out;
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
