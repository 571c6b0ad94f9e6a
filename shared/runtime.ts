import { createRequire } from 'node:module';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { ImageAnnotatorClient } from '@google-cloud/vision';
import type { BigQuery } from '@google-cloud/bigquery';
import { FirestoreFineStore } from './platform/firestore/fine-store.js';
import { GcsObjectStore } from './platform/gcs-object-store.js';
import { LocalObjectStore } from './platform/local-object-store.js';
import type { FineDeps } from './fines/fine.js';
import { FirestoreWindowStore } from './platform/firestore/window-store.js';
import { passageFeed, WindowIngest, type WindowDeps } from './windows/window-ingest.js';
import { windowPipeline, windowPipelines } from './windows/pipeline.js';
import { FirestoreUserStore } from './platform/firestore/user-store.js';
import { FirestoreDeadLetterStore } from './platform/firestore/dead-letter-store.js';
import { FirestoreFlushControl } from './platform/firestore/flush-control.js';
import { FirestorePassageStore } from './platform/firestore/passage-store.js';
import { PubSubPublisher } from './platform/pubsub-publisher.js';
import { loadConfig, type Config } from './config.js';
import type { FlushDeps } from './export/flush.js';
import { createLogger, type Logger } from './core/logger.js';
import { Faults } from './core/faults.js';
import { OpsCounter } from './core/ops-counter.js';
import { systemClock, type Clock } from './core/clock.js';
import type { ObjectStore, TextDetector } from './fines/ports.js';
import type { Publisher } from './core/publisher.js';
import type { Warehouse } from './export/warehouse.js';
import { SpeedCheck } from './speed/speed-check.js';
import { deadLettersExporter } from './dead-letters/export.js';
import { closeExpiredPassages, passageExporters } from './speed/passage-export.js';
import { finesExporter } from './fines/fine-record.js';
import { usersExporter } from './registrations/registrations.js';
import { windowExporter } from './windows/window-flush.js';

/** Everything a function needs, wired to real clients (emulators when the *_EMULATOR_HOST vars are set). */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  faults: Faults;
  /** Firestore operations of the speed path, fines and flush */
  ops: OpsCounter;
  /** Firestore operations of the window pipelines and registrations, counted apart */
  windowOps: OpsCounter;
  db: Firestore;
  publisher: Publisher;
  passages: FirestorePassageStore;
  deadLetters: FirestoreDeadLetterStore;
  speedCheck: SpeedCheck;
  flushDeps: FlushDeps;
  fineDeps: FineDeps;
  windows: FirestoreWindowStore;
  users: FirestoreUserStore;
  windowDeps: WindowDeps;
  clicks: WindowIngest;
  transactions: WindowIngest;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  logger?: Logger;
  clock?: Clock;
  faults?: Faults;
  /** tests record publishes instead of sending them */
  publisher?: Publisher;
  objects?: ObjectStore;
  ocr?: TextDetector;
}

const require = createRequire(import.meta.url);

/**
 * A client created on its first use. Each deployed function loads only the clients and native modules it
 * uses (cold start: the observation path never loads Cloud Storage, Vision, BigQuery, DuckDB or
 * tesseract; `npm run bench:cold-start` measures it). The Google clients are CommonJS, so the first
 * use can require them synchronously.
 */
