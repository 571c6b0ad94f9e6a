import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DuckDbWarehouse } from '../shared/platform/duckdb-warehouse.js';
import type { OpsCounter } from '../shared/core/ops-counter.js';
import type { GeneratedEvents } from './generate-events.js';
import { renderReport, thumbnail, type ReportData } from './report.js';
import { hasChromium, openInChromium } from './report-browser.js';
import type { Config } from '../shared/config.js';
import type { GeneratedVehicle } from './generate-traffic.js';
import { resetFirestore } from './emulators.js';
import { startStack, type ReadyInfo } from './stack.js';

export interface DemoOptions {
  seedVehicles: number;
  timedVehicles: number;
  rate: number;
  timeoutMs: number;
  dataDir: string;
  log: (line: string) => void;
  /** emulator and function ports (defaults 8085, 8080 and free ports), to run beside another stack */
  ports?: { pubsub?: number; firestore?: number; functions?: number };
}

/** A few messages from the bad-input corpus, so the dead-letter path shows in the summary. */
export const DEMO_BAD_MESSAGES: readonly string[] = [
  '{"vehicle_id": "aB3xY9", "speed": 57.3',
  '{"vehicle_id": "aB3xY9", "speed": "fast", "location": [40.7638, -73.9729]}',
  '{"vehicle_id": "aB3xY9", "speed": -12.5, "location": [40.7638, -73.9729]}',
  '{"vehicle_id": "aB3xY9", "speed": 30.1, "location": [91.0, -73.9729]}',
  '{"vehicle_id": "aB3xY9", "speed": 30.1, "location": [40.7, -74.5]}',
  '[1, 2, 3]',
];

export interface DemoSummary {
  vehicles: number;
  observations_published: number;
  passages_decided: number;
  fined: number;
  non_fined: number;
  flagged_for_review: number;
  duplicate_decision_messages: number;
  warehouse_passages: number;
  fines_issued: number;
  duplicate_fine_notifications: number;
  warehouse_fines: number;
  plates_read_exactly: number;
  plate_accuracy: number;
  fines_flagged_for_review: Record<string, number>;
  analysed_photos_on_disk: number;
  ocr_ms: { p50: number; p95: number };
  example_fine: Record<string, unknown> | null;
  windows: {
    clicks: { distinct_sent: number; duplicates_sent: number; counted: number; late: number };
    transactions: { distinct_sent: number; duplicates_sent: number; counted: number; late: number };
    firestore_per_event: number;
    users: { distinct_sent: number; duplicates_sent: number; rows: number };
    section_traffic: { passages: number; counted: number };
  };
  malformed_sent: number;
  report: string;
  screenshot: string | null;
  dead_lettered: number;
  dead_letters_by_reason: Record<string, number>;
  mean_avg_speed_kmh: number;
  decision_latency_ms: { p50: number; p95: number; max: number };
  vehicles_per_second: number;
  /** Firestore operations counted while each format ran: ingest, decision, publish mark and the flush runs of that time */
  firestore: { seed: FormatCost; timed: FormatCost };
  wall_seconds: number;
}

/**
 * `npm run demo`: the local stack, seed-format and timed traffic plus a few bad messages, waits until
 * every passage is decided and in the warehouse, then prints what happened.
 */
