import { z } from 'zod';
import { haversineKm, type LatLon } from './core/geo.js';
import { PLATE_FORMAT_PRESETS, resolvePlateFormats } from './fines/plate.js';
import type { FetchPolicy } from './fines/safe-fetch.js';
import { TOPICS, type Topics } from './contracts/topics.js';
import { parsePipelines, type PipelineSettings } from './windows/pipeline-config.js';
import { fixedTolerance, toleranceInput, toleranceOf, type Tolerance } from './speed/tolerance.js';
import { WINDOW_PIPELINES, type ConfigurablePipeline } from './windows/pipelines/index.js';

/** A road section watched by one radar: entry and exit cameras at its two ends. */
export interface Radar {
  id: string;
  name: string;
  entry: LatLon;
  exit: LatLon;
  /** Road distance between the ends; defaults to the haversine distance between them. */
  lengthKm: number;
  speedLimitKmh: number;
  /** fined strictly above speedThresholdKmh(limit, tolerance) (shared/speed/tolerance.ts); default none */
  tolerance: Tolerance;
  sessionGapMs: number;
  /**
   * The longest plausible time between the entry and exit cameras (length ÷ minimum speed): while a
   * passage has only one of them, the session stays open this long, since the travel time
   * (45 s at 40 km/h over 500 m) exceeds the 15 s gap that separates bursts.
   */
  maxTravelMs: number;
  /**
   * How much longer than the gap, in processing time, the flush waits before closing a passage by gap:
   * observations delayed by an outage (redelivered after a crash) still join it.
   */
  gapCloseDelayMs: number;
  /** A passage closes once it holds this many observations (the seed generator sends 10). */
  expectedObservations: number | null;
  /** Average speeds above this are flagged for review instead of fined. */
  plausibleMaxKmh: number;
  /** Observations farther than this from the section are rejected as off-section. */
  offSectionToleranceKm: number;
  /** how spot speeds are averaged: space-mean (distance over time) or the seeds' arithmetic mean */
  averageSpeed: AverageSpeedRule;
  /** plate formats expected here (presets or L/D/A templates) to rank OCR candidates; empty: any plate */
  plateFormats: readonly string[];
}

/** How a passage's spot speeds are averaged (SPEEDCAM_AVERAGE_SPEED, or a radar's `average_speed`). */
export type AverageSpeedRule = 'space_mean' | 'arithmetic';

/** The flush function's timeout (functions/catalog.ts deploys it): a flush run never holds its lease longer. */
export const FLUSH_TIMEOUT_S = 300;

/** SPEEDCAM_PIPELINES: the settings of each pipeline a user configures */
export type PipelinesConfig = Record<ConfigurablePipeline, PipelineSettings>;

