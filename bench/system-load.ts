import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchArgs, STACK_OPTIONS } from './options.js';
import { PubSub } from '@google-cloud/pubsub';
import { FUNCTIONS, type FunctionSpec } from '../functions/catalog.js';
import { loadConfig } from '../shared/config.js';
import { ensureEmulator, freePort } from '../cli/emulators.js';
import { generateEvents } from '../cli/generators/events.js';
import { generateTraffic } from '../cli/generators/traffic.js';
import { startStack } from '../cli/stack.js';
import type { InstanceStats } from '../cli/instance-pool.js';

/**
 * `npm run bench:system`: every function at once at the seeds' load and at 10×, each in its own process
 * (one instance, as Cloud Run runs them at these rates), fed by the seeds' own producers' shapes:
 * the radar producer's radar traffic (its cadence: 15 vehicles, then a 1-10 s pause; fines get their photos from
 * the local cars API and are read by the local OCR), 2 transactions/s, a GA4 row every 2 s and a
 * randomuser response every 20 s per 1× (see LOAD); the flush ticks every 60 s, as Cloud Scheduler does.
 *
 * For each function it measures what Cloud Run bills under request-based billing: requests, and
 * instance time with at least one request in flight (busy periods rounded up to 100 ms), with the
 * function's CPU time and Firestore operations beside it. It prints one table and the monthly cost of
 * each function at the measured load with the function's deployed vCPU and memory (functions/catalog.ts).
 */
const args = benchArgs({
  seconds: '180',
  rates: '1,10',
  'flush-interval': '60',
  'drain-seconds': '20',
  // BigQuery cost: exact queries a month on the window tables (a dashboard refreshing every minute)
  'dashboard-queries': '43800',
  ...STACK_OPTIONS,
});
const SECONDS = Number(args.seconds);
const RATES = args.rates.split(',').map(Number);
const FLUSH_S = Number(args['flush-interval']);
const DRAIN_S = Number(args['drain-seconds']);
const DASHBOARD_QUERIES = Number(args['dashboard-queries']);
for (const n of [SECONDS, FLUSH_S, DRAIN_S, ...RATES])
  if (!(n >= 0) || !Number.isFinite(n)) throw new Error('--seconds, --rates, --flush-interval, --drain-seconds take numbers >= 0');
const log = (s: string) => process.stderr.write(s + '\n');
const dataDir = resolve(args['data-dir'] ?? '.speedcam/system-load');
const port = async (text: string) => (Number(text) > 0 ? Number(text) : freePort());

/** List prices, us-east1 (Tier 1), request-based billing; free tiers ignored. */
export const PRICES = { request: 0.4e-6, vcpuSecond: 0.000024, gibSecond: 0.0000025, read: 0.06e-5, write: 0.18e-5, del: 0.02e-5 };

/**
 * BigQuery list prices: the Storage Write API ($0.025/GiB ingested, the first 2 TiB a month free), legacy
 * streaming inserts ($0.05/GiB, i.e. $0.01 per 200 MB, each row counted as at least 1 KB), on-demand queries
 * ($6.25/TiB scanned).
 */
export const BQ_PRICES = { writeApiPerGiB: 0.025, writeApiFreeGiB: 2 * 1024, insertAllPerGiB: 0.05, queryPerTiB: 6.25 };
const GIB = 1024 ** 3;