export async function runDemo(opts: DemoOptions): Promise<{ summary: DemoSummary; ok: boolean }> {
  const t0 = Date.now();
  rmSync(join(opts.dataDir, 'warehouse.duckdb'), { force: true });
  rmSync(join(opts.dataDir, 'warehouse.duckdb.wal'), { force: true });
  opts.log('starting the local stack (Pub/Sub and Firestore emulators, functions, DuckDB warehouse)…');
  const stack = await startStack({
    dataDir: opts.dataDir,
    pubsubPort: opts.ports?.pubsub,
    firestorePort: opts.ports?.firestore,
    functionsPort: opts.ports?.functions ?? 0,
    flushIntervalMs: 2000,
    isolate: ['fines'],
    // The functions' logs go to <dataDir>/stack.log; the terminal keeps the demo's progress readable.
    echoSeverity: 'ERROR',
    // Shorter waits so that windows close within the demo (defaults: 30 s and 10 min); 20 s of
    // lateness still covers delivery delays on a busy 2-core machine. The generators stamp each event
    // with its time: windows on that time (a copy published again then always shares the original's window).
    env: {
      SPEEDCAM_WINDOW_LATENESS_S: '20',
      SPEEDCAM_SECTION_TRAFFIC_LATENESS_S: '30',
      SPEEDCAM_PIPELINES: JSON.stringify({ clicks: { event_time: 'payload' }, transactions: { event_time: 'payload' } }),
    },
  });
  try {
    const { info, runtime } = stack;
    await resetFirestore(info.firestore, info.project);
    opts.log(`stack ready: ${JSON.stringify(info.functions)}`);
    const ps = new PubSub({ projectId: info.project });

    const decisions = new Map<string, { receivedMs: number; body: Record<string, unknown> }>();
    let duplicateDecisions = 0;
    const subs = [];
    const fines = new Map<string, Record<string, unknown>>();
    let duplicateFines = 0;
    for (const topic of [info.topics.nonFinedVehicles, info.topics.speedingVehicles, info.topics.fineNotifications]) {
      const name = `demo-watch-${topic}-${Date.now()}`;
      const [sub] = await ps.topic(topic).createSubscription(name);
      sub.on('message', (m: Message) => {
        const body = JSON.parse(m.data.toString()) as Record<string, unknown>;
        if (topic === info.topics.fineNotifications) {
          const id = m.attributes['fine_id'] ?? '';
          if (fines.has(id)) duplicateFines++;
          else fines.set(id, body);
        } else {
          const id = m.attributes['passage_id'] ?? '';
          if (decisions.has(id)) duplicateDecisions++;
          else decisions.set(id, { receivedMs: Date.now(), body });
        }
        m.ack();
      });
      subs.push(sub);
    }
    const captures = { bucket: runtime.config.buckets.captures };

    const genStart = Date.now();
    const deadline = Date.now() + opts.timeoutMs;
    const waitDecided = async (n: number) => {
      let lastCount = -1;
      while (decisions.size < n && Date.now() < deadline) {
        if (decisions.size !== lastCount) opts.log(`  decided ${decisions.size}/${n}`);
        lastCount = decisions.size;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // The two formats run one after the other so that Firestore operations are measured for each.
    opts.log(`publishing ${opts.seedVehicles} vehicles in the seed format (10 observations each) at ${opts.rate} vehicles/s…`);
    const opsBefore = runtime.ops.snapshot();
    // The generator runs as its own process, as a user runs it: its photo rendering does not share the
    // stack's event loop. It reports what it generated (plates included) in a manifest.
    const generate = (mode: 'seed' | 'timed', vehicles: number) =>
      runGenerator(opts, info, mode, vehicles, opts.rate, captures.bucket);
    const seed = await generate('seed', opts.seedVehicles);
    await waitDecided(seed.length);
    const afterSeed = runtime.ops.snapshot();
    const opsSeed = diffOps(afterSeed, opsBefore);
    opts.log(`publishing ${opts.timedVehicles} vehicles in the timed format (entry and exit cameras) and ${DEMO_BAD_MESSAGES.length} malformed messages, with clicks, transactions and registrations (10 % duplicated, 2 % malformed) at the same time…`);
    const [timed, clicks, transactions, registrations] = await Promise.all([
      generate('timed', opts.timedVehicles),
      runEventGenerator(opts, info, 'clicks', 1500, 100),
      runEventGenerator(opts, info, 'transactions', 750, 50),
      runEventGenerator(opts, info, 'users', 60, 5),
    ]);
    const usersSent = registrations.messages.reduce((n, m) => n + (JSON.parse(m) as { results: unknown[] }).results.length, 0);
    const malformedSent = DEMO_BAD_MESSAGES.length + clicks.malformed + transactions.malformed + registrations.malformed;
    const badTopic = ps.topic(info.topics.vehicleObservations);
    for (const bad of DEMO_BAD_MESSAGES) await badTopic.publishMessage({ data: Buffer.from(bad) });
    const vehicles: GeneratedVehicle[] = [...seed, ...timed];
    const observations = vehicles.reduce((n, v) => n + v.messages.length, 0);
    await waitDecided(vehicles.length);
    const opsTimed = diffOps(runtime.ops.snapshot(), afterSeed);
    const speeding = () => [...decisions.values()].filter((d) => d.body['is_Ticketed'] === true).length;
    opts.log('waiting for the fines (photo, plate OCR, analysed photo, notification)…');
    while (fines.size < speeding() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const lastDecisionMs = Math.max(...[...decisions.values()].map((d) => d.receivedMs));
    opts.log(`  decided ${decisions.size}/${vehicles.length}; waiting for the flush to land them in the warehouse…`);

    let rows: Record<string, unknown>[] = [];
    let deadRows: Record<string, unknown>[] = [];
    let fineRows: Record<string, unknown>[] = [];
    let windowTotals: Record<string, unknown> = {};
    // Events that reached a closed window: dead-lettered as late, by source topic.
    let late: Record<string, number> = {};
    while (Date.now() < deadline) {
      await stack.flush();
      const wh = await DuckDbWarehouse.open(info.warehouse, { readOnly: true });
      try {
        rows = await wh.query('SELECT passage_id, avg_speed, is_Ticketed, review_reason, epoch_ms(decided_at) - epoch_ms(last_published) AS latency_ms FROM speedcam.vehicle_passages');
        deadRows = await wh.query('SELECT reason, count(*) AS n FROM speedcam.dead_letters GROUP BY reason ORDER BY reason');
        late = Object.fromEntries((await wh.query("SELECT source, count(*) AS n FROM speedcam.dead_letters WHERE reason = 'late' GROUP BY source")).map((r) => [String(r['source']), Number(r['n'])]));
        fineRows = await wh.query('SELECT fine_id FROM speedcam.fined_vehicles');
        windowTotals = (await wh.query(`SELECT
            (SELECT coalesce(sum(event_count), 0) FROM speedcam.user_event_counts) AS clicks,
            (SELECT coalesce(sum(total_transactions), 0) FROM speedcam.transaction_windows) AS transactions,
            (SELECT count(*) FROM speedcam.users) AS users,
            (SELECT coalesce(sum(vehicles), 0) FROM speedcam.section_traffic_minute) AS section_vehicles`))[0]!;
      } finally {
        await wh.close();
      }
      const dl = deadRows.reduce((n, r) => n + Number(r['n']), 0);
      // Every distinct event is counted in its window or dead-lettered as late: nothing else.
      const windowsDone =
        Number(windowTotals['clicks']) + (late[info.topics.clickEvents] ?? 0) >= clicks.messages.length &&
        Number(windowTotals['transactions']) + (late[info.topics.transactions] ?? 0) >= transactions.messages.length &&
        Number(windowTotals['users']) >= usersSent &&
        Number(windowTotals['section_vehicles']) >= decisions.size;
      const lateTotal = Object.values(late).reduce((a, b) => a + b, 0);
      if (rows.length >= decisions.size && dl - lateTotal >= malformedSent && fineRows.length >= fines.size && windowsDone) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await Promise.all(subs.map((s) => s.close()));
    await Promise.all(subs.map((s) => s.delete().catch(() => undefined)));

    const latencies = rows.map((r) => Number(r['latency_ms'])).sort((a, b) => a - b);
    const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const speeds = rows.map((r) => r['avg_speed']).filter((x): x is number => typeof x === 'number');
    const bodies = [...decisions.values()].map((d) => d.body);
    const seedObs = seed.reduce((n, v) => n + v.messages.length, 0);
    const timedObs = observations - seedObs;
    const truth = new Map(vehicles.map((v) => [v.vehicleId, v.plate]));
    const fineList = [...fines.values()];
    const exact = fineList.filter((f) => f['license_plate'] === truth.get(String(f['vehicle_id']))).length;
    const ocrMs = fineList.map((f) => f['ocr_ms']).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
    const opct = (q: number) => ocrMs[Math.min(ocrMs.length - 1, Math.floor(q * ocrMs.length))] ?? NaN;
    const photosResolve = fineList.filter((f) => typeof f['image_url'] === 'string' && existsSync(fileURLToPath(String(f['image_url'])))).length;
    const reviewByReason: Record<string, number> = {};
    for (const f of fineList) if (f['review_reason']) reviewByReason[String(f['review_reason'])] = (reviewByReason[String(f['review_reason'])] ?? 0) + 1;
    const deadByReason = Object.fromEntries(deadRows.map((r) => [String(r['reason']), Number(r['n'])]));
    const report = await writeReport(opts, info, runtime.config, fineList, truth, [
      ['decision latency (publish → decision)', `p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms`],
      ['OCR per photo', `p50 ${opct(0.5)} ms, p95 ${opct(0.95)} ms`],
      ['throughput', `${round(decisions.size / ((lastDecisionMs - genStart) / 1000), 1)} vehicles/s`],
    ], [
      ['vehicles', String(vehicles.length)],
      ['fined', String(fines.size)],
      ['plates read exactly', `${exact}/${fines.size}`],
      ['clicks counted', `${Number(windowTotals['clicks'])}/${clicks.messages.length}`],
      ['transactions counted', `${Number(windowTotals['transactions'])}/${transactions.messages.length}`],
      ['users', `${Number(windowTotals['users'])}/${usersSent}`],
      ['dead letters', `${Object.values(deadByReason).reduce((a, b) => a + b, 0)}/${malformedSent}`],
    ]);
    const summary: DemoSummary = {
      report: report.file,
      screenshot: report.screenshot,
      vehicles: vehicles.length,
      observations_published: observations,
      passages_decided: decisions.size,
      fined: bodies.filter((b) => b['is_Ticketed'] === true).length,
      non_fined: bodies.filter((b) => b['is_Ticketed'] === false).length,
      flagged_for_review: bodies.filter((b) => b['review_reason'] !== null).length,
      duplicate_decision_messages: duplicateDecisions,
      warehouse_passages: rows.length,
      fines_issued: fines.size,
      duplicate_fine_notifications: duplicateFines,
      warehouse_fines: fineRows.length,
      plates_read_exactly: exact,
      plate_accuracy: round(exact / Math.max(1, fines.size), 4),
      fines_flagged_for_review: reviewByReason,
      analysed_photos_on_disk: photosResolve,
      ocr_ms: { p50: opct(0.5), p95: opct(0.95) },
      example_fine: fineList[0] ?? null,
      windows: {
        clicks: { distinct_sent: clicks.messages.length, duplicates_sent: clicks.duplicates, counted: Number(windowTotals['clicks']), late: late[info.topics.clickEvents] ?? 0 },
        transactions: { distinct_sent: transactions.messages.length, duplicates_sent: transactions.duplicates, counted: Number(windowTotals['transactions']), late: late[info.topics.transactions] ?? 0 },
        firestore_per_event: round((runtime.windowOps.snapshot().writes + runtime.windowOps.snapshot().reads) / Math.max(1, clicks.messages.length + transactions.messages.length + usersSent), 4),
        users: { distinct_sent: usersSent, duplicates_sent: registrations.duplicates, rows: Number(windowTotals['users']) },
        section_traffic: { passages: decisions.size, counted: Number(windowTotals['section_vehicles']) },
      },
      malformed_sent: malformedSent,
      dead_lettered: Object.values(deadByReason).reduce((a, b) => a + b, 0),
      dead_letters_by_reason: deadByReason,
      mean_avg_speed_kmh: round(speeds.reduce((a, b) => a + b, 0) / speeds.length, 2),
      decision_latency_ms: { p50: pct(0.5), p95: pct(0.95), max: latencies[latencies.length - 1] ?? NaN },
      vehicles_per_second: round(decisions.size / ((lastDecisionMs - genStart) / 1000), 1),
      firestore: {
        seed: costOf(opsSeed, seedObs, seed.length),
        timed: costOf(opsTimed, timedObs, timed.length),
      },
      wall_seconds: round((Date.now() - t0) / 1000, 1),
    };
    writeFileSync(join(opts.dataDir, 'demo-summary.json'), JSON.stringify(summary, null, 2));
    const ok =
      summary.passages_decided === vehicles.length &&
      summary.warehouse_passages === vehicles.length &&
      summary.dead_lettered - summary.windows.clicks.late - summary.windows.transactions.late === summary.malformed_sent &&
      summary.windows.clicks.counted + summary.windows.clicks.late === summary.windows.clicks.distinct_sent &&
      summary.windows.transactions.counted + summary.windows.transactions.late === summary.windows.transactions.distinct_sent &&
      summary.windows.users.rows === summary.windows.users.distinct_sent &&
      summary.windows.section_traffic.counted === summary.passages_decided &&
      summary.fines_issued === summary.fined &&
      summary.warehouse_fines === summary.fines_issued &&
      summary.analysed_photos_on_disk === summary.fines_issued;
    return { summary, ok };
  } finally {
    await stack.stop();
  }
}

/** The HTML report (and, where Chromium is installed, its screenshot) in <dataDir>/report/. */
async function writeReport(
  opts: DemoOptions,
  info: ReadyInfo,
  config: Config,
  fines: Record<string, unknown>[],
  truth: Map<string, string>,
  latencies: [string, string][],
  headline: [string, string][],
): Promise<{ file: string; screenshot: string | null }> {
  const dir = join(opts.dataDir, 'report');
  mkdirSync(dir, { recursive: true });
  const wh = await DuckDbWarehouse.open(info.warehouse, { readOnly: true });
  let data: ReportData;
  try {
    const minutes = await wh.query("SELECT radar_id, strftime(minute_start, '%Y-%m-%dT%H:%M:%S.000Z') AS minute, vehicles, fined FROM speedcam.section_traffic_minute ORDER BY minute");
    const speeds = await wh.query('SELECT radar_id, avg_speed FROM speedcam.vehicle_passages WHERE avg_speed IS NOT NULL');
    data = {
      generatedAt: new Date().toISOString(),
      headline,
      fines: await Promise.all(fines.map(async (f) => {
        const url = typeof f['image_url'] === 'string' ? String(f['image_url']) : null;
        const file = url?.startsWith('file:') ? fileURLToPath(url) : null;
        return {
          fine_id: String(f['fine_id']),
          vehicle_id: String(f['vehicle_id']),
          plate_read: (f['license_plate'] as string | null) ?? null,
          plate_truth: truth.get(String(f['vehicle_id'])) ?? null,
          plate_confidence: (f['plate_confidence'] as number | null) ?? null,
          review_reason: (f['review_reason'] as string | null) ?? null,
          avg_speed: Number(f['avg_speed']),
          photo: file && existsSync(file) && file.endsWith('.png') && !file.includes('captures') ? await thumbnail(readFileSync(file)) : null,
        };
      })),
      radars: [...config.radars.values()].map((r) => ({
        radar_id: r.id,
        name: r.name,
        speed_limit: r.speedLimitKmh,
        minutes: minutes.filter((m) => m['radar_id'] === r.id).map((m) => ({ minute: String(m['minute']), vehicles: Number(m['vehicles']), fined: Number(m['fined']) })),
        speeds: speeds.filter((x) => x['radar_id'] === r.id).map((x) => Number(x['avg_speed'])),
      })),
      clickWindows: (await wh.query("SELECT strftime(window_start, '%H:%M') AS window_start, user_pseudo_id, event_count FROM speedcam.user_event_counts ORDER BY window_start, event_count DESC")) as ReportData['clickWindows'],
      transactionWindows: await wh.query("SELECT strftime(window_start_time, '%H:%M:%S') AS window_start, total_transactions, total_amount_sum, avg_transaction_amount, max_amount, min_amount FROM speedcam.transaction_windows ORDER BY window_start"),
      deadLetters: (await wh.query('SELECT reason, source, count(*) AS n FROM speedcam.dead_letters GROUP BY reason, source ORDER BY n DESC, reason')) as ReportData['deadLetters'],
      latencies,
    };
  } finally {
    await wh.close();
  }
  const file = join(dir, 'index.html');
  writeFileSync(file, renderReport(data));
  if (!hasChromium()) return { file, screenshot: null };
  const screenshot = join(dir, 'screenshot.png');
  const errors = await openInChromium(file, screenshot);
  if (errors.length > 0) opts.log(`report: Chromium reported ${errors.length} console error(s): ${errors[0]}`);
  return { file, screenshot };
}

/** Runs `speedcam generate clicks|transactions|users` as a child process and reads its manifest. */
export async function runEventGenerator(opts: DemoOptions, info: ReadyInfo, kind: 'clicks' | 'transactions' | 'users', count: number, rate: number): Promise<GeneratedEvents> {
  const manifest = join(opts.dataDir, `generated-${kind}.json`);
  const topic = kind === 'clicks' ? info.topics.clickEvents : kind === 'transactions' ? info.topics.transactions : info.topics.userRegistrations;
  const args = [fileURLToPath(new URL('./speedcam.js', import.meta.url)), 'generate', kind, '--count', String(count), '--rate', String(rate), '--duplicate-share', '0.1', '--malformed-share', '0.02',
    '--project', info.project, '--topic', topic, '--emulator', info.pubsub, '--manifest', manifest];
  await runChild(opts, kind, args, /^done/);
  return JSON.parse(readFileSync(manifest, 'utf8')) as GeneratedEvents;
}

async function runChild(opts: DemoOptions, label: string, args: string[], show: RegExp): Promise<void> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, METADATA_SERVER_DETECTION: 'none' } });
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (show.test(l) || /rror/.test(l)) opts.log(`  ${label}: ${l.trim()}`);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`the ${label} generator exited with ${code}`);
}

