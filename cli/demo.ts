import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DuckDbWarehouse } from '../shared/adapters/duckdb-warehouse.js';
import type { OpsCounter } from '../shared/ports.js';
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
  const stack = await startStack({ dataDir: opts.dataDir, functionsPort: 0, flushIntervalMs: 2000, isolate: ['fines'] });
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
    opts.log(`publishing ${opts.timedVehicles} vehicles in the timed format (entry and exit cameras) and ${DEMO_BAD_MESSAGES.length} malformed messages…`);
    const timed = await generate('timed', opts.timedVehicles);
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
    while (Date.now() < deadline) {
      await stack.flush();
      const wh = await DuckDbWarehouse.open(info.warehouse, { readOnly: true });
      try {
        rows = await wh.query('SELECT passage_id, avg_speed, is_Ticketed, review_reason, epoch_ms(decided_at) - epoch_ms(last_published) AS latency_ms FROM speedcam.vehicle_passages');
        deadRows = await wh.query('SELECT reason, count(*) AS n FROM speedcam.dead_letters GROUP BY reason ORDER BY reason');
        fineRows = await wh.query('SELECT fine_id FROM speedcam.fined_vehicles');
      } finally {
        await wh.close();
      }
      const dl = deadRows.reduce((n, r) => n + Number(r['n']), 0);
      if (rows.length >= decisions.size && dl >= DEMO_BAD_MESSAGES.length && fineRows.length >= fines.size) break;
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
    const summary: DemoSummary = {
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
      summary.dead_lettered === DEMO_BAD_MESSAGES.length &&
      summary.fines_issued === summary.fined &&
      summary.warehouse_fines === summary.fines_issued &&
      summary.analysed_photos_on_disk === summary.fines_issued;
    return { summary, ok };
  } finally {
    await stack.stop();
  }
}

/** Runs `speedcam generate traffic` as a child process against the stack and reads its manifest. */
async function runGenerator(opts: DemoOptions, info: ReadyInfo, mode: 'seed' | 'timed', vehicles: number, rate: number, capturesBucket: string): Promise<GeneratedVehicle[]> {
  const manifest = join(opts.dataDir, `generated-${mode}.json`);
  const cli = fileURLToPath(new URL('./speedcam.js', import.meta.url));
  const args = [cli, 'generate', 'traffic', '--mode', mode, '--vehicles', String(vehicles), '--rate', String(rate), '--speeding-share', mode === 'seed' ? '0.25' : '0.3',
    '--project', info.project, '--topic', info.topics.vehicleObservations, '--emulator', info.pubsub, '--objects-dir', info.objects, '--captures-bucket', capturesBucket, '--manifest', manifest];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, METADATA_SERVER_DETECTION: 'none' } });
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (/vehicles, \d+ messages|^done|rror/.test(l)) opts.log(`  ${mode}: ${l.trim()}`);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`the ${mode} generator exited with ${code}`);
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
    ['dead-lettered', `${s.dead_lettered} ${JSON.stringify(s.dead_letters_by_reason)}`],
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
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