/** A month of warehouse writes at the measured rate, through the Write API and through insertAll, and the view scans removed. */
type TableFigures = { rows: number; protoBytes: number; insertAllBytes: number; earlyRows: number };
export function warehouseCost(tables: ReadonlyMap<string, TableFigures>, windowS: number, dashboardQueries: number) {
  const scale = MONTH_S / windowS;
  let proto = 0;
  let insertAll = 0;
  let rows = 0;
  let earlyRows = 0;
  for (const t of tables.values()) {
    proto += t.protoBytes * scale;
    insertAll += t.insertAllBytes * scale;
    rows += t.rows * scale;
    earlyRows += t.earlyRows * scale;
  }
  const writeApi = Math.max(0, proto / GIB - BQ_PRICES.writeApiFreeGiB) * BQ_PRICES.writeApiPerGiB;
  const writeApiNoFreeTier = (proto / GIB) * BQ_PRICES.writeApiPerGiB;
  const streaming = (insertAll / GIB) * BQ_PRICES.insertAllPerGiB;
  // Each exact query went through <table>_latest: ROW_NUMBER() over the whole window table (no pruning by a
  // filter on another column). The table grows over the month: on average half its month-end size per query.
  const windowTables = ['user_event_counts', 'transaction_windows', 'section_traffic_minute'];
  const windowBytes = windowTables.reduce((a, t) => a + (tables.get(t)?.protoBytes ?? 0) * scale, 0);
  const viewScanBytes = (dashboardQueries * windowBytes) / 2;
  const viewScans = (viewScanBytes / 1024 ** 4) * BQ_PRICES.queryPerTiB;
  return {
    rows,
    earlyRows,
    protoGiB: proto / GIB,
    insertAllGiB: insertAll / GIB,
    writeApi,
    writeApiNoFreeTier,
    streaming,
    viewScanTiB: viewScanBytes / 1024 ** 4,
    viewScans,
  };
}
const MONTH_S = 730 * 3600;

/**
 * The seeds' load per 1×, in messages per second, as their own producers send: the radar generator
 * 15 vehicles per uniform(1, 10) s pause (2.7 vehicles/s); the GA4 data simulator one GA4 row, then
 * sleep(2); the sales producer's publisher one transaction every PUBLISHER_INTERVAL = 0.5 s; the randomuser.me producer's topic
 * writer one randomuser.me response (one result), then sleep(20).
 */
const LOAD = { radarVehiclesPerS: 2.7, transactionsPerS: 2, clicksPerS: 0.5, registrationsPerS: 0.05 };

interface FunctionFigures {
  requests: number;
  failed: number;
  cpuMs: number;
  busyMs: number;
  busyRoundedMs: number;
  reads: number;
  writes: number;
  deletes: number;
}

function totals(stats: readonly InstanceStats[]): FunctionFigures {
  const t: FunctionFigures = { requests: 0, failed: 0, cpuMs: 0, busyMs: 0, busyRoundedMs: 0, reads: 0, writes: 0, deletes: 0 };
  for (const s of stats) {
    t.requests += s.requests;
    t.failed += s.failed;
    t.busyMs += s.busyMs;
    t.busyRoundedMs += s.busyRoundedMs;
    for (const r of [...s.earlier, ...(s.report ? [s.report] : [])]) {
      t.cpuMs += r.cpuMs;
      for (const o of [r.ops, r.windowOps]) {
        t.reads += o.reads;
        t.writes += o.writes;
        t.deletes += o.deletes;
      }
    }
  }
  return t;
}

const minus = (a: FunctionFigures, b: FunctionFigures): FunctionFigures =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - b[k as keyof FunctionFigures]])) as unknown as FunctionFigures;

/** Monthly cost of a function run at the measured load for a month: requests, billed instance time, Firestore. */
export function monthlyCost(spec: Pick<FunctionSpec, 'cpu' | 'memory'>, f: FunctionFigures, windowS: number) {
  const scale = MONTH_S / windowS;
  const gib = { '256Mi': 0.25, '512Mi': 0.5, '1Gi': 1, '2Gi': 2 }[spec.memory];
  const instance = (f.busyRoundedMs / 1000) * scale * (Number(spec.cpu) * PRICES.vcpuSecond + gib * PRICES.gibSecond);
  const requests = f.requests * scale * PRICES.request;
  const firestore = (f.reads * PRICES.read + f.writes * PRICES.write + f.deletes * PRICES.del) * scale;
  return { requests, instance, firestore, total: requests + instance + firestore };
}

