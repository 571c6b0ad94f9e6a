import { createRequire } from 'node:module';
import type { BigQuery } from '@google-cloud/bigquery';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { ImageAnnotatorClient } from '@google-cloud/vision';
import { loadConfig, type Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { Faults } from './core/faults.js';
import { createLogger, type Logger } from './core/logger.js';
import { OpsCounter } from './core/ops-counter.js';
import type { Publisher } from './core/publisher.js';
import type { InboundMessage } from './core/pubsub-message.js';
import type { DeadLetter } from './dead-letters/dead-letter.js';
import { deadLettersExporter } from './dead-letters/export.js';
import { recordDeadLetter } from './dead-letters/sink.js';
import { runFlush, runUntilForTick, type FlushDeps, type FlushOptions, type FlushReport } from './export/flush.js';
import type { Warehouse } from './export/warehouse.js';
import type { FineDeps } from './fines/fine.js';
import { finesExporter, type FineRecord } from './fines/fine-record.js';
import type { ObjectStore, TextDetector } from './fines/ports.js';
import { FirestoreDeadLetterStore } from './platform/firestore/firestore-dead-letter-store.js';
import { FirestoreFineStore } from './platform/firestore/firestore-fine-store.js';
import { FirestoreFlushControl } from './platform/firestore/flush-control.js';
import { FirestorePassageStorage } from './platform/firestore/firestore-passage-storage.js';
import { FirestoreReviewStore } from './platform/firestore/firestore-review-store.js';
import { FirestoreUserStore } from './platform/firestore/firestore-user-store.js';
import { FirestoreWindowStore } from './platform/firestore/firestore-window-store.js';
import { GcsObjectStore } from './platform/gcs-object-store.js';
import { LocalObjectStore } from './platform/local-object-store.js';
import { PubSubPublisher } from './platform/pubsub-publisher.js';
import { handleRegistrations, usersExporter } from './registrations/registrations.js';
import type { ReviewRequest } from './review/http.js';
import { reviewsExporter, reviewQueueReport } from './review/review-export.js';
import type { Answer } from './review/review.js';
import { closeExpiredPassages, passageExporters } from './speed/passage-export.js';
import { nonOffenderRetentionSteps } from './speed/non-offender-retention.js';
import { PassageStore } from './speed/passage-store.js';
import { SpeedCheck } from './speed/speed-check.js';
import { resolvePipeline, windowPipelines } from './windows/pipeline.js';
import { WINDOW_PIPELINES, type TopicPipelineName } from './windows/pipelines/index.js';
import { windowExporter } from './windows/window-flush.js';
import { passageFeed, WindowIngest } from './windows/window-ingest.js';
import type { WindowStore } from './windows/window-store.js';

/** What a function does with one delivery: resolving acks it, throwing has Pub/Sub deliver it again. */
export interface Handler<R = unknown> {
  handle(msg: InboundMessage): Promise<R>;
}

/** The flush: a tick runs it until the next tick is due; `run` is one run now (the stack, tests, benches). */
export interface FlushHandler extends Handler<FlushReport> {
  run(opts?: FlushOptions): Promise<FlushReport>;
}

/** What an HTTP function people call does with one request (the review page and its API). */
export interface HttpHandler {
  handle(req: ReviewRequest): Promise<Answer>;
}

/**
 * The composition root: every function's handler, wired to real clients (the emulators when the
 * *_EMULATOR_HOST variables are set). A handler is built on its first use, so each deployed function
 * builds only what it uses.
 */
export interface Runtime extends Handlers {
  config: Config;
  logger: Logger;
  clock: Clock;
  faults: Faults;
  /** Firestore operations of the speed path, fines and flush */
  ops: OpsCounter;
  /** Firestore operations of the window pipelines and registrations, counted apart */
  windowOps: OpsCounter;
  publisher: Publisher;
  /** the stores, for the stack, tests and benches that look inside */
  stores: {
    db: Firestore;
    /** the speed path's passages (the state machine), over passageStorage */
    passages: PassageStore;
    /** what passages are stored in (its operations counted by purpose: opsByKind) */
    passageStorage: FirestorePassageStorage;
    fines: FirestoreFineStore;
    reviews: FirestoreReviewStore;
    deadLetters: FirestoreDeadLetterStore;
    windows: FirestoreWindowStore;
    users: FirestoreUserStore;
    control: FirestoreFlushControl;
  };
  close(): Promise<void>;
}

/**
 * The runtime's handlers: each deployed function is served by one, named in its declaration in
 * functions/catalog.ts (`handler: 'fines'`; a group's member as `'windows.clicks'`). The compiler checks both
 * ways: a declaration naming no handler here, and a handler here that no declaration names, fail to compile.
 */
export interface Handlers {
  /** vehicle-observations → passages → decisions */
  readonly speedCheck: SpeedCheck;
  /** speeding-vehicles → photo, plate, analysed photo, fine record, notification */
  readonly fines: Handler<FineRecord | null>;
  /** each window pipeline with a topic of its own, by name */
  readonly windows: Readonly<Record<TopicPipelineName, WindowIngest>>;
  /** user-registrations → one users row per result */
  readonly registrations: Handler<number>;
  /** the review function: the page and its JSON API over the held fines (HTTP, not a push subscription) */
  readonly review: HttpHandler;
  /** dead-letters → kept for the flush */
  readonly deadLetterSink: Handler<DeadLetter>;
  readonly flush: FlushHandler;
}

export interface RuntimeOverrides {
  logger?: Logger;
  clock?: Clock;
  faults?: Faults;
  /** tests record publishes instead of sending them */
  publisher?: Publisher;
  objects?: ObjectStore;
  ocr?: TextDetector;
  /** opens the warehouse the flush writes to, given the configured one (tests and benches wrap it) */
  warehouse?: (configured: () => Promise<Warehouse>) => Promise<Warehouse>;
  /** the store the window pipelines ingest into, given the Firestore one (a test holds its commits back) */
  windowStore?: (firestore: WindowStore) => WindowStore;
}

const require = createRequire(import.meta.url);

/**
 * A client created on its first use. Each deployed function loads only the clients and native modules it
 * uses (cold start: the observation path never loads Cloud Storage, Vision, BigQuery, DuckDB or
 * the OCR model; `npm run bench:cold-start` measures it). The Google clients are CommonJS, so the first
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

/** A value made on its first use, then kept. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
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
  const firestore = { db, retentionMs: config.retentionMs, nonOffenderRetentionMs: config.nonOffenderRetentionMs, ops, clock };
  // The window pipelines and registrations count their operations apart.
  const windowFirestore = { ...firestore, ops: windowOps };
  const c = config.collections;
  const passageStorage = new FirestorePassageStorage(firestore, c);
  const stores = {
    db,
    passages: new PassageStore(passageStorage, firestore),
    passageStorage,
    fines: new FirestoreFineStore(firestore, c.fines),
    reviews: new FirestoreReviewStore(firestore, c.fines, c.fineReviews),
    deadLetters: new FirestoreDeadLetterStore(firestore, c.deadLetters),
    windows: new FirestoreWindowStore(windowFirestore, c),
    users: new FirestoreUserStore(windowFirestore, c.users),
    control: new FirestoreFlushControl(db, c.control, ops, clock),
  };
  const windowStore = overrides.windowStore?.(stores.windows) ?? stores.windows;
  const sending = { config, logger, clock, faults, publisher };
  const speedDeps = { ...sending, store: stores.passages };

  // Created on first use: the OCR model's sessions or Vision's client cost start-up time the other functions need not pay.
  let detector: Promise<TextDetector & { close?(): Promise<void> }> | undefined;
  const createDetector = async (): Promise<TextDetector & { close?(): Promise<void> }> => {
    if (overrides.ocr) return overrides.ocr;
    if (config.ocr === 'model') return new (await import('./platform/ocr/paddle-text-detector.js')).PaddleTextDetector();
    const { ImageAnnotatorClient: Client } = require('@google-cloud/vision') as { ImageAnnotatorClient: typeof ImageAnnotatorClient };
    return new (await import('./platform/ocr/vision-text-detector.js')).VisionTextDetector(new Client({ projectId: config.projectId }));
  };
  // A failed start (a missing model file, a client error) is tried again on the next photo.
  const startDetector = () =>
    (detector ??= createDetector()
      .then(async (d) => (await (d as { warm?(): Promise<void> }).warm?.(), d))
      .catch((err: unknown) => {
        detector = undefined;
        throw err;
      }));
  const ocr: TextDetector & { close(): Promise<void> } = {
    detect: async (image) => (await startDetector()).detect(image),
    close: async () => (await detector?.catch(() => undefined))?.close?.(),
  };

  const speedCheck = once(() => new SpeedCheck(speedDeps));

  const objectStore = once(
    (): ObjectStore =>
      overrides.objects ??
      (config.objects.kind === 'local'
        ? new LocalObjectStore(config.objects.dir)
        : new GcsObjectStore(
            onFirstUse(
              () => new (require('@google-cloud/storage') as { Storage: typeof Storage }).Storage({ projectId: config.projectId }),
            ),
          )),
  );

  const fines = once((): Handler<FineRecord | null> => {
    const objects = objectStore();
    const deps: FineDeps = { ...sending, fines: stores.fines, objects, ocr };
    // The model's sessions load (~0.5 s) while the first fine fetches its photo, not after.
    if (config.ocr === 'model' && !overrides.ocr) startDetector().catch(() => undefined);
    // The image and OCR code (sharp) is loaded by the fines function only (its preload in functions/catalog.ts).
    const issue = once(async () => (await import('./fines/fine.js')).issueFine);
    return { handle: async (msg) => (await issue())(deps, msg) };
  });

  const windows = once(() => {
    const deps = { ...sending, windows: windowStore };
    const byName = {} as Record<TopicPipelineName, WindowIngest>;
    for (const p of WINDOW_PIPELINES) {
      if (p.input.kind !== 'topic') continue;
      const ingest = once(() => new WindowIngest(deps, resolvePipeline(p, config)));
      Object.defineProperty(byName, p.name, { get: ingest, enumerable: true });
    }
    return byName;
  });

  const registrations = once((): Handler<number> => ({ handle: (msg) => handleRegistrations({ ...sending, users: stores.users }, msg) }));

  const review = once(() => {
    // The drawing code (sharp) and the token verifier load on the first request that needs them.
    const route = once(async () => {
      const [{ routeReview }, { authenticator }] = await Promise.all([import('./review/http.js'), import('./review/auth.js')]);
      const authenticate = await authenticator(config);
      type Draw = typeof import('./fines/evidence-photo.js').drawAnalysedPhoto;
      const draw: Draw = async (...a) => (await import('./fines/evidence-photo.js')).drawAnalysedPhoto(...a);
      const deps = { ...sending, reviews: stores.reviews, fines: stores.fines, objects: objectStore(), draw, authenticate };
      return (req: ReviewRequest) => routeReview(deps, req);
    });
    return { handle: async (req: ReviewRequest) => (await route())(req) };
  });

  const deadLetterSink = once((): Handler<DeadLetter> => ({
    handle: (msg) => recordDeadLetter({ store: stores.deadLetters, logger, clock, faults }, msg),
  }));

  let writerClient: import('@google-cloud/bigquery-storage').managedwriter.WriterClient | undefined;
  const flush = once((): FlushHandler => {
    const wh = config.warehouse;
    const configured = async (): Promise<Warehouse> => {
      if (wh.kind === 'duckdb') return (await import('./platform/duckdb-warehouse.js')).DuckDbWarehouse.open(wh.path);
      const { BigQuery: Client } = require('@google-cloud/bigquery') as { BigQuery: typeof BigQuery };
      if (wh.write === 'insert_all')
        return new (await import('./platform/bigquery-warehouse.js')).BigQueryWarehouse(
          new Client({ projectId: config.projectId }),
          wh.dataset,
        );
      const { CdcWriter, createWriterClient } = await import('./platform/bigquery-cdc-writer.js');
      // One Write API client (one gRPC channel) per instance; each pass opens and closes its stream connections.
      writerClient ??= createWriterClient({ projectId: config.projectId, endpoint: wh.writeEndpoint });
      const cdc = new CdcWriter({ projectId: config.projectId, dataset: wh.dataset, client: writerClient });
      return new (await import('./platform/bigquery-warehouse.js')).BigQueryWarehouse(
        new Client({ projectId: config.projectId }),
        wh.dataset,
        cdc,
      );
    };
    const pipelines = windowPipelines(config);
    const deadLetters = deadLettersExporter({ store: stores.deadLetters });
    const deps: FlushDeps = {
      config,
      control: stores.control,
      openWarehouse: overrides.warehouse ? () => overrides.warehouse!(configured) : configured,
      logger,
      clock,
      faults,
      closeExpired: () => closeExpiredPassages({ ...speedDeps, sweep: () => speedCheck().sweepAll() }),
      // In this order: the pipelines fed by passages hear of them before their windows are looked at.
      exporters: [
        ...passageExporters(speedDeps, passageFeed(windowStore, pipelines)),
        finesExporter({ ...sending, fines: stores.fines }),
        reviewsExporter({ reviews: stores.reviews }),
        usersExporter({ users: stores.users }),
        ...pipelines.map((p) => windowExporter({ ...sending, windows: windowStore }, p)),
        deadLetters,
      ],
      // The local Write API stand-in takes appends only, no query jobs: the warehouse's hourly UPDATE is not run
      // against it (the UPDATE is tested on DuckDB and by its SQL; docs/data-retention.md).
      steps: nonOffenderRetentionSteps({ config, store: stores.passages, clock, logger }).filter(
        (s) => !(s.name === 'non_offender_warehouse' && config.warehouse.kind === 'bigquery' && config.warehouse.writeEndpoint),
      ),
      refused: deadLetters,
      report: () => reviewQueueReport({ reviews: stores.reviews, clock, config }),
    };
    return {
      run: (opts) => runFlush(deps, undefined, opts),
      // A tick's run keeps exporting windows as they fall due until the next tick (its publish time + the period).
      handle: (tick) => runFlush(deps, undefined, { runUntilMs: runUntilForTick(tick.publishTimeMs, config.flushPeriodMs) }),
    };
  });

  const parts = {
    config,
    logger,
    clock,
    faults,
    ops,
    windowOps,
    publisher,
    stores,
    async close() {
      await ocr.close();
      await pubsub?.close();
      writerClient?.close();
      await (writerClient?.getClient() as { close?(): Promise<void> } | undefined)?.close?.();
      await db.terminate();
    },
  };
  // Each handler is built when first asked for: a function builds only what it uses.
  const handlers: { [K in keyof Handlers]: () => Handlers[K] } = {
    speedCheck,
    fines,
    windows,
    registrations,
    review,
    deadLetterSink,
    flush,
  };
  return Object.defineProperties(
    parts,
    Object.fromEntries(Object.entries(handlers).map(([name, get]) => [name, { get, enumerable: true }])),
  ) as typeof parts & Handlers;
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