function onFirstUse<T extends object>(create: () => T): T {
  let client: T | undefined;
  return new Proxy({} as T, {
    get(_, prop) {
      client ??= create();
      const v = (client as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? v.bind(client) : v;
    },
  });
}

export function createRuntime(config: Config, overrides: RuntimeOverrides = {}): Runtime {
  const logger = overrides.logger ?? createLogger({ component: 'speedcam' });
  const clock = overrides.clock ?? systemClock;
  const faults = overrides.faults ?? (config.faultSpec ? Faults.fromSpec(config.faultSpec) : new Faults());
  const ops = new OpsCounter();
  const windowOps = new OpsCounter();
  const db = new Firestore({ projectId: config.projectId, ignoreUndefinedProperties: true });
  const pubsub = overrides.publisher ? null : new PubSubPublisher(new PubSub({ projectId: config.projectId }));
  const publisher: Publisher = overrides.publisher ?? pubsub!;
  const firestore = { db, retentionMs: config.retentionMs, ops, clock };
  // The window pipelines and registrations count their operations apart.
  const windowFirestore = { ...firestore, ops: windowOps };
  const passages = new FirestorePassageStore(firestore, config.collections);
  const fines = new FirestoreFineStore(firestore, config.collections.fines);
  const objects: ObjectStore =
    overrides.objects ??
    (config.objects.kind === 'local'
      ? new LocalObjectStore(config.objects.dir)
      : new GcsObjectStore(onFirstUse(() => new (require('@google-cloud/storage') as { Storage: typeof Storage }).Storage({ projectId: config.projectId }))));
  // Created on first use: tesseract's worker or Vision's client cost start-up time the other functions need not pay.
  let detector: Promise<TextDetector & { close?(): Promise<void> }> | undefined;
  const createDetector = async (): Promise<TextDetector & { close?(): Promise<void> }> => {
    if (overrides.ocr) return overrides.ocr;
    if (config.ocr === 'tesseract') return new (await import('./platform/tesseract-text-detector.js')).TesseractTextDetector();
    const { ImageAnnotatorClient: Client } = require('@google-cloud/vision') as { ImageAnnotatorClient: typeof ImageAnnotatorClient };
    return new (await import('./platform/vision-text-detector.js')).VisionTextDetector(new Client({ projectId: config.projectId }));
  };
  const ocr: TextDetector & { close(): Promise<void> } = {
    detect: async (image) => {
      // A failed start (a missing language file, a client error) is tried again on the next photo.
      detector ??= createDetector().catch((err: unknown) => {
        detector = undefined;
        throw err;
      });
      return (await detector).detect(image);
    },
    close: async () => (await detector)?.close?.(),
  };
  const deadLetters = new FirestoreDeadLetterStore(firestore, config.collections.deadLetters);
  const control = new FirestoreFlushControl(db, config.collections.control, ops, clock);
  const wh = config.warehouse;
  const openWarehouse = async (): Promise<Warehouse> => {
    if (wh.kind === 'duckdb') return (await import('./platform/duckdb-warehouse.js')).DuckDbWarehouse.open(wh.path);
    const { BigQuery: Client } = require('@google-cloud/bigquery') as { BigQuery: typeof BigQuery };
    return new (await import('./platform/bigquery-warehouse.js')).BigQueryWarehouse(new Client({ projectId: config.projectId }), wh.dataset);
  };
  const windows = new FirestoreWindowStore(windowFirestore, config.collections);
  const users = new FirestoreUserStore(windowFirestore, config.collections.users);
  const base = { config, logger, clock, faults, publisher, store: passages };
  const windowDeps: WindowDeps = { config, logger, clock, faults, publisher, windows };
  const speedCheck = new SpeedCheck(base);
  const deadLetterExport = deadLettersExporter({ store: deadLetters });
  const pipelines = windowPipelines(config);
  const flushDeps: FlushDeps = {
    config,
    control,
    openWarehouse,
    logger,
    clock,
    faults,
    closeExpired: () => closeExpiredPassages({ ...base, sweep: () => speedCheck.sweepAll() }),
    // In this order: section traffic hears of the passages before its windows are looked at.
    exporters: [
      ...passageExporters(base, passageFeed(windows, pipelines)),
      finesExporter({ config, publisher, faults, fines }),
      usersExporter({ users }),
      ...pipelines.map((p) => windowExporter({ config, logger, clock, faults, publisher, windows }, p)),
      deadLetterExport,
    ],
    refused: deadLetterExport,
  };
  return {
    config,
    logger,
    clock,
    faults,
    ops,
    windowOps,
    db,
    publisher,
    passages,
    deadLetters,
    speedCheck,
    flushDeps,
    windows,
    users,
    windowDeps,
    clicks: new WindowIngest(windowDeps, windowPipeline('clicks', config)),
    transactions: new WindowIngest(windowDeps, windowPipeline('transactions', config)),
    fineDeps: { config, logger, clock, faults, publisher, fines, objects, ocr },
    async close() {
      await ocr.close();
      await pubsub?.close();
      await db.terminate();
    },
  };
}

let current: Runtime | undefined;

/** The process-wide runtime of the deployed functions, created on first use from process.env. */
export function runtime(): Runtime {
  current ??= createRuntime(loadConfig(process.env));
  return current;
}

/** Installs a runtime (the local stack and tests use this to share one with their own logger). */
export function setRuntime(rt: Runtime | undefined): void {
  current = rt;
}