async function runRate(rate: number, emulators: { pubsub: string; firestore: string }, functionsPort: number) {
  const project = `demo-system-${rate}x-${Date.now()}`;
  const stack = await startStack({
    project,
    pubsubPort: Number(emulators.pubsub.split(':')[1]),
    firestorePort: Number(emulators.firestore.split(':')[1]),
    functionsPort,
    flushIntervalMs: FLUSH_S * 1000,
    dataDir: join(dataDir, `${rate}x`),
    isolate: 'all',
    // The flush writes through the BigQuery Write API client to the local stand-in, which counts what it is sent.
    warehouseKind: 'bigquery-local',
    echoSeverity: 'ERROR',
    env: { LOG_LEVEL: 'INFO' },
  });
  try {
    const config = loadConfig(process.env);
    const pubsub = new PubSub({ projectId: project });
    const radar = config.radars.get(config.defaultRadarId)!;
    const before = Object.fromEntries(Object.entries(await stack.instanceStats()).map(([k, v]) => [k, totals(v)]));
    const tablesBefore = new Map([...(stack.writeApi?.tables ?? [])].map(([k, v]) => [k, { ...v }]));
    const started = Date.now();
    log(
      `${rate}×: publishing for ${SECONDS} s (${rate} × the radar producer's traffic, ${LOAD.transactionsPerS * rate} transactions/s, ${LOAD.clicksPerS * rate} clicks/s, ${LOAD.registrationsPerS * rate} registrations/s)…`,
    );
    const count = (perS: number) => Math.max(1, Math.round(perS * rate * SECONDS));
    const silent = { onProgress: () => undefined };
    await Promise.all([
      ...Array.from({ length: rate }, () =>
        generateTraffic(pubsub, {
          mode: 'seed',
          vehicles: Math.round(LOAD.radarVehiclesPerS * SECONDS),
          speedingShare: 0.25,
          duplicateShare: 0,
          radar,
          topic: config.topics.vehicleObservations,
          ...silent,
        }),
      ),
      generateEvents(pubsub, {
        kind: 'transactions',
        count: count(LOAD.transactionsPerS),
        rate: LOAD.transactionsPerS * rate,
        duplicateShare: 0,
        malformedShare: 0,
        topic: config.topics.transactions,
      }),
      generateEvents(pubsub, {
        kind: 'clicks',
        count: count(LOAD.clicksPerS),
        rate: LOAD.clicksPerS * rate,
        duplicateShare: 0,
        malformedShare: 0,
        topic: config.topics.clickEvents,
      }),
      generateEvents(pubsub, {
        kind: 'users',
        count: count(LOAD.registrationsPerS),
        rate: LOAD.registrationsPerS * rate,
        results: 1,
        duplicateShare: 0,
        malformedShare: 0,
        topic: config.topics.userRegistrations,
      }),
    ]);
    // Rates and the month are taken over the publishing time; the drain only lets the last deliveries finish.
    const windowS = (Date.now() - started) / 1000;
    log(`${rate}×: published in ${windowS.toFixed(0)} s; ${DRAIN_S} s for the last deliveries…`);
    await new Promise((r) => setTimeout(r, DRAIN_S * 1000));
    const after = await stack.instanceStats();
    await pubsub.close();
    const perFunction = FUNCTIONS.map((spec) => {
      const f = minus(totals(after[spec.entryPoint] ?? []), before[spec.entryPoint] ?? totals([]));
      return { spec, f, cost: monthlyCost(spec, f, windowS) };
    });
    const zero = { rows: 0, protoBytes: 0, insertAllBytes: 0, earlyRows: 0 };
    const tables = new Map(
      [...(stack.writeApi?.tables ?? [])].map(([k, v]) => {
        const b = tablesBefore.get(k) ?? zero;
        const d: TableFigures = {
          rows: v.rows - b.rows,
          protoBytes: v.protoBytes - b.protoBytes,
          insertAllBytes: v.insertAllBytes - b.insertAllBytes,
          earlyRows: v.earlyRows - b.earlyRows,
        };
        return [k, d];
      }),
    );
    return { rate, windowS, perFunction, warehouse: warehouseCost(tables, windowS, DASHBOARD_QUERIES) };
  } finally {
    await stack.stop();
  }
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

async function main(): Promise<void> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const [pubsub, firestore] = await Promise.all([
    ensureEmulator('pubsub', await port(args['pubsub-port']), { logDir: dataDir }),
    ensureEmulator('firestore', await port(args['firestore-port']), { logDir: dataDir }),
  ]);
  const stopAll = async () => {
    await Promise.all([pubsub.stop(), firestore.stop()]);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const results: Awaited<ReturnType<typeof runRate>>[] = [];
    for (const rate of RATES)
      results.push(await runRate(rate, { pubsub: pubsub.host, firestore: firestore.host }, Number(args['functions-port']) || 0));
    const rows: string[] = [];
    rows.push(
      `| function (vCPU, memory, concurrency) | ${results.map((r) => `${r.rate}×: requests/s · CPU ms/request · busy fraction · Firestore ops/request · $/month (requests + instance + Firestore)`).join(' | ')} |`,
    );
    rows.push(`| --- | ${results.map(() => '---').join(' | ')} |`);
    for (const spec of FUNCTIONS) {
      const cells = results.map((r) => {
        const { f, cost } = r.perFunction.find((p) => p.spec === spec)!;
        const ops = f.requests ? (f.reads + f.writes + f.deletes) / f.requests : NaN;
        return `${fmt(f.requests / r.windowS)} · ${fmt(f.cpuMs / f.requests, 1)} · ${fmt(f.busyRoundedMs / 1000 / r.windowS, 3)} · ${fmt(ops, 2)} · $${fmt(cost.total, 0)} (${fmt(cost.requests, 0)} + ${fmt(cost.instance, 0)} + ${fmt(cost.firestore, 0)})${f.failed ? ` · ${f.failed} failed` : ''}`;
      });
      rows.push(`| ${spec.name} (${spec.cpu}, ${spec.memory}, ${spec.concurrency}) | ${cells.join(' | ')} |`);
    }
    rows.push(
      `| **functions, a month at this load** | ${results
        .map(
          (r) =>
            `**$${fmt(
              r.perFunction.reduce((a, p) => a + p.cost.total, 0),
              0,
            )}**`,
        )
        .join(' | ')} |`,
    );
    process.stdout.write(
      `\nEvery function at once, one instance each, ${SECONDS} s of traffic + ${DRAIN_S} s drain per rate, flush every ${FLUSH_S} s:\n\n${rows.join('\n')}\n`,
    );
    const cells = (f: (w: ReturnType<typeof warehouseCost>) => string) => results.map((r) => f(r.warehouse)).join(' | ');
    const wrows = [
      `| warehouse, a month at this load | ${results.map((r) => `${r.rate}×`).join(' | ')} |`,
      `| --- | ${results.map(() => '---').join(' | ')} |`,
      `| rows written (of them early panes, is_final = false) | ${cells((w) => `${fmt(w.rows, 0)} (${fmt(w.earlyRows, 0)})`)} |`,
      `| Storage Write API: GiB · $ (2 TiB free) · $ without the free tier | ${cells(
        (w) => `${fmt(w.protoGiB, 2)} · $${fmt(w.writeApi, 2)} · $${fmt(w.writeApiNoFreeTier, 2)}`,
      )} |`,
      `| insertAll (before): GiB (1 KB a row at least) · $ | ${cells((w) => `${fmt(w.insertAllGiB, 2)} · $${fmt(w.streaming, 2)}`)} |`,
      `| _latest view scans removed (${DASHBOARD_QUERIES} exact queries on the window tables): TiB · $ | ${cells(
        (w) => `${fmt(w.viewScanTiB, 4)} · $${fmt(w.viewScans, 2)}`,
      )} |`,
    ];
    process.stdout.write(`\nWarehouse (the flush through the Write API client to the local stand-in, which counts what it is sent):\n\n`);
    process.stdout.write(`${wrows.join('\n')}\n`);
    const P = BQ_PRICES;
    process.stdout.write(`\nBigQuery: Write API $${P.writeApiPerGiB}/GiB after ${P.writeApiFreeGiB} GiB free a month; `);
    process.stdout.write(`insertAll $${P.insertAllPerGiB}/GiB; queries $${P.queryPerTiB}/TiB.\n`);
    process.stdout.write(
      `\nPrices: $0.40/M requests, $${PRICES.vcpuSecond}/vCPU-s, $${PRICES.gibSecond}/GiB-s (request-based billing, busy time rounded up to 100 ms), Firestore $0.06/$0.18/$0.02 per 100k reads/writes/deletes.\n`,
    );
  } finally {
    await stopAll();
  }
}

await main();
