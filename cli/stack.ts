import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { FUNCTIONS, PUSH_FUNCTIONS } from '../functions/catalog.js';
import { loadConfig, type Config } from '../shared/config.js';
import { FLUSH_TICK } from '../shared/contracts/flush-tick.js';
import type { FlushReport } from '../shared/export/flush.js';
import { createLogger, parseSeverity } from '../shared/core/logger.js';
import { createRuntime, setRuntime, type Runtime, type RuntimeOverrides } from '../shared/runtime.js';
import { startCarsApi, type CarsApi } from './cars-api.js';
import type { DispatchStrategy } from './dispatcher.js';
import { ensureEmulator, type Emulator } from './emulators.js';
import { startInstancePool, type InstancePool, type InstanceStats } from './instance-pool.js';
import { startPushRelay } from './push-relay.js';
import { WriteApiStandIn } from './bigquery-write-stand-in.js';

export interface StackOptions {
  project?: string;
  pubsubPort?: number;
  firestorePort?: number;
  /**
   * first port for the function servers (one each, consecutive, in catalog order; a function served by
   * its own processes has its dispatcher there, its instances on ports the system picks); 0 picks free ports
   */
  functionsPort?: number;
  /** how often a flush tick is published (Cloud Scheduler's job); 0: never (call flush() yourself) */
  flushIntervalMs?: number;
  dataDir?: string;
  /** extra SPEEDCAM_* settings for this stack */
  env?: Record<string, string>;
  /** minimum severity echoed to stderr (everything goes to <dataDir>/stack.log) */
  echoSeverity?: string;
  /**
   * functions served by their own process (as they run in their own instances in Google Cloud), so
   * CPU-bound work (OCR) does not stall the others; needs the compiled build (dist/).
   */
  isolate?: string[] | 'all';
  /**
   * processes per function, as Cloud Run runs instances: a number for every function, or per entry point
   * ({vehicleObservations: 4}). A function given here runs in its own processes behind a dispatcher that
   * spreads deliveries over them (see dispatcher.ts); needs the compiled build (dist/).
   */
  instances?: number | Record<string, number>;
  /** how the dispatcher picks an instance for each request (Cloud Run's load balancer: about random) */
  dispatch?: DispatchStrategy;
  /** opens the warehouse the in-process flush writes to, given the configured one (a bench times the writes) */
  warehouse?: RuntimeOverrides['warehouse'];
  /** serve only these functions (entry points); the others get no server and no delivery */
  only?: string[];
  /** chaos: share of delivered messages the relay delivers once more, with the same messageId */
  replayShare?: number;
  /**
   * the local cars API (the radar producer's `--cars_api`) that photographs vehicles for fines: served on this
   * port (0: a free one) unless SPEEDCAM_CARS_API points elsewhere; false: none
   */
  carsApi?: number | false;
  /**
   * the flush's warehouse: DuckDB's own upsert (default), or `bigquery-local`: the BigQuery Storage Write API
   * writer (CDC upserts) pointed at a local stand-in of the Write API that applies them into the same DuckDB file
   */
  warehouseKind?: 'duckdb' | 'bigquery-local';
}

export interface ReadyInfo {
  project: string;
  pubsub: string;
  firestore: string;
  functions: Record<string, string>;
  /** processes per function served in their own processes */
  instances: Record<string, number>;
  warehouse: string;
  /** the local Cloud Storage: gs://bucket/name is <objects>/bucket/name */
  objects: string;
  /** the cars API the fines use (SPEEDCAM_CARS_API), when there is one */
  carsApi: string | null;
  log: string;
  topics: Config['topics'];
  /** the review page and API (open `url`, send `Authorization: Bearer <token>`); null when not served */
  review: { url: string; token: string } | null;
}