export interface Config {
  projectId: string;
  topics: Topics;
  radars: ReadonlyMap<string, Radar>;
  defaultRadarId: string;
  groupCommitWaitMs: number;
  /** how long the speed path's log commit waits for more observations (of any vehicle) before it writes */
  logCommitWaitMs: number;
  maxMessageBytes: number;
  /** Spot speeds outside (0, maxSpotSpeedKmh] are rejected as absurd. */
  maxSpotSpeedKmh: number;
  maxEventAgeMs: number;
  maxEventFutureMs: number;
  /** How long a closer has to publish its decision before the flush republishes it. */
  exportGraceMs: number;
  flushBatchLimit: number;
  /** how long after its end a window still takes events (the default of SPEEDCAM_PIPELINES' lateness_s) */
  windowLatenessMs: number;
  /** SPEEDCAM_PIPELINES: event time source, time zone, window, lateness and late policy per pipeline */
  pipelines: PipelinesConfig;
  /** the scheduler's cadence: a flush run keeps exporting windows as they fall due until the next tick */
  flushPeriodMs: number;
  /** section_traffic_minute waits longer: passages reach it a gap + export grace + flush interval after their exit */
  sectionTrafficLatenessMs: number;
  /** injected transient failures for the chaos run ("point:probability,…"); empty in production */
  faultSpec: string;
  flushLeaseMs: number;
  retentionMs: number;
  /** SPEEDCAM_NON_OFFENDER_RETENTION_H: how long a passage that was not fined keeps its vehicle identifier (docs/data-retention.md) */
  nonOffenderRetentionMs: number;
  /**
   * bigquery: `write` is how the flush writes (storage_write: Storage Write API CDC upserts, exact in the
   * table; insert_all: legacy streaming inserts, kept one release); `writeEndpoint` (host:port) points the
   * Write API client at a plaintext local stand-in (tests, `npm run stack`), null in Google Cloud.
   */
  warehouse:
    | { kind: 'duckdb'; path: string }
    | { kind: 'bigquery'; dataset: string; write: 'storage_write' | 'insert_all'; writeEndpoint: string | null };
  objects: { kind: 'local'; dir: string } | { kind: 'gcs' };
  buckets: { captures: string; evidence: string };
  ocr: 'model' | 'vision';
  /** a plate read with less confidence is still issued, but flagged for manual review */
  plateReviewBelow: number;
  /** where fines get photos beyond the observation's image_uri and the captures bucket */
  photos: { carsApi: string | null; fetch: FetchPolicy };
  /**
   * The review function (docs/review.md): `google` verifies the caller's Google ID token (Cloud Run's invoker
   * IAM let it in; the token names the reviewer), `token` compares a bearer token (the local stack's).
   */
  /**
   * everyFine: every fine is held for a person (UK and Dutch practice: a plate is read by a person before a
   * notice), not only those with a review reason (SPEEDCAM_REVIEW_EVERY_FINE; docs/review.md)
   */
  review: { auth: 'google' | 'token'; token: string | null; audiences: string[]; claimMs: number; alertAfterH: number; everyFine: boolean };
  collections: {
    passages: string;
    archive: string;
    deadLetters: string;
    control: string;
    fines: string;
    /** every review decision, appended (never overwritten), exported to fine_reviews */
    fineReviews: string;
    users: string;
    windowState: string;
    windowBatchesPrefix: string;
    /** the speed path's observation log, its sweep leases and its publish marks (shared/speed/passage-sweep.ts) */
    passageLog: string;
    passageSweeps: string;
    published: string;
  };
}

/** The default radar: 5th Avenue, from the Apple Store to Zara (the original pipeline's section). */
export const FIFTH_AVENUE_ENTRY: LatLon = [40.76384258989008, -73.97296227572797];
export const FIFTH_AVENUE_EXIT: LatLon = [40.7601385362864, -73.97629590579231];
export const DEFAULT_RADAR_ID = 'nyc-5th-ave-apple-zara';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const latLon = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

const radarInput = z
  .object({
    id: z.string().regex(ID, 'letters, digits, . _ - (max 64), starting with a letter or digit'),
    name: z.string().min(1).optional(),
    entry: latLon,
    exit: latLon,
    length_km: z.number().positive().optional(),
    speed_limit_kmh: z.number().positive().optional(),
    /** the older fixed allowance on the limit; `tolerance` replaces it (not both) */
    tolerance_kmh: z.number().min(0).optional(),
    tolerance: toleranceInput.optional(),
    session_gap_s: z.number().positive().optional(),
    min_speed_kmh: z.number().positive().optional(),
    expected_observations: z.number().int().min(2).nullable().optional(),
    plausible_max_kmh: z.number().positive().optional(),
    off_section_tolerance_m: z.number().positive().optional(),
    average_speed: z.enum(['space_mean', 'arithmetic']).optional(),
    plate_formats: z.array(z.string().min(1).max(40)).max(32).optional(),
  })
  .strict();

const num = (min: number) => z.coerce.number().refine((n) => Number.isFinite(n) && n >= min, `a number >= ${min}`);