/** Runs `speedcam generate traffic` as a child process against the stack and reads its manifest. */
export async function runGenerator(opts: DemoOptions, info: ReadyInfo, mode: 'seed' | 'timed', vehicles: number, rate: number, capturesBucket: string): Promise<GeneratedVehicle[]> {
  const manifest = join(opts.dataDir, `generated-${mode}.json`);
  const cli = fileURLToPath(new URL('./speedcam.js', import.meta.url));
  const args = [cli, 'generate', 'traffic', '--mode', mode, '--vehicles', String(vehicles), '--rate', String(rate), '--speeding-share', mode === 'seed' ? '0.25' : '0.3',
    '--project', info.project, '--topic', info.topics.vehicleObservations, '--emulator', info.pubsub, '--objects-dir', info.objects, '--captures-bucket', capturesBucket, '--manifest', manifest];
  await runChild(opts, mode, args, /vehicles, \d+ messages|^done/);
  return JSON.parse(readFileSync(manifest, 'utf8')) as GeneratedVehicle[];
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

type Ops = ReturnType<OpsCounter['snapshot']>;
function diffOps(after: Ops, before: Ops): Ops {
  return { reads: after.reads - before.reads, writes: after.writes - before.writes, deletes: after.deletes - before.deletes, transactions: after.transactions - before.transactions };
}

export interface FormatCost {
  reads_per_observation: number;
  writes_per_observation: number;
  transactions_per_vehicle: number;
  /** list prices: invocation $0.40/M, Firestore read $0.06/100k, write $0.18/100k */
  usd_per_million_observations: number;
  usd_per_million_vehicles: number;
}

function costOf(ops: Ops, observations: number, vehicles: number): FormatCost {
  const usd = (observations * 0.4) / 1e6 + (ops.reads * 0.06) / 1e5 + (ops.writes * 0.18) / 1e5;
  return {
    reads_per_observation: round(ops.reads / observations, 3),
    writes_per_observation: round(ops.writes / observations, 3),
    transactions_per_vehicle: round(ops.transactions / vehicles, 2),
    usd_per_million_observations: round((usd / observations) * 1e6, 3),
    usd_per_million_vehicles: round((usd / vehicles) * 1e6, 2),
  };
}

export function formatSummary(s: DemoSummary): string {
  const rows: [string, string][] = [
    ['vehicles', String(s.vehicles)],
    ['observations published', String(s.observations_published)],
    ['passages decided', `${s.passages_decided} (fined ${s.fined}, non-fined ${s.non_fined}, flagged for review ${s.flagged_for_review})`],
    ['passages in warehouse', String(s.warehouse_passages)],
    ['duplicate decision messages', String(s.duplicate_decision_messages)],
    ['fines issued', `${s.fines_issued} (in warehouse ${s.warehouse_fines}, duplicate notifications ${s.duplicate_fine_notifications}, flagged for review ${JSON.stringify(s.fines_flagged_for_review)})`],
    ['plates read exactly', `${s.plates_read_exactly}/${s.fines_issued} = ${(s.plate_accuracy * 100).toFixed(1)} % (OCR against the generator's plates)`],
    ['OCR time per photo', `p50 ${s.ocr_ms.p50} ms, p95 ${s.ocr_ms.p95} ms (tesseract.js, locate + read)`],
    ['analysed photos', `${s.analysed_photos_on_disk}/${s.fines_issued} image_url resolve to a PNG on disk${s.example_fine ? `, e.g. ${String(s.example_fine['image_url'])}` : ''}`],
    ['clicks (events per user per minute)', `${s.windows.clicks.counted}/${s.windows.clicks.distinct_sent} counted, ${s.windows.clicks.late} late (${s.windows.clicks.duplicates_sent} duplicates sent)`],
    ['transactions (30 s windows)', `${s.windows.transactions.counted}/${s.windows.transactions.distinct_sent} counted, ${s.windows.transactions.late} late (${s.windows.transactions.duplicates_sent} duplicates sent)`],
    ['registrations', `${s.windows.users.rows}/${s.windows.users.distinct_sent} users (${s.windows.users.duplicates_sent} duplicate responses sent)`],
    ['section traffic per minute', `${s.windows.section_traffic.counted}/${s.windows.section_traffic.passages} passages counted`],
    ['window pipelines, Firestore', `${s.windows.firestore_per_event} operations per event`],
    ['dead-lettered', `${s.dead_lettered}: ${s.malformed_sent} malformed sent + ${s.windows.clicks.late + s.windows.transactions.late} late ${JSON.stringify(s.dead_letters_by_reason)}`],
    ['mean average speed', `${s.mean_avg_speed_kmh} km/h`],
    ['decision latency', `p50 ${s.decision_latency_ms.p50} ms, p95 ${s.decision_latency_ms.p95} ms, max ${s.decision_latency_ms.max} ms (publish → decision)`],
    ['throughput', `${s.vehicles_per_second} vehicles/s through the local stack`],
    ...(['seed', 'timed'] as const).map((f): [string, string] => {
      const c = s.firestore[f];
      return [
        `cost, ${f} format`,
        `${c.reads_per_observation} reads + ${c.writes_per_observation} writes per observation, ${c.transactions_per_vehicle} transactions per vehicle → $${c.usd_per_million_observations} per 1M observations, $${c.usd_per_million_vehicles} per 1M vehicles`,
      ];
    }),
    ['wall time', `${s.wall_seconds} s`],
    ['report', `${s.report}${s.screenshot ? ` (screenshot: ${s.screenshot})` : ''}`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