export interface Stack {
  info: ReadyInfo;
  runtime: Runtime;
  /** the local Write API stand-in the flush writes to (warehouseKind bigquery-local) */
  writeApi?: WriteApiStandIn;
  /** runs one flush now (as the scheduled one would) */
  flush(): Promise<FlushReport>;
  /**
   * chaos: kills one instance (SIGKILL; `instance` or a random one that is up) of a function that runs in
   * its own processes, and starts a new one in its place downMs later (the dispatcher routes around it
   * meanwhile); resolves with the instance's index once the new one listens, -1 when none was up
   */
  crashFunction(entryPoint: string, downMs: number, instance?: number): Promise<number>;
  /** per function served in its own processes: each instance's load, CPU time and Firestore operations */
  instanceStats(): Promise<Record<string, InstanceStats[]>>;
  /** deliveries made, failed (redelivered later) and replayed by the push relays */
  deliveryStats(): { delivered: number; failed: number; replayed: number };
  stop(): Promise<void>;
}

/**
 * The local stack: Pub/Sub and Firestore emulators (reused when already running), every function
 * served by functions-framework on 127.0.0.1 and fed by a push relay (see push-relay.ts), a DuckDB warehouse,
 * and a flush tick in place of Cloud Scheduler. Everything it starts, stop() stops.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const project = opts.project ?? 'demo-speedcam';
  const dataDir = resolve(opts.dataDir ?? '.speedcam');
  mkdirSync(dataDir, { recursive: true });
  const emulators: Emulator[] = [];
  const servers: Server[] = [];
  let tick: NodeJS.Timeout | undefined;
  const relays: { close(): Promise<void>; stats: { delivered: number; failed: number; replayed: number } }[] = [];
  const pools = new Map<string, InstancePool>();
  let runtime: Runtime | undefined;
  let carsApi: CarsApi | undefined;
  let writeApi: WriteApiStandIn | undefined;
  const stop = async () => {
    if (tick) clearInterval(tick);
    if (writeApi) await writeApi.stop().catch(() => undefined);
    if (carsApi) {
      await carsApi.close().catch(() => undefined);
      // The next stack in this process starts its own.
      if (process.env['SPEEDCAM_CARS_API'] === carsApi.url) delete process.env['SPEEDCAM_CARS_API'];
    }
    await Promise.all(relays.map((r) => r.close().catch(() => undefined)));
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await Promise.all([...pools.values()].map((p) => p.stop()));
    if (runtime) await runtime.close().catch(() => undefined);
    setRuntime(undefined);
    await Promise.all(emulators.map((e) => e.stop()));
  };
  try {
    const [pubsub, firestore] = await Promise.all([
      ensureEmulator('pubsub', opts.pubsubPort ?? 8085, { logDir: dataDir }),
      ensureEmulator('firestore', opts.firestorePort ?? 8080, { logDir: dataDir }),
    ]);
    emulators.push(pubsub, firestore);
    const warehousePath = join(dataDir, 'warehouse.duckdb');
    if (opts.warehouseKind === 'bigquery-local') writeApi = await new WriteApiStandIn({ pathFor: () => warehousePath }).start();
    Object.assign(process.env, {
      PUBSUB_EMULATOR_HOST: pubsub.host,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      GOOGLE_CLOUD_PROJECT: project,
      METADATA_SERVER_DETECTION: 'none',
      SPEEDCAM_WAREHOUSE: writeApi ? 'bigquery' : 'duckdb',
      SPEEDCAM_DUCKDB_PATH: warehousePath,
      ...(writeApi ? { SPEEDCAM_BIGQUERY_WRITE_ENDPOINT: writeApi.endpoint } : {}),
      SPEEDCAM_EXPORT_GRACE_S: process.env['SPEEDCAM_EXPORT_GRACE_S'] ?? '5',
      // The flush tick below plays Cloud Scheduler: a run exports windows as they fall due until the next tick.
      ...(opts.flushIntervalMs !== 0 ? { SPEEDCAM_FLUSH_PERIOD_S: String((opts.flushIntervalMs ?? 5000) / 1000) } : {}),
      SPEEDCAM_OBJECTS: 'local',
      SPEEDCAM_OBJECTS_DIR: join(dataDir, 'objects'),
      SPEEDCAM_OCR: 'model',
      // The stack is local by definition: photos may come from 127.0.0.1 (its own cars API, or one the user
      // runs there and names in SPEEDCAM_CARS_API), unless the user set the variable.
      SPEEDCAM_PHOTO_ALLOW_LOOPBACK: process.env['SPEEDCAM_PHOTO_ALLOW_LOOPBACK'] ?? 'true',
      // The review function checks a bearer token here (Google Cloud: invoker IAM + the caller's ID token):
      // SPEEDCAM_REVIEW_TOKEN when set, else a new one per stack run.
      SPEEDCAM_REVIEW_AUTH: 'token',
      SPEEDCAM_REVIEW_TOKEN: process.env['SPEEDCAM_REVIEW_TOKEN'] ?? randomBytes(18).toString('base64url'),
      ...opts.env,
    });
    // The radar generator sends no photos: a local cars API gives the fines one, as the seed's pipeline gets them.
    if (opts.carsApi !== false && !process.env['SPEEDCAM_CARS_API']) {
      carsApi = await startCarsApi({ port: opts.carsApi ?? 0 });
      process.env['SPEEDCAM_CARS_API'] = carsApi.url;
    }
    const config = loadConfig(process.env);
    const logPath = join(dataDir, 'stack.log');
    const logFile = createWriteStream(logPath, { flags: 'a' });
    const echo = parseSeverity(opts.echoSeverity ?? process.env['LOG_LEVEL'], 'WARNING');
    const fileLogger = createLogger({ component: 'stack', minSeverity: 'DEBUG', write: (l) => logFile.write(l + '\n') });
    const echoLogger = createLogger({ component: 'stack', minSeverity: echo, write: (l) => process.stderr.write(l + '\n') });
    const logger = {
      debug: (m: string, f?: Record<string, unknown>) => (fileLogger.debug(m, f), echoLogger.debug(m, f)),
      info: (m: string, f?: Record<string, unknown>) => (fileLogger.info(m, f), echoLogger.info(m, f)),
      warn: (m: string, f?: Record<string, unknown>) => (fileLogger.warn(m, f), echoLogger.warn(m, f)),
      error: (m: string, f?: Record<string, unknown>) => (fileLogger.error(m, f), echoLogger.error(m, f)),
    };
    runtime = createRuntime(config, { logger, warehouse: opts.warehouse });
    setRuntime(runtime);
    await import('../functions/index.js');

    const functions: Record<string, string> = {};
    const served = FUNCTIONS.filter((f) => !opts.only || opts.only.includes(f.entryPoint));
    const counts = instanceCounts(opts);
    const base = opts.functionsPort ?? 8090;
    let port = base;
    for (const spec of FUNCTIONS) {
      // 0: the system picks a free port as the server listens (asking for one first and listening on it
      // after races with every other socket the machine opens meanwhile).
      const p = base === 0 ? 0 : port++;
      if (!served.includes(spec)) continue;
      const size = counts.get(spec.entryPoint);
      if (size !== undefined) {
        const pool = await startInstancePool({
          entryPoint: spec.entryPoint,
          size,
          concurrency: spec.concurrency,
          port: p,
          strategy: opts.dispatch,
          log: logFile,
        });
        pools.set(spec.entryPoint, pool);
        functions[spec.entryPoint] = pool.url;
        continue;
      }
      const server = await getTestServer(spec.entryPoint);
      // Longer than the relay's idle connections (see serve-functions.ts).
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen(p, '127.0.0.1', () => res());
      });
      servers.push(server);
      const address = server.address();
      functions[spec.entryPoint] = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : p}`;
    }

    await provisionPubSub(new PubSub({ projectId: project }), config, project);

    for (const spec of served) {
      if (spec.kind !== 'push') continue;
      const topic = spec.triggerTopic(config);
      relays.push(
        startPushRelay(new PubSub({ projectId: project }), {
          project,
          subscription: functionSubscription(topic, spec.entryPoint),
          endpoint: `${functions[spec.entryPoint]}/projects/${project}/topics/${topic}`,
          // Push keeps as many requests open as the instances take (each up to its concurrency).
          maxInFlight: spec.concurrency * (counts.get(spec.entryPoint) ?? 1),
          replayShare: opts.replayShare,
          logger,
        }),
      );
    }

    const rt = runtime;
    const flush = () => rt.flush.run();
    const intervalMs = opts.flushIntervalMs ?? 5000;
    const ticks = new PubSub({ projectId: project }).topic(config.topics.flushTicks);
    if (intervalMs > 0) {
      tick = setInterval(() => {
        // Same path as Cloud Scheduler: a message on the flush topic triggers the flush function.
        ticks.publishMessage({ json: FLUSH_TICK }).catch((err: unknown) => logger.error('flush tick failed', { error: String(err) }));
      }, intervalMs);
    }

    const info: ReadyInfo = {
      project,
      pubsub: pubsub.host,
      firestore: firestore.host,
      functions,
      instances: Object.fromEntries([...pools].map(([name, p]) => [name, p.size])),
      warehouse: warehousePath,
      objects: join(dataDir, 'objects'),
      carsApi: config.photos.carsApi,
      log: logPath,
      topics: config.topics,
      review: functions['review'] && config.review.token ? { url: `${functions['review']}/`, token: config.review.token } : null,
    };
    const crashFunction = async (entryPoint: string, downMs: number, instance?: number) => {
      const pool = pools.get(entryPoint);
      if (!pool) throw new Error(`${entryPoint} does not run in its own process`);
      return pool.crash(downMs, instance);
    };
    const instanceStats = async () =>
      Object.fromEntries(await Promise.all([...pools].map(async ([name, p]) => [name, await p.stats()] as const)));
    const deliveryStats = () =>
      relays.reduce(
        (t, r) => ({
          delivered: t.delivered + r.stats.delivered,
          failed: t.failed + r.stats.failed,
          replayed: t.replayed + r.stats.replayed,
        }),
        { delivered: 0, failed: 0, replayed: 0 },
      );
    return { info, runtime: rt, writeApi, flush, stop, crashFunction, instanceStats, deliveryStats };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function functionSubscription(topic: string, entryPoint: string): string {
  return `${topic}--${entryPoint}`;
}

/** Topics, one subscription per function (delivered by the push relay), pull subscriptions on the outputs. */
export async function provisionPubSub(ps: PubSub, config: Config, project: string): Promise<void> {
  const ignoreExists = (err: { code?: number }) => {
    if (err.code !== 6) throw err;
  };
  for (const name of Object.values(config.topics)) await ps.createTopic(name).catch(ignoreExists);
  for (const spec of PUSH_FUNCTIONS) {
    const topic = spec.triggerTopic(config);
    const sub = functionSubscription(topic, spec.entryPoint);
    // A reused emulator may hold this subscription from an earlier run as a push one: make it pull.
    await ps
      .subscription(sub)
      .modifyPushConfig({})
      .catch(() => undefined);
    await ps
      .topic(topic)
      .createSubscription(sub, {
        ackDeadlineSeconds: 60,
        // Poison messages (a function that keeps failing on them) end in the dead letters, not in a loop.
        ...(topic !== config.topics.deadLetters
          ? { deadLetterPolicy: { deadLetterTopic: `projects/${project}/topics/${config.topics.deadLetters}`, maxDeliveryAttempts: 10 } }
          : {}),
      })
      .catch(ignoreExists);
  }
  for (const topic of [
    config.topics.nonFinedVehicles,
    config.topics.speedingVehicles,
    config.topics.fineNotifications,
    config.topics.deadLetters,
  ]) {
    await ps.topic(topic).createSubscription(`${topic}-sub`).catch(ignoreExists);
  }
}

/**
 * Processes per function: `instances` (a number for all, or per entry point), and 1 for each function in
 * `isolate`; functions in neither are served inside the stack process.
 */
export function instanceCounts(opts: Pick<StackOptions, 'instances' | 'isolate'>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of FUNCTIONS) {
    const n = typeof opts.instances === 'number' ? opts.instances : opts.instances?.[f.entryPoint];
    if (n !== undefined) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`instances of ${f.entryPoint}: ${n} is not a whole number >= 1`);
      counts.set(f.entryPoint, n);
    } else if (opts.isolate === 'all' || opts.isolate?.includes(f.entryPoint)) counts.set(f.entryPoint, 1);
  }
  if (opts.instances && typeof opts.instances === 'object') {
    const unknown = Object.keys(opts.instances).filter((k) => !FUNCTIONS.some((f) => f.entryPoint === k));
    if (unknown.length > 0)
      throw new Error(`instances: unknown function ${unknown.join(', ')}; functions: ${FUNCTIONS.map((f) => f.entryPoint).join(', ')}`);
  }
  return counts;
}
