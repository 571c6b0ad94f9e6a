import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../shared/platform/duckdb-warehouse.js';
import { silentLogger } from '../../shared/core/logger.js';
import { Faults } from '../../shared/core/faults.js';
import { createRuntime, type RuntimeOverrides } from '../../shared/runtime.js';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig, type Config } from '../../shared/config.js';
import type { Publisher } from '../../shared/core/publisher.js';
import type { InboundMessage } from '../../shared/core/pubsub-message.js';
import { haversineKm } from '../../shared/core/geo.js';
import { WriteApiStandIn } from '../../cli/bigquery-write-stand-in.js';

/** Points this test file's Google clients at the run's emulators; returns a fresh demo- project id. */
export function useEmulators(): string {
  process.env['PUBSUB_EMULATOR_HOST'] = inject('pubsubHost');
  process.env['FIRESTORE_EMULATOR_HOST'] = inject('firestoreHost');
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  return `demo-t-${randomUUID().slice(0, 8)}`;
}

/** The port of one of the run's emulators ('pubsubHost' or 'firestoreHost'). */
export function emulatorPort(name: 'pubsubHost' | 'firestoreHost'): number {
  return Number(inject(name).split(':')[1]);
}

/** Where a local stack runs in a test: the run's emulators, a fresh demo- project, functions on free ports. */
export function stackOnTestEmulators(): { project: string; pubsubPort: number; firestorePort: number; functionsPort: number } {
  return {
    project: useEmulators(),
    pubsubPort: emulatorPort('pubsubHost'),
    firestorePort: emulatorPort('firestoreHost'),
    functionsPort: 0,
  };
}

/** The expected average speed of spot speeds at points, computed apart from the product: distance over the time at each segment's pair mean. */
export function expectedSpaceMean(speeds: readonly number[], points: readonly (readonly [number, number])[]): number {
  let d = 0;
  let h = 0;
  for (let i = 0; i + 1 < speeds.length; i++) {
    const seg = haversineKm(points[i]!, points[i + 1]!);
    d += seg;
    h += seg / ((speeds[i]! + speeds[i + 1]!) / 2);
  }
  return d / h;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ SPEEDCAM_WAREHOUSE: 'duckdb', SPEEDCAM_GAP_CLOSE_DELAY_S: '0', ...env });
}

let seq = 0;
/** A delivered message as functions receive it. */
export function inbound(
  data: string | Buffer,
  opts: { attributes?: Record<string, string>; publishTimeMs?: number; messageId?: string } = {},
): InboundMessage {
  return {
    data: typeof data === 'string' ? Buffer.from(data) : data,
    attributes: opts.attributes ?? {},
    messageId: opts.messageId ?? `m-${++seq}`,
    publishTimeMs: opts.publishTimeMs ?? Date.now(),
  };
}

/** Records publishes in memory; can be told to fail. */
export class RecordingPublisher implements Publisher {
  messages: { topic: string; data: Record<string, unknown>; attributes: Record<string, string> }[] = [];
  failNext = 0;
  async publish(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('UNAVAILABLE: injected publish failure'), { code: 14 });
    }
    this.messages.push({ topic, data: JSON.parse(data.toString()) as Record<string, unknown>, attributes });
    return String(this.messages.length);
  }
  on(topic: string) {
    return this.messages.filter((m) => m.topic === topic);
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public t = Date.parse('2026-11-21T10:00:00Z')) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/**
 * The warehouses the crash and redelivery tests run against: DuckDB's own upsert, and the BigQuery
 * Storage Write API path (the real client and CDC writer, shared/platform/bigquery-cdc-writer.ts)
 * against the local stand-in (cli/bigquery-write-stand-in.ts), which applies BigQuery's UPSERT
 * semantics into the same DuckDB file. Either way the tests read base tables: no view.
 */
export const WAREHOUSES = ['duckdb', 'write-api'] as const;
export type WarehouseKind = (typeof WAREHOUSES)[number];

let standIn: WriteApiStandIn | null = null;
/** Where the stand-in writes each world's dataset. */
const standInPaths = new Map<string, string>();

/** Call in beforeAll of a file that runs worlds on the Write API stand-in (stopped by closeWorlds). */
export async function startWriteApiStandIn(): Promise<WriteApiStandIn> {
  standIn ??= await new WriteApiStandIn({
    pathFor: (project, dataset) => {
      const path = standInPaths.get(`${project}/${dataset}`);
      if (!path) throw new Error(`no test world has dataset ${project}:${dataset}`);
      return path;
    },
  }).start();
  return standIn;
}

/** The running stand-in (after startWriteApiStandIn). */
export function writeApiStandIn(): WriteApiStandIn {
  if (!standIn) throw new Error('call startWriteApiStandIn() in beforeAll first');
  return standIn;
}

/**
 * A file whose worlds run on both warehouses: its emulator project and the Write API stand-in before it; after it,
 * `check` looks at what the stand-in saw, then the worlds (and the stand-in) close.
 */
export function useWarehouseWorlds(check: (stats: WriteApiStandIn['stats']) => void = () => {}): void {
  beforeAll(async () => {
    useEmulatorProject();
    await startWriteApiStandIn();
  });
  afterAll(async () => {
    check(writeApiStandIn().stats);
    await closeWorlds();
  });
}

/** A deterministic random stream (Lehmer, Park–Miller) from a seed. */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/** testWorld's settings for a warehouse kind. */
export function warehouseEnv(kind: WarehouseKind): Record<string, string> {
  return kind === 'duckdb' ? {} : { SPEEDCAM_WAREHOUSE: 'bigquery' };
}

