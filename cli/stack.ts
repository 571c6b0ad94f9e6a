import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { FUNCTIONS } from '../functions/catalog.js';
import { loadConfig, type Config } from '../shared/config.js';
import { runFlush, type FlushReport } from '../shared/flush.js';
import { createLogger, parseSeverity } from '../shared/logger.js';
import { createRuntime, setRuntime, type Runtime } from '../shared/runtime.js';
import { startCarsApi, type CarsApi } from './cars-api.js';
import { ensureEmulator, freePort, type Emulator } from './emulators.js';
import { startPushRelay } from './push-relay.js';

export interface StackOptions {
  project?: string;
  pubsubPort?: number;
  firestorePort?: number;
  /** first port for the function servers (one each, consecutive); 0 picks free ports */
  functionsPort?: number;
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
  /** chaos: share of delivered messages the relay delivers once more, with the same messageId */
  replayShare?: number;
  /**
   * the local cars API (seed 001's `--cars_api`) that photographs vehicles for fines: served on this
   * port (0: a free one) unless SPEEDCAM_CARS_API points elsewhere; false: none
   */
  carsApi?: number | false;
}

export interface ReadyInfo {
  project: string;
  pubsub: string;
  firestore: string;
  functions: Record<string, string>;
  warehouse: string;
  /** the local Cloud Storage: gs://bucket/name is <objects>/bucket/name */
  objects: string;
  /** the cars API the fines use (SPEEDCAM_CARS_API), when there is one */
  carsApi: string | null;
  log: string;
  topics: Config['topics'];
}

export interface Stack {
  info: ReadyInfo;
  runtime: Runtime;
  /** runs one flush now (as the scheduled one would) */
  flush(): Promise<FlushReport>;
  /** chaos: kills an isolated function's process (SIGKILL), and starts a new one on the same port */
  crashFunction(entryPoint: string, downMs: number): Promise<void>;
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
  const children = new Map<string, { child: ChildProcess; port: number }>();
  let runtime: Runtime | undefined;
  let carsApi: CarsApi | undefined;
  const stop = async () => {
    if (tick) clearInterval(tick);
    if (carsApi) {
      await carsApi.close().catch(() => undefined);
      // The next stack in this process starts its own.
      if (process.env['SPEEDCAM_CARS_API'] === carsApi.url) delete process.env['SPEEDCAM_CARS_API'];
    }
    await Promise.all(relays.map((r) => r.close().catch(() => undefined)));
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await Promise.all([...children.values()].map((c) => stopChild(c.child)));
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
    Object.assign(process.env, {
      PUBSUB_EMULATOR_HOST: pubsub.host,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      GOOGLE_CLOUD_PROJECT: project,
      METADATA_SERVER_DETECTION: 'none',
      SPEEDCAM_WAREHOUSE: 'duckdb',
      SPEEDCAM_DUCKDB_PATH: warehousePath,
      SPEEDCAM_EXPORT_GRACE_S: process.env['SPEEDCAM_EXPORT_GRACE_S'] ?? '5',
      // The flush tick below plays Cloud Scheduler: a run exports windows as they fall due until the next tick.
      SPEEDCAM_FLUSH_PERIOD_S: String((opts.flushIntervalMs ?? 5000) / 1000),
      SPEEDCAM_OBJECTS: 'local',
      SPEEDCAM_OBJECTS_DIR: join(dataDir, 'objects'),
      SPEEDCAM_OCR: 'tesseract',
      ...opts.env,
    });
    // Seed 001's generator sends no photos: a local cars API gives the fines one, as the seed's pipeline gets them.
    if (opts.carsApi !== false && !process.env['SPEEDCAM_CARS_API']) {
      carsApi = await startCarsApi({ port: opts.carsApi ?? 0 });
      Object.assign(process.env, { SPEEDCAM_CARS_API: carsApi.url, SPEEDCAM_PHOTO_ALLOW_LOOPBACK: process.env['SPEEDCAM_PHOTO_ALLOW_LOOPBACK'] ?? 'true' });
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
    runtime = createRuntime(config, { logger });
    setRuntime(runtime);
    await import('../functions/index.js');

    const functions: Record<string, string> = {};
    let port = opts.functionsPort ?? 8090;
    for (const spec of FUNCTIONS) {
      const p = port === 0 ? await freePort() : port++;
      if (opts.isolate === 'all' || opts.isolate?.includes(spec.entryPoint)) {
        children.set(spec.entryPoint, { child: await startFunctionProcess(spec.entryPoint, p, logFile), port: p });
        functions[spec.entryPoint] = `http://127.0.0.1:${p}`;
        continue;
      }
      const server = await getTestServer(spec.entryPoint);
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen(p, '127.0.0.1', () => res());
      });
      servers.push(server);
      functions[spec.entryPoint] = `http://127.0.0.1:${p}`;
    }