/** Every SPEEDCAM_* variable loadConfig reads (docs/configuration.md is generated from it: cli/config-doc.ts). */
export const envSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  GCLOUD_PROJECT: z.string().min(1).optional(),
  SPEEDCAM_RADARS: z.string().optional(),
  SPEEDCAM_DEFAULT_RADAR: z.string().optional(),
  SPEEDCAM_SPEED_LIMIT_KMH: num(1).default(40),
  SPEEDCAM_TOLERANCE_KMH: num(0).default(0),
  /** a preset name (none, uk, it, nl) or {"percent", "plus_kmh", "min_kmh", "applies_to"}; replaces SPEEDCAM_TOLERANCE_KMH */
  SPEEDCAM_TOLERANCE: z.string().optional(),
  SPEEDCAM_NON_OFFENDER_RETENTION_H: num(1).default(72),
  SPEEDCAM_SESSION_GAP_S: num(0.001).default(15),
  SPEEDCAM_MIN_SPEED_KMH: num(0.1).default(5),
  SPEEDCAM_GAP_CLOSE_DELAY_S: num(0).default(120),
  SPEEDCAM_EXPECTED_OBSERVATIONS: num(2).default(10),
  SPEEDCAM_PLAUSIBLE_MAX_KMH: num(1).default(250),
  SPEEDCAM_MAX_SPOT_SPEED_KMH: num(1).default(400),
  SPEEDCAM_OFF_SECTION_TOLERANCE_M: num(1).default(250),
  SPEEDCAM_AVERAGE_SPEED: z.enum(['space_mean', 'arithmetic']).default('space_mean'),
  SPEEDCAM_GROUP_COMMIT_WAIT_MS: num(0).default(40),
  SPEEDCAM_LOG_COMMIT_WAIT_MS: num(0).default(50),
  SPEEDCAM_MAX_MESSAGE_BYTES: num(64).default(65536),
  SPEEDCAM_MAX_EVENT_AGE_H: num(0.01).default(24 * 7),
  SPEEDCAM_MAX_EVENT_FUTURE_S: num(0).default(300),
  SPEEDCAM_EXPORT_GRACE_S: num(0).default(30),
  SPEEDCAM_FLUSH_BATCH_LIMIT: num(1).default(500),
  SPEEDCAM_FLUSH_LEASE_S: num(1).default(120),
  SPEEDCAM_RETENTION_DAYS: num(0.01).default(7),
  SPEEDCAM_WAREHOUSE: z.enum(['duckdb', 'bigquery']).default('bigquery'),
  SPEEDCAM_DUCKDB_PATH: z.string().min(1).default('.speedcam/warehouse.duckdb'),
  SPEEDCAM_DATASET: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/)
    .default('speedcam'),
  SPEEDCAM_BIGQUERY_WRITE: z.enum(['storage_write', 'insert_all']).default('storage_write'),
  SPEEDCAM_BIGQUERY_WRITE_ENDPOINT: z
    .string()
    .regex(/^(127\.0\.0\.1|localhost):\d{1,5}$/, 'a loopback host:port (the local Write API stand-in)')
    .optional(),
  SPEEDCAM_OBJECTS: z.enum(['gcs', 'local']).default('gcs'),
  SPEEDCAM_OBJECTS_DIR: z.string().min(1).default('.speedcam/objects'),
  SPEEDCAM_CAPTURES_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'a Cloud Storage bucket name')
    .default('speedcam-captures'),
  SPEEDCAM_EVIDENCE_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'a Cloud Storage bucket name')
    .default('speedcam-evidence'),
  // model: PaddleOCR PP-OCRv4 run on the function's CPU (shared/platform/ocr/, no network); vision: Cloud Vision
  // TEXT_DETECTION. docs/ocr.md has the accuracy, time, memory and cost of each.
  SPEEDCAM_OCR: z.enum(['model', 'vision']).default('model'),
  SPEEDCAM_PLATE_REVIEW_BELOW: num(0).optional(),
  SPEEDCAM_PLATE_FORMATS: z.string().default('us-ny'),
  SPEEDCAM_CARS_API: z
    .string()
    .url('an http(s) URL, e.g. https://example.com/cars-api')
    .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL')
    .optional()
    .or(z.literal('')),
  SPEEDCAM_PHOTO_HOSTS: z.string().default('storage.googleapis.com'),
  SPEEDCAM_PHOTO_ALLOW_LOOPBACK: z.enum(['true', 'false']).default('false'),
  SPEEDCAM_PHOTO_MAX_BYTES: num(1024).default(10 * 1024 * 1024),
  SPEEDCAM_PHOTO_TIMEOUT_MS: num(100).default(10_000),
  SPEEDCAM_COLLECTION_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .default(''),
  SPEEDCAM_WINDOW_LATENESS_S: num(0).default(30),
  SPEEDCAM_PIPELINES: z.string().optional(),
  SPEEDCAM_FLUSH_PERIOD_S: num(0.1).default(60),
  SPEEDCAM_SECTION_TRAFFIC_LATENESS_S: num(0).default(600),
  SPEEDCAM_FAULTS: z.string().default(''),
  SPEEDCAM_REVIEW_AUTH: z.enum(['google', 'token']).default('google'),
  SPEEDCAM_REVIEW_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SPEEDCAM_REVIEW_AUDIENCES: z.string().default(''),
  SPEEDCAM_REVIEW_CLAIM_S: num(1).default(300),
  SPEEDCAM_REVIEW_ALERT_H: num(0.01).default(24),
  SPEEDCAM_REVIEW_EVERY_FINE: z.enum(['true', 'false']).default('false'),
});