let project = 'demo-speedcam-test';
let worlds = 0;
const open: { close(): Promise<void> }[] = [];

/** Call in beforeAll: this file's clients go to the run's emulators under a fresh demo- project. */
export function useEmulatorProject(): string {
  project = useEmulators();
  return project;
}

/**
 * A runtime wired exactly as in production, on the emulators, with its own collections (prefix), a
 * clock the test moves, a fault switch, a recording publisher and a DuckDB warehouse in a temp file.
 */
export function testWorld(env: Record<string, string> = {}, overrides: Omit<RuntimeOverrides, 'clock' | 'faults' | 'publisher'> = {}) {
  const warehousePath = join(mkdtempSync(join(tmpdir(), 'speedcam-wh-')), 'wh.duckdb');
  // On the Write API stand-in, the world's own dataset, written by the stand-in into its DuckDB file.
  const bigquery: Record<string, string> = {};
  if (env['SPEEDCAM_WAREHOUSE'] === 'bigquery') {
    const dataset = `w${worlds + 1}`;
    standInPaths.set(`${project}/${dataset}`, warehousePath);
    Object.assign(bigquery, { SPEEDCAM_DATASET: dataset, SPEEDCAM_BIGQUERY_WRITE_ENDPOINT: writeApiStandIn().endpoint });
  }
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: project,
    SPEEDCAM_WAREHOUSE: 'duckdb',
    SPEEDCAM_DUCKDB_PATH: warehousePath,
    SPEEDCAM_COLLECTION_PREFIX: `w${++worlds}_`,
    SPEEDCAM_GROUP_COMMIT_WAIT_MS: '20',
    SPEEDCAM_EXPORT_GRACE_S: '30',
    SPEEDCAM_GAP_CLOSE_DELAY_S: '0',
    // Never the real Cloud Storage or Vision from a test.
    SPEEDCAM_OBJECTS: 'local',
    SPEEDCAM_OBJECTS_DIR: mkdtempSync(join(tmpdir(), 'speedcam-objects-')),
    SPEEDCAM_OCR: 'model',
    ...env,
    ...bigquery,
  });
  const clock = new ManualClock(Date.now());
  const faults = new Faults();
  const publisher = new RecordingPublisher();
  const make = (more: Omit<RuntimeOverrides, 'clock' | 'faults' | 'publisher'> = {}) => {
    const made = createRuntime(config, { logger: silentLogger, clock, faults, publisher, ...overrides, ...more });
    open.push(made);
    return made;
  };
  const rt = make();
  /** Another instance of the same functions: its own caches and group commits, the same collections, clock, faults and publisher. */
  const instance = make;
  const query = (sql: string) => queryWarehouse(warehousePath, sql);
  return { rt, instance, config, clock, faults, publisher, warehousePath, query };
}

/**
 * The body of a speeding decision as the speed check publishes it: the world's default radar, seen from its clock's now
 * for `seenForMs`, no plate reported. `more` adds fields or overrides them (the rule, the photos, the reported plate).
 */
export function speedingBody<More extends Record<string, unknown> = Record<never, never>>(
  w: { config: Config; clock: { now(): number } },
  vehicleId: string,
  o: { avgSpeed: number; seenForMs: number; imageUri?: string | null },
  more: More = {} as More,
) {
  const radar = w.config.radars.get(w.config.defaultRadarId)!;
  const t = w.clock.now();
  return {
    passage_id: `${radar.id}~${vehicleId}~${t}`,
    radar_id: radar.id,
    vehicle_id: vehicleId,
    avg_speed: o.avgSpeed,
    speed_limit: 40,
    coordinates: radar.exit,
    is_Ticketed: true,
    license_plate: null as string | null,
    image_uri: o.imageUri ?? null,
    first_seen: new Date(t).toISOString(),
    last_seen: new Date(t + o.seenForMs).toISOString(),
    ...more,
  };
}

/** One query on a DuckDB warehouse file, opened read-only for it (a file has one writer process at a time). */
export async function queryWarehouse(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const wh = await DuckDbWarehouse.open(path, { readOnly: true });
  try {
    return await wh.query(sql);
  } finally {
    await wh.close();
  }
}

/** Call in afterAll: closes every runtime testWorld made. */
export async function closeWorlds(): Promise<void> {
  await Promise.all(open.splice(0).map((r) => r.close()));
  const s = standIn;
  standIn = null;
  standInPaths.clear();
  await s?.stop();
}

/** Independent computation: per 30 s (or `sizeMs`) window of UTC ms, integer cents. */
export function expectedTransactionWindows(items: { utcMs: number; amount: number }[], sizeMs: number) {
  const win = new Map<number, number[]>();
  for (const { utcMs, amount } of items) {
    const start = Math.floor(utcMs / sizeMs) * sizeMs;
    win.set(start, [...(win.get(start) ?? []), Math.round(amount * 100)]);
  }
  return [...win.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, cents]) => {
      const sum = cents.reduce((a, b) => a + b, 0);
      return {
        start: new Date(start).toISOString(),
        total_transactions: cents.length,
        total_amount_sum: sum / 100,
        avg_transaction_amount: Math.round(sum / cents.length) / 100,
        max_amount: Math.max(...cents) / 100,
        min_amount: Math.min(...cents) / 100,
      };
    });
}