    await provisionPubSub(new PubSub({ projectId: project }), config, project);

    for (const spec of FUNCTIONS) {
      const topic = spec.triggerTopic(config);
      relays.push(
        startPushRelay(new PubSub({ projectId: project }), {
          project,
          subscription: functionSubscription(topic, spec.entryPoint),
          endpoint: `${functions[spec.entryPoint]}/projects/${project}/topics/${topic}`,
          maxInFlight: spec.concurrency,
          replayShare: opts.replayShare,
          logger,
        }),
      );
    }

    const rt = runtime;
    const flush = () => runFlush(rt.flushDeps);
    const intervalMs = opts.flushIntervalMs ?? 5000;
    const ticks = new PubSub({ projectId: project }).topic(config.topics.flushTicks);
    tick = setInterval(() => {
      // Same path as Cloud Scheduler: a message on the flush topic triggers the flush function.
      ticks.publishMessage({ json: { at: new Date().toISOString() } }).catch((err: unknown) => logger.error('flush tick failed', { error: String(err) }));
    }, intervalMs);

    const info: ReadyInfo = {
      project,
      pubsub: pubsub.host,
      firestore: firestore.host,
      functions,
      warehouse: warehousePath,
      objects: join(dataDir, 'objects'),
      carsApi: config.photos.carsApi,
      log: logPath,
      topics: config.topics,
    };
    const crashFunction = async (entryPoint: string, downMs: number) => {
      const c = children.get(entryPoint);
      if (!c) throw new Error(`${entryPoint} does not run in its own process`);
      const gone = new Promise<void>((r) => c.child.once('exit', () => r()));
      c.child.kill('SIGKILL');
      await gone;
      await new Promise((r) => setTimeout(r, downMs));
      children.set(entryPoint, { child: await startFunctionProcess(entryPoint, c.port, logFile), port: c.port });
    };
    const deliveryStats = () =>
      relays.reduce((t, r) => ({ delivered: t.delivered + r.stats.delivered, failed: t.failed + r.stats.failed, replayed: t.replayed + r.stats.replayed }), { delivered: 0, failed: 0, replayed: 0 });
    return { info, runtime: rt, flush, stop, crashFunction, deliveryStats };
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
  for (const spec of FUNCTIONS) {
    const topic = spec.triggerTopic(config);
    const sub = functionSubscription(topic, spec.entryPoint);
    // A reused emulator may hold this subscription from an earlier run as a push one: make it pull.
    await ps.subscription(sub).modifyPushConfig({}).catch(() => undefined);
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
  for (const topic of [config.topics.nonFinedVehicles, config.topics.speedingVehicles, config.topics.fineNotifications, config.topics.deadLetters]) {
    await ps.topic(topic).createSubscription(`${topic}-sub`).catch(ignoreExists);
  }
}

/** Starts cli/serve-functions.js for one function; resolves once it listens. Its logs go to the stack log. */
async function startFunctionProcess(entryPoint: string, port: number, log: WriteStream): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./serve-functions.js', import.meta.url));
  if (!existsSync(script)) throw new Error(`cannot isolate ${entryPoint}: ${script} is not built (run npm run build)`);
  const child = spawn(process.execPath, [script, `${entryPoint}=${port}`], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.pipe(log, { end: false });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entryPoint} server did not start within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${entryPoint} server exited with ${code} during start-up`)));
    lines.on('line', (line) => {
      if (line.startsWith('LISTENING ')) {
        clearTimeout(timer);
        resolve();
      } else log.write(line + '\n');
    });
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}
