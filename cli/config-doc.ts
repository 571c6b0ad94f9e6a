import { readFileSync, writeFileSync } from 'node:fs';
import { envSchema, PLATE_REVIEW_BELOW } from '../shared/config.js';
import { TOPICS } from '../shared/contracts/topics.js';

/**
 * The variables table of docs/configuration.md, generated: names and defaults from the code (envSchema,
 * TOPICS, loadConfig's fallbacks), the meaning and the local stack's value from DESCRIPTIONS below.
 * `speedcam config-doc` rewrites the table; test/unit/cli/config-doc.test.ts fails while it is stale or a
 * variable has no description.
 */
export interface SettingDoc {
  meaning: string;
  /** only for a variable whose schema has no default (loadConfig decides) */
  default?: string;
  /** what `npm run stack` sets, when it differs */
  local?: string;
}

const TOPIC_DOC: SettingDoc = { meaning: "the topic's name (`terraform/functions.json` lists them)" };

/** Variables read outside loadConfig, documented in the same table. */
export const OTHER_VARIABLES: Record<string, { default: string }> = { LOG_LEVEL: { default: '`INFO`' } };

export const DESCRIPTIONS: Record<string, SettingDoc> = {
  GOOGLE_CLOUD_PROJECT: { meaning: 'project id', default: '`demo-speedcam`' },
  GCLOUD_PROJECT: { meaning: 'project id, when `GOOGLE_CLOUD_PROJECT` is not set', default: '`demo-speedcam`' },
  SPEEDCAM_RADARS: {
    default: 'the 5th Avenue radar',
    meaning:
      'JSON array: `{id, name?, entry:[lat,lon], exit:[lat,lon], length_km?, speed_limit_kmh?, tolerance?, tolerance_kmh?, session_gap_s?, ' +
      'min_speed_kmh?, expected_observations?, plausible_max_kmh?, off_section_tolerance_m?, average_speed?, plate_formats?}`',
  },
  SPEEDCAM_DEFAULT_RADAR: { default: 'the first radar', meaning: 'radar of seed messages without a `radar_id` attribute' },
  SPEEDCAM_SPEED_LIMIT_KMH: { meaning: 'speed limit of radars that set none' },
  SPEEDCAM_TOLERANCE_KMH: { meaning: 'a fixed allowance above the limit for radars that set none (older form of `SPEEDCAM_TOLERANCE`)' },
  SPEEDCAM_TOLERANCE: {
    default: "none: fined above the limit (the seed's `> 40`)",
    meaning:
      'tolerance of radars that set none: a preset (`none`, `uk`, `it`, `nl`) or JSON `{percent, plus_kmh, min_kmh, ' +
      'applies_to}`; per radar `tolerance`; see tolerances.md',
  },
  SPEEDCAM_NON_OFFENDER_RETENTION_H: {
    meaning: 'hours a passage that was not fined keeps its vehicle identifier (Firestore, warehouse, captures); see data-retention.md',
  },
  SPEEDCAM_SESSION_GAP_S: { meaning: "a passage's observations are each within this gap of the previous one" },
  SPEEDCAM_MIN_SPEED_KMH: {
    meaning: 'slowest plausible speed: while only the entry or the exit camera saw a vehicle, its passage stays open length ÷ this',
  },
  SPEEDCAM_GAP_CLOSE_DELAY_S: { meaning: 'delivery slack beyond the session gap before the flush closes a passage by gap' },
  SPEEDCAM_EXPECTED_OBSERVATIONS: { meaning: 'a passage closes once it holds this many observations (seed 001 sends 10)' },
  SPEEDCAM_PLAUSIBLE_MAX_KMH: { meaning: 'average speeds above this are flagged `implausible_speed` for review, not fined' },
  SPEEDCAM_MAX_SPOT_SPEED_KMH: { meaning: 'spot speeds above this are rejected' },
  SPEEDCAM_OFF_SECTION_TOLERANCE_M: { meaning: 'observations farther than this from the section are rejected' },
  SPEEDCAM_AVERAGE_SPEED: {
    meaning: "`space_mean` (distance over time) or `arithmetic` (the seeds' mean of spot speeds); per radar `average_speed`",
  },
  SPEEDCAM_GROUP_COMMIT_WAIT_MS: { meaning: "group-commit window (a vehicle's burst on one instance; window events)" },
  SPEEDCAM_LOG_COMMIT_WAIT_MS: {
    meaning: "how long an instance gathers observations of any vehicle before it appends them to the radar's observation log",
  },
  SPEEDCAM_MAX_MESSAGE_BYTES: { meaning: "larger messages are dead-lettered `oversized` (registrations accept Pub/Sub's 10 MB)" },
  SPEEDCAM_MAX_EVENT_AGE_H: { meaning: 'events older than this are rejected' },
  SPEEDCAM_MAX_EVENT_FUTURE_S: { meaning: 'events further in the future than this are rejected' },
  SPEEDCAM_EXPORT_GRACE_S: {
    local: '5 (unless set)',
    meaning:
      'how long a decision or fine notification may stay unpublished before the flush republishes it, and how far behind ' +
      'now the flush exports passages and fines',
  },
  SPEEDCAM_FLUSH_BATCH_LIMIT: { meaning: "the flush's page size" },
  SPEEDCAM_FLUSH_LEASE_S: { meaning: "the flush's lease, renewed by a heartbeat while a run lives" },
  SPEEDCAM_RETENTION_DAYS: { meaning: 'how long Firestore keeps exported state (TTL)' },
  SPEEDCAM_WAREHOUSE: { local: '`duckdb`', meaning: 'warehouse adapter' },
  SPEEDCAM_DUCKDB_PATH: { local: '`<data-dir>/warehouse.duckdb`', meaning: 'the DuckDB file, with `duckdb`' },
  SPEEDCAM_DATASET: { meaning: 'the BigQuery dataset' },
  SPEEDCAM_BIGQUERY_WRITE: {
    meaning: '`storage_write` (Storage Write API CDC upserts) or `insert_all` (legacy, one release); see bigquery.md',
  },
  SPEEDCAM_BIGQUERY_WRITE_ENDPOINT: {
    default: "none (Google's)",
    local: "the stand-in's, with `--warehouse bigquery-local`",
    meaning: 'loopback `host:port` of the local Write API stand-in',
  },
  SPEEDCAM_OBJECTS: { local: '`local`', meaning: 'object store: Cloud Storage, or a directory' },
  SPEEDCAM_OBJECTS_DIR: {
    local: '`<data-dir>/objects`',
    meaning: 'the directory, with `local`: `gs://bucket/name` is `<dir>/bucket/name`',
  },
  SPEEDCAM_CAPTURES_BUCKET: { meaning: 'where cameras store their captures' },
  SPEEDCAM_EVIDENCE_BUCKET: { meaning: 'where the analysed photos are created once' },
  SPEEDCAM_OCR: { meaning: 'OCR adapter: `model` (PP-OCRv4 on the CPU) or `vision` (Cloud Vision); see ocr.md' },
  SPEEDCAM_PLATE_REVIEW_BELOW: {
    default: Object.entries(PLATE_REVIEW_BELOW)
      .map(([ocr, v]) => `${v} with \`${ocr}\``)
      .join(', '),
    meaning: 'plate reads less confident than this are flagged `low_confidence`',
  },
  SPEEDCAM_PLATE_FORMATS: {
    meaning:
      'comma-separated plate formats the radars expect (presets or L/D/A templates, see fines.md); ' +
      'per radar `plate_formats`; empty: any plate',
  },
  SPEEDCAM_CARS_API: {
    default: 'none',
    local: "the stack's own, unless set",
    meaning: 'seed 001\'s cars API: `GET <url>?vehicle_id=…&radar_id=…` → `{"image_url"}`, the last photo source',
  },
  SPEEDCAM_PHOTO_HOSTS: {
    meaning: "hosts an http(s) photo may come from (`host`, `*.domain`, `host:port`); the cars API's host is added",
  },
  SPEEDCAM_PHOTO_ALLOW_LOOPBACK: { local: '`true` (unless set)', meaning: 'whether photos may come from 127.0.0.0/8 or ::1 (see below)' },
  SPEEDCAM_PHOTO_MAX_BYTES: { meaning: 'size limit of a photo fetch (declared or streamed)' },
  SPEEDCAM_PHOTO_TIMEOUT_MS: { meaning: 'time limit of a photo fetch, the whole exchange' },
  SPEEDCAM_COLLECTION_PREFIX: { meaning: 'prefix of every Firestore collection (tests and benches share one emulator)' },
  SPEEDCAM_WINDOW_LATENESS_S: { meaning: 'default allowed lateness of the window pipelines' },
  SPEEDCAM_PIPELINES: {
    default: 'empty: publish time, clicks 60 s, transactions 30 s, `late: dead_letter`',
    meaning:
      'JSON per window pipeline (`clicks`, `transactions`): `event_time` (`publish_time` \\| `payload` \\| `attribute:NAME`), ' +
      '`timezone`, `window_s`, `lateness_s`, `late` (`dead_letter` \\| `update`), `early_s` (early panes; clicks 60); ' +
      'see windows-and-time.md',
  },
  SPEEDCAM_FLUSH_PERIOD_S: {
    local: "the stack's flush tick",
    meaning: "the scheduler's cadence: a flush run keeps exporting due windows until the next tick",
  },
  SPEEDCAM_SECTION_TRAFFIC_LATENESS_S: {
    meaning: 'lateness of `section_traffic_minute` (passages reach it a gap, the export grace and a flush period after their exit)',
  },
  SPEEDCAM_REVIEW_AUTH: {
    local: '`token`',
    meaning: 'how the review function authenticates: `google` (verified Google ID token, behind invoker IAM) or `token` (a bearer token)',
  },
  SPEEDCAM_REVIEW_TOKEN: {
    default: 'none',
    local: 'a new one per run, printed in READY (unless set)',
    meaning: 'the bearer token, with `token`',
  },
  SPEEDCAM_REVIEW_AUDIENCES: {
    meaning: "comma-separated audiences an ID token must carry (the function's URLs); empty: any audience (invoker IAM checked it first)",
  },
  SPEEDCAM_REVIEW_CLAIM_S: { meaning: 'how long a reviewer who opened a held fine keeps it to themselves' },
  SPEEDCAM_REVIEW_EVERY_FINE: {
    meaning: '`true`: every fine is held until a person confirms its plate (UK and Dutch practice), not only doubtful ones; see review.md',
  },
  SPEEDCAM_REVIEW_ALERT_H: { meaning: 'the alert fires when the oldest held fine has waited longer than this' },
  SPEEDCAM_FAULTS: { meaning: 'chaos only: `point:probability,…` injected transient failures' },
  LOG_LEVEL: { meaning: 'minimum severity of the JSON logs (the stack writes every line to `stack.log`, echoes `WARNING` and above)' },
  ...Object.fromEntries(TOPICS.map((t) => [t.env, TOPIC_DOC])),
};

