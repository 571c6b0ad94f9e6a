import { IANAZone } from 'luxon';

/**
 * SPEEDCAM_PIPELINES: per window pipeline, where event time comes from, how local times without a zone
 * are read, the window size, the allowed lateness and what happens to late events. Pure: loadConfig
 * calls it with the variable's text and turns an error string into a ConfigError.
 */

/** Where a pipeline reads an event's time. */
export type EventTimeSource =
  /** the Pub/Sub publish time: what every seed's Beam pipeline uses (no timestamp_attribute) */
  | { kind: 'publish_time' }
  /** the event's own field (GA4 event_timestamp µs; the transaction's timestamp) */
  | { kind: 'payload' }
  /** a message attribute, as Beam's timestamp_attribute: RFC 3339 or epoch milliseconds */
  | { kind: 'attribute'; name: string };

export type LatePolicy = 'dead_letter' | 'update';

export interface PipelineSettings {
  eventTime: EventTimeSource;
  /** IANA zone for timestamps without a zone (payload or attribute) */
  timezone: string;
  windowMs: number;
  latenessMs: number;
  late: LatePolicy;
  /**
   * early panes: while a window is open and events arrive, its rows are written every this much processing
   * time with is_final = false; the final row replaces them (same row_id, higher row_revision). null: off
   */
  earlyMs: number | null;
}

const FIELDS = ['event_time', 'timezone', 'window_s', 'lateness_s', 'late', 'early_s'] as const;
const EVENT_TIME_VALUES = 'publish_time, payload, attribute:NAME';
/** Pub/Sub attribute keys: up to 256 bytes, and the goog prefix is reserved. */
const ATTRIBUTE = /^(?!goog)[^\s]{1,256}$/;
/** a day: windows must fit the warehouse's day partitions and the flush's bounded runs */
const MAX_WINDOW_S = 86_400;

/**
 * Parses SPEEDCAM_PIPELINES (a JSON object keyed by pipeline) for the pipelines a user configures, each
 * with its declared window size. Returns the settings of every one, defaults filled in, or a message
 * naming the key at fault and its valid values.
 */
export function parsePipelines<N extends string>(
  raw: string | undefined,
  defaults: { latenessMs: number },
  pipelines: readonly { name: N; windowS: number; earlyS?: number | null }[],
): Record<N, PipelineSettings> | { error: string } {
  const out = {} as Record<N, PipelineSettings>;
  const names = pipelines.map((p) => p.name).join(', ');
  for (const { name, windowS, earlyS } of pipelines) {
    out[name] = {
      eventTime: { kind: 'publish_time' },
      timezone: 'UTC',
      windowMs: windowS * 1000,
      latenessMs: defaults.latenessMs,
      late: 'dead_letter',
      earlyMs: earlyS ? earlyS * 1000 : null,
    };
  }
  if (raw === undefined || raw.trim() === '') return out;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message}); expected an object keyed by pipeline (${names})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { error: `expected an object keyed by pipeline (${names}), got ${Array.isArray(json) ? 'an array' : String(json)}` };
  }
  for (const [name, settings] of Object.entries(json)) {
    if (!(name in out)) return { error: `unknown pipeline "${name}"; valid: ${names}` };
    const p = out[name as N];
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      return { error: `${name}: expected an object with ${FIELDS.join(', ')}` };
    }
    for (const [key, value] of Object.entries(settings as Record<string, unknown>)) {
      const at = `${name}.${key}`;
      switch (key) {
        case 'event_time': {
          if (value === 'publish_time' || value === 'payload') p.eventTime = { kind: value };
          else if (typeof value === 'string' && value.startsWith('attribute:') && ATTRIBUTE.test(value.slice('attribute:'.length))) {
            p.eventTime = { kind: 'attribute', name: value.slice('attribute:'.length) };
          } else
            return { error: `${at}: ${JSON.stringify(value)} is not valid; valid: ${EVENT_TIME_VALUES} (NAME: a Pub/Sub attribute key)` };
          break;
        }
        case 'timezone': {
          if (typeof value !== 'string' || !IANAZone.isValidZone(value)) {
            return {
              error: `${at}: ${JSON.stringify(value)} is not an IANA time zone; valid: names such as UTC, Europe/Madrid, America/New_York`,
            };
          }
          p.timezone = value;
          break;
        }
        case 'window_s': {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_WINDOW_S) {
            return { error: `${at}: ${JSON.stringify(value)} is not valid; valid: a whole number of seconds from 1 to ${MAX_WINDOW_S}` };
          }
          p.windowMs = value * 1000;
          break;
        }
        case 'lateness_s': {
          if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_WINDOW_S) {
            return { error: `${at}: ${JSON.stringify(value)} is not valid; valid: seconds from 0 to ${MAX_WINDOW_S}` };
          }
          p.latenessMs = value * 1000;
          break;
        }
        case 'early_s': {
          // 0 or null: no early panes. At least a second: each pane costs a read of the window's batches and a write.
          if (value === null || value === 0) p.earlyMs = null;
          else if (typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= MAX_WINDOW_S) p.earlyMs = value * 1000;
          else
            return {
              error: `${at}: ${JSON.stringify(value)} is not valid; valid: seconds from 1 to ${MAX_WINDOW_S}, or 0 / null for none`,
            };
          break;
        }
        case 'late': {
          if (value !== 'dead_letter' && value !== 'update')
            return { error: `${at}: ${JSON.stringify(value)} is not valid; valid: dead_letter, update` };
          p.late = value;
          break;
        }
        default:
          return { error: `${at}: unknown setting; valid: ${FIELDS.join(', ')}` };
      }
    }
  }
  return out;
}