/** TOPIC_*: each topic's name, by the variable its declaration names. */
const topicsSchema = z.object(Object.fromEntries(TOPICS.map((t) => [t.env, z.string().min(3).default(t.name)])));

/**
 * Plate reads less confident than this are flagged for a person (SPEEDCAM_PLATE_REVIEW_BELOW overrides).
 * The model reader's confidence is its least sure plate character's probability. 0.8 was chosen on the
 * calibration set (test/fixtures/plates): the highest threshold that keeps at least 97.5 % of its right
 * reads unflagged, with no wrong read unflagged; sets not used for the choice are measured in docs/ocr.md.
 * Vision's confidences are its own scale, not measured here: its default stays at 0.6.
 */
export const PLATE_REVIEW_BELOW = { model: 0.8, vision: 0.6 } as const;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates configuration. Pure: call it from entry points, never at import time. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const topicNames = topicsSchema.safeParse(env);
  if (!parsed.success || !topicNames.success) {
    const msg = [...(parsed.error?.issues ?? []), ...(topicNames.error?.issues ?? [])]
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ');
    throw new ConfigError(`invalid configuration: ${msg}`);
  }
  const e = parsed.data;
  const defaults = {
    speedLimitKmh: e.SPEEDCAM_SPEED_LIMIT_KMH,
    tolerance: defaultTolerance(e.SPEEDCAM_TOLERANCE, e.SPEEDCAM_TOLERANCE_KMH, env['SPEEDCAM_TOLERANCE_KMH'] !== undefined),
    sessionGapMs: e.SPEEDCAM_SESSION_GAP_S * 1000,
    expectedObservations: e.SPEEDCAM_EXPECTED_OBSERVATIONS,
    plausibleMaxKmh: e.SPEEDCAM_PLAUSIBLE_MAX_KMH,
    offSectionToleranceKm: e.SPEEDCAM_OFF_SECTION_TOLERANCE_M / 1000,
    averageSpeed: e.SPEEDCAM_AVERAGE_SPEED,
    plateFormats: plateFormats(
      'SPEEDCAM_PLATE_FORMATS',
      e.SPEEDCAM_PLATE_FORMATS.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  };
  const radars = new Map<string, Radar>();
  if (e.SPEEDCAM_RADARS) {
    let raw: unknown;
    try {
      raw = JSON.parse(e.SPEEDCAM_RADARS);
    } catch (err) {
      throw new ConfigError(`SPEEDCAM_RADARS: not JSON (${(err as Error).message}); expected an array of radars`);
    }
    const list = z.array(radarInput).min(1).safeParse(raw);
    if (!list.success) {
      const msg = list.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ');
      throw new ConfigError(`SPEEDCAM_RADARS: ${msg}`);
    }
    for (const r of list.data) {
      if (radars.has(r.id)) throw new ConfigError(`SPEEDCAM_RADARS: duplicate radar id "${r.id}"`);
      if (r.tolerance !== undefined && r.tolerance_kmh !== undefined) {
        throw new ConfigError(`SPEEDCAM_RADARS [${r.id}].tolerance: give tolerance or the older tolerance_kmh, not both`);
      }
      radars.set(r.id, {
        id: r.id,
        name: r.name ?? r.id,
        entry: r.entry,
        exit: r.exit,
        lengthKm: r.length_km ?? haversineKm(r.entry, r.exit),
        speedLimitKmh: r.speed_limit_kmh ?? defaults.speedLimitKmh,
        tolerance:
          r.tolerance !== undefined
            ? toleranceOf(r.tolerance)
            : r.tolerance_kmh !== undefined
              ? fixedTolerance(r.tolerance_kmh)
              : defaults.tolerance,
        sessionGapMs: r.session_gap_s !== undefined ? r.session_gap_s * 1000 : defaults.sessionGapMs,
        maxTravelMs: maxTravelMs(r.length_km ?? haversineKm(r.entry, r.exit), r.min_speed_kmh ?? e.SPEEDCAM_MIN_SPEED_KMH),
        gapCloseDelayMs: e.SPEEDCAM_GAP_CLOSE_DELAY_S * 1000,
        expectedObservations: r.expected_observations === undefined ? defaults.expectedObservations : r.expected_observations,
        plausibleMaxKmh: r.plausible_max_kmh ?? defaults.plausibleMaxKmh,
        offSectionToleranceKm: r.off_section_tolerance_m !== undefined ? r.off_section_tolerance_m / 1000 : defaults.offSectionToleranceKm,
        averageSpeed: r.average_speed ?? defaults.averageSpeed,
        plateFormats: r.plate_formats ? plateFormats(`SPEEDCAM_RADARS [${r.id}].plate_formats`, r.plate_formats) : defaults.plateFormats,
      });
    }
  } else {
    radars.set(DEFAULT_RADAR_ID, {
      id: DEFAULT_RADAR_ID,
      name: '5th Avenue: Apple Store to Zara',
      entry: FIFTH_AVENUE_ENTRY,
      exit: FIFTH_AVENUE_EXIT,
      lengthKm: haversineKm(FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT),
      maxTravelMs: maxTravelMs(haversineKm(FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT), e.SPEEDCAM_MIN_SPEED_KMH),
      gapCloseDelayMs: e.SPEEDCAM_GAP_CLOSE_DELAY_S * 1000,
      ...defaults,
    });
  }
  const defaultRadarId = e.SPEEDCAM_DEFAULT_RADAR ?? radars.keys().next().value!;
  if (!radars.has(defaultRadarId)) {
    throw new ConfigError(`SPEEDCAM_DEFAULT_RADAR: "${defaultRadarId}" is not a configured radar; valid: ${[...radars.keys()].join(', ')}`);
  }
  const configurable = WINDOW_PIPELINES.flatMap((p) => (p.configurable ? [p as Extract<typeof p, { configurable: true }>] : []));
  const pipelines = parsePipelines(e.SPEEDCAM_PIPELINES, { latenessMs: e.SPEEDCAM_WINDOW_LATENESS_S * 1000 }, configurable);
  if ('error' in pipelines) throw new ConfigError(`SPEEDCAM_PIPELINES: ${pipelines.error}`);
  if (e.SPEEDCAM_REVIEW_AUTH === 'token' && !e.SPEEDCAM_REVIEW_TOKEN) {
    throw new ConfigError('SPEEDCAM_REVIEW_TOKEN: required when SPEEDCAM_REVIEW_AUTH=token');
  }
  const p = e.SPEEDCAM_COLLECTION_PREFIX;
  return {
    projectId: e.GOOGLE_CLOUD_PROJECT ?? e.GCLOUD_PROJECT ?? 'demo-speedcam',
    topics: Object.fromEntries(TOPICS.map((t) => [t.key, topicNames.data[t.env]])) as Topics,
    radars,
    defaultRadarId,
    groupCommitWaitMs: e.SPEEDCAM_GROUP_COMMIT_WAIT_MS,
    logCommitWaitMs: e.SPEEDCAM_LOG_COMMIT_WAIT_MS,
    maxMessageBytes: e.SPEEDCAM_MAX_MESSAGE_BYTES,
    maxSpotSpeedKmh: e.SPEEDCAM_MAX_SPOT_SPEED_KMH,
    maxEventAgeMs: e.SPEEDCAM_MAX_EVENT_AGE_H * 3600_000,
    maxEventFutureMs: e.SPEEDCAM_MAX_EVENT_FUTURE_S * 1000,
    exportGraceMs: e.SPEEDCAM_EXPORT_GRACE_S * 1000,
    flushBatchLimit: e.SPEEDCAM_FLUSH_BATCH_LIMIT,
    windowLatenessMs: e.SPEEDCAM_WINDOW_LATENESS_S * 1000,
    pipelines,
    flushPeriodMs: e.SPEEDCAM_FLUSH_PERIOD_S * 1000,
    sectionTrafficLatenessMs: e.SPEEDCAM_SECTION_TRAFFIC_LATENESS_S * 1000,
    faultSpec: e.SPEEDCAM_FAULTS,
    flushLeaseMs: e.SPEEDCAM_FLUSH_LEASE_S * 1000,
    retentionMs: e.SPEEDCAM_RETENTION_DAYS * 86_400_000,
    nonOffenderRetentionMs: e.SPEEDCAM_NON_OFFENDER_RETENTION_H * 3_600_000,
    warehouse:
      e.SPEEDCAM_WAREHOUSE === 'duckdb'
        ? { kind: 'duckdb', path: e.SPEEDCAM_DUCKDB_PATH }
        : {
            kind: 'bigquery',
            dataset: e.SPEEDCAM_DATASET,
            write: e.SPEEDCAM_BIGQUERY_WRITE,
            writeEndpoint: e.SPEEDCAM_BIGQUERY_WRITE_ENDPOINT ?? null,
          },
    objects: e.SPEEDCAM_OBJECTS === 'local' ? { kind: 'local', dir: e.SPEEDCAM_OBJECTS_DIR } : { kind: 'gcs' },
    buckets: { captures: e.SPEEDCAM_CAPTURES_BUCKET, evidence: e.SPEEDCAM_EVIDENCE_BUCKET },
    ocr: e.SPEEDCAM_OCR,
    plateReviewBelow: e.SPEEDCAM_PLATE_REVIEW_BELOW ?? PLATE_REVIEW_BELOW[e.SPEEDCAM_OCR],
    photos: {
      carsApi: e.SPEEDCAM_CARS_API || null,
      fetch: {
        allowedHosts: e.SPEEDCAM_PHOTO_HOSTS.split(',')
          .map((h) => h.trim())
          .filter(Boolean),
        allowLoopback: e.SPEEDCAM_PHOTO_ALLOW_LOOPBACK === 'true',
        maxBytes: e.SPEEDCAM_PHOTO_MAX_BYTES,
        timeoutMs: e.SPEEDCAM_PHOTO_TIMEOUT_MS,
        maxRedirects: 3,
      },
    },
    review: {
      auth: e.SPEEDCAM_REVIEW_AUTH,
      token: e.SPEEDCAM_REVIEW_TOKEN ?? null,
      audiences: e.SPEEDCAM_REVIEW_AUDIENCES.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
      claimMs: e.SPEEDCAM_REVIEW_CLAIM_S * 1000,
      alertAfterH: e.SPEEDCAM_REVIEW_ALERT_H,
      everyFine: e.SPEEDCAM_REVIEW_EVERY_FINE === 'true',
    },
    collections: {
      fines: `${p}fines`,
      fineReviews: `${p}fine_reviews`,
      users: `${p}users`,
      windowState: `${p}window_state`,
      windowBatchesPrefix: `${p}wb_`,
      passages: `${p}passages`,
      archive: `${p}passage_archive`,
      deadLetters: `${p}dead_letters`,
      control: `${p}control`,
      passageLog: `${p}passage_log`,
      passageSweeps: `${p}passage_sweeps`,
      published: `${p}published`,
    },
  };
}