export const BEGIN = '<!-- generated by `speedcam config-doc` from shared/config.ts: do not edit by hand -->';
export const END = '<!-- end of generated table -->';

function shown(v: unknown): string {
  if (v === undefined) return '';
  if (v === '') return 'empty';
  return typeof v === 'string' ? `\`${v}\`` : String(v);
}

/** Every variable the code reads, in the schema's order, then the topics, then the others. */
export function documentedVariables(): { name: string; default: string }[] {
  const defaults = envSchema.parse({}) as Record<string, unknown>;
  return [
    ...Object.keys(envSchema.shape).map((name) => ({ name, default: shown(defaults[name]) })),
    ...TOPICS.map((t) => ({ name: t.env, default: shown(t.name) })),
    ...Object.entries(OTHER_VARIABLES).map(([name, o]) => ({ name, default: o.default })),
  ];
}

export function configurationTable(): string {
  const rows = documentedVariables().map(({ name, default: d }) => {
    const doc = DESCRIPTIONS[name];
    if (!doc) throw new Error(`${name} has no description in cli/config-doc.ts DESCRIPTIONS`);
    return `| \`${name}\` | ${d || doc.default || ''} | ${doc.local ?? ''} | ${doc.meaning} |`;
  });
  return ['| variable | default | `npm run stack` | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** docs/configuration.md with its generated table replaced. */
export function withTable(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/configuration.md has no generated-table markers');
  return `${doc.slice(0, a + BEGIN.length)}\n${configurationTable()}\n${doc.slice(b)}`;
}

export function writeConfigurationDoc(path: string): void {
  writeFileSync(path, withTable(readFileSync(path, 'utf8')));
}
