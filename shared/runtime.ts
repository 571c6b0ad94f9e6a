import { BigQuery } from '@google-cloud/bigquery';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { BigQueryWarehouse } from './adapters/bigquery-warehouse.js';
import { DuckDbWarehouse } from './adapters/duckdb-warehouse.js';
import { FirestoreDeadLetterStore, FirestoreFlushControl } from './adapters/firestore-flush-control.js';
import { FirestorePassageStore } from './adapters/firestore-passage-store.js';
import { PubSubPublisher } from './adapters/pubsub-publisher.js';
import { loadConfig, type Config } from './config.js';
import type { FlushDeps } from './flush.js';
import { createLogger, type Logger } from './logger.js';
import { Faults, OpsCounter, systemClock, type Clock, type Warehouse } from './ports.js';
import { SpeedCheck } from './speed-check.js';

/** Everything a function needs, wired to real clients (emulators when the *_EMULATOR_HOST vars are set). */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  faults: Faults;
  ops: OpsCounter;
  db: Firestore;
  publisher: PubSubPublisher;
  passages: FirestorePassageStore;
  deadLetters: FirestoreDeadLetterStore;
  speedCheck: SpeedCheck;
  flushDeps: FlushDeps;
  close(): Promise<void>;
}

export function createRuntime(
  config: Config,
  overrides: { logger?: Logger; clock?: Clock; faults?: Faults } = {},
): Runtime {
  const logger = overrides.logger ?? createLogger({ component: 'speedcam' });
  const clock = overrides.clock ?? systemClock;
  const faults = overrides.faults ?? new Faults();
  const ops = new OpsCounter();
  const db = new Firestore({ projectId: config.projectId, ignoreUndefinedProperties: true });
  const publisher = new PubSubPublisher(new PubSub({ projectId: config.projectId }));
  const passages = new FirestorePassageStore(db, config.collections, config.retentionMs, ops, clock);
  const deadLetters = new FirestoreDeadLetterStore(db, config.collections.deadLetters, config.retentionMs, ops, clock);
  const control = new FirestoreFlushControl(db, config.collections.control, ops, clock);
  const wh = config.warehouse;
  const openWarehouse = async (): Promise<Warehouse> =>
    wh.kind === 'duckdb' ? DuckDbWarehouse.open(wh.path) : new BigQueryWarehouse(new BigQuery({ projectId: config.projectId }), wh.dataset);
  const base = { config, logger, clock, faults, publisher, store: passages };
  return {
    config,
    logger,
    clock,
    faults,
    ops,
    db,
    publisher,
    passages,
    deadLetters,
    speedCheck: new SpeedCheck(base),
    flushDeps: { ...base, deadLetters, control, openWarehouse },
    async close() {
      await publisher.close();
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