/** Validates plate formats (preset names or templates), naming the setting when one is wrong. */
function plateFormats(setting: string, list: string[]): string[] {
  try {
    resolvePlateFormats(list);
  } catch (err) {
    throw new ConfigError(`${setting}: ${(err as Error).message}; or a preset: ${Object.keys(PLATE_FORMAT_PRESETS).join(', ')}`);
  }
  return list;
}

/** SPEEDCAM_TOLERANCE (a preset or the rule as JSON), else SPEEDCAM_TOLERANCE_KMH as a fixed allowance. */
function defaultTolerance(spec: string | undefined, kmh: number, kmhGiven: boolean): Tolerance {
  if (spec === undefined || spec.trim() === '') return fixedTolerance(kmh);
  if (kmhGiven) throw new ConfigError('SPEEDCAM_TOLERANCE: give SPEEDCAM_TOLERANCE or the older SPEEDCAM_TOLERANCE_KMH, not both');
  let raw: unknown = spec.trim();
  if ((raw as string).startsWith('{')) {
    try {
      raw = JSON.parse(spec);
    } catch (err) {
      const expected = 'a preset name or {"percent", "plus_kmh", "min_kmh", "applies_to"}';
      throw new ConfigError(`SPEEDCAM_TOLERANCE: not JSON (${(err as Error).message}); expected ${expected}`);
    }
  }
  const parsed = toleranceInput.safeParse(raw);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${['tolerance', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`SPEEDCAM_TOLERANCE: ${msg}`);
  }
  return toleranceOf(parsed.data);
}

function maxTravelMs(lengthKm: number, minSpeedKmh: number): number {
  return (lengthKm / minSpeedKmh) * 3_600_000;
}

export function radarIdPattern(): RegExp {
  return ID;
}
