import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './options.js';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { loadConfig } from '../shared/config.js';
import { silentLogger } from '../shared/core/logger.js';
import { createRuntime } from '../shared/runtime.js';
import { clickRow, randomUserResponse, transactionMessage } from '../cli/generators/events.js';
import { startStack } from '../cli/stack.js';

/**
 * `npm run bench`: on the local stack (Firestore and Pub/Sub emulators), in one run:
 * 1. events/s on ONE hot key (the sales producer's global transaction key) through the window engine, with
 *    concurrent deliveries as a function instance gets them, and Firestore operations per event;
 * 2. the same events through a naive engine: one transaction per event on one document;
 * 3. window end → row in the warehouse, p50/p95, with the flush ticked every 60 s as Cloud Scheduler
 *    does and the default configuration (publish time, 30 s lateness), at the seeds' load (sales transactions:
 *    a transaction every 0.5 s; GA4 clicks: a GA4 row every 2 s; randomuser.me registrations: a response every 20 s), and
 *    the flush's billable seconds per hour at zero load and at that load.
 * It prints figures; no test asserts a timing.
 */
const args = benchArgs({
  events: '20000',
  concurrency: '500',
  'naive-seconds': '10',
  'naive-concurrency': '20',
  minutes: '5',
  'zero-ticks': '10',
});
const EVENTS = Number(args.events);
const CONCURRENCY = Number(args.concurrency);
const MINUTES = Number(args.minutes);
const SCHEDULER_MS = 60_000;
const log = (s: string) => process.stderr.write(s + '\n');

const dataDir = mkdtempSync(join(tmpdir(), 'speedcam-bench-'));
/** When each window's row is in the warehouse (table|window end → ms): the flush's writes, as they complete. */
const firstSeen = new Map<string, number>();
const stack = await startStack({
  project: `demo-bench-${Date.now()}`,
  functionsPort: 0,
  // Cloud Scheduler's cadence: one flush tick a minute
  flushIntervalMs: SCHEDULER_MS,
  dataDir,
  env: { SPEEDCAM_EXPORT_GRACE_S: '1' },
  echoSeverity: 'ERROR',
  // Polling the file would hold DuckDB's lock and delay the very writes it measures.
  warehouse: async (configured) => {
    const wh = await configured();
    return {
      pseudonymise: wh.pseudonymise?.bind(wh),
      close: () => wh.close(),
      upsert: async (table, rows) => {
        const result = await wh.upsert(table, rows);
        const now = Date.now();
        for (const r of rows) {
          const end = r['window_end_time'] ?? r['window_end'];
          if (typeof end !== 'string') continue;
          const k = `${table}|${Date.parse(end)}`;
          if (!firstSeen.has(k)) firstSeen.set(k, now);
        }
        return result;
      },
    };
  },
});
try {
  // 1. the engine, on one hot key
  const config = loadConfig({ ...process.env, SPEEDCAM_COLLECTION_PREFIX: 'bench_', SPEEDCAM_WAREHOUSE: 'duckdb' });
  const rt = createRuntime(config, { logger: silentLogger });
  const now = Date.now();
  const messages = Array.from({ length: EVENTS }, (_, i) => ({
    // within the last 2 s: every event is on time, so this measures commits, not rejections
    data: Buffer.from(transactionMessage(now - (i % 2_000), Math.random)),
    attributes: {},
    messageId: `b${i}`,
    publishTimeMs: now,
  }));
  log(`engine: ${EVENTS} transactions (one key), ${CONCURRENCY} deliveries in flight…`);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < messages.length) await rt.windows.transactions.handle(messages[next++]!);
    }),
  );
  const engineSeconds = (performance.now() - t0) / 1000;
  const ops = rt.windowOps.snapshot();
  await rt.close();

  // 2. naive: a read-modify-write transaction per event on one document
  const naiveConcurrency = Number(args['naive-concurrency']);
  const naiveSeconds = Number(args['naive-seconds']);
  log(`naive: one transaction per event on one document, ${naiveConcurrency} writers, ${naiveSeconds} s…`);
  const db = new Firestore({ projectId: stack.info.project });
  const doc = db.collection('naive_bench').doc('all');
  let naiveDone = 0;
  let naiveFailed = 0;
  const naiveEnd = performance.now() + naiveSeconds * 1000;
  const n0 = performance.now();
  await Promise.all(
    Array.from({ length: naiveConcurrency }, async () => {
      while (performance.now() < naiveEnd) {
        try {
          await db.runTransaction(async (tx) => {
            const snap = await tx.get(doc);
            const d = snap.data() ?? { count: 0, sum: 0 };
            tx.set(doc, { count: d['count'] + 1, sum: d['sum'] + 1 });
          });
          naiveDone++;
        } catch {
          naiveFailed++;
        }
      }
    }),
  );
  const naiveRate = naiveDone / ((performance.now() - n0) / 1000);
  await db.terminate();

  // 3a. the flush at zero load: ticks as Cloud Scheduler sends them, straight to the flush function
  log(`flush at zero load: ${args['zero-ticks']} ticks…`);
  const zeroRuns: number[] = [];
  for (let i = 0; i < Number(args['zero-ticks']); i++) {
    zeroRuns.push(await tick(stack.info.functions['flush']!, stack.info.project, stack.info.topics.flushTicks));
    await new Promise((r) => setTimeout(r, 300));
  }

  // 3b. the seeds' load for a few minutes, the flush ticked every 60 s
  log(`seed load for ${MINUTES} min (a transaction every 0.5 s, a GA4 row every 2 s, a randomuser response every 20 s), flush every 60 s…`);
  const ps = new PubSub({ projectId: stack.info.project });
  const loadStart = Date.now();
  const tEnd = loadStart + MINUTES * 60_000;
  const opsBefore = stack.runtime.windowOps.snapshot();
  let sent = 0;
  const publishers = [
    every(500, tEnd, () =>
      ps.topic(stack.info.topics.transactions).publishMessage({ data: Buffer.from(transactionMessage(Date.now(), Math.random)) }),
    ),
    every(2_000, tEnd, () =>
      ps.topic(stack.info.topics.clickEvents).publishMessage({
        data: Buffer.from(
          clickRow(
            `U${Math.floor(Math.random() * 20)}`,
            Date.parse('2018-10-03T10:00:00Z') + Math.floor(Math.random() * 86_400_000),
            Math.random,
          ),
        ),
      }),
    ),
    every(20_000, tEnd, () =>
      ps.topic(stack.info.topics.userRegistrations).publishMessage({ data: Buffer.from(randomUserResponse(1, Math.random)) }),
    ),
  ].map((p) => p.then((n) => (sent += n)));
  // The rows' landing times are recorded by the stack's warehouse (above).
  const lateness = stack.runtime.config.pipelines.transactions.latenessMs;
  const lastEnd = tEnd + lateness + SCHEDULER_MS + 15_000;
  await new Promise((r) => setTimeout(r, lastEnd - Date.now()));
  await Promise.all(publishers);
  await ps.close();
  const opsAfter = stack.runtime.windowOps.snapshot();

  // Window end → row. Steady state leaves out the first scheduler interval (a run with nothing open had
  // ended at once) and the windows within the lateness of the traffic's end (with no later data they close
  // by the idle rule, the lateness after the last write).
  const windows = [...firstSeen.entries()]
    .map(([k, seen]) => ({ table: k.split('|')[0]!, end: Number(k.split('|')[1]), seen }))
    .filter((x) => x.end > loadStart && x.end <= tEnd)
    .sort((a, b) => a.end - b.end || (a.table < b.table ? -1 : 1));
  const delays = (from: number, to: number) =>
    windows
      .filter((x) => x.end > from && x.end <= to)
      .map((x) => x.seen - x.end)
      .sort((a, b) => a - b);
  const all = delays(loadStart, tEnd);
  const steady = delays(loadStart + SCHEDULER_MS, tEnd - lateness);
  // The flush's runs (the stack log has one "flush done" line per run, with its duration).
  const runs = readFileSync(stack.info.log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"flush done"'))
    .map((l) => JSON.parse(l) as { time: string; durationMs: number })
    .map((r) => ({ end: Date.parse(r.time), ms: r.durationMs }));
  // Run time inside the steady span (each run clipped to it), as a share of the span.
  const [spanFrom, spanTo] = [loadStart + SCHEDULER_MS, tEnd];
  const steadyRuns = runs
    .map((r) => ({ ms: Math.max(0, Math.min(r.end, spanTo) - Math.max(r.end - r.ms, spanFrom)) }))
    .filter((r) => r.ms > 0);
  const steadySpanS = (spanTo - spanFrom) / 1000;
  const billed = (ms: number) => Math.ceil(ms / 100) / 10; // Cloud Run bills a request by the 100 ms

  const engineRate = EVENTS / engineSeconds;
  console.log(
    JSON.stringify(
      {
        hot_key_events_per_second: {
          engine: Math.round(engineRate),
          naive_one_transaction_per_event: Math.round(naiveRate * 10) / 10,
          ratio: Math.round(engineRate / naiveRate),
        },
        engine: {
          events: EVENTS,
          seconds: Math.round(engineSeconds * 100) / 100,
          in_flight: CONCURRENCY,
          firestore_writes_per_event: ops.writes / EVENTS,
          firestore_reads_per_event: ops.reads / EVENTS,
        },
        naive: {
          committed: naiveDone,
          gave_up: naiveFailed,
          writers: naiveConcurrency,
          seconds: naiveSeconds,
          firestore_writes_per_event: 1,
          firestore_reads_per_event: 1,
        },
        window_end_to_row: {
          config: {
            scheduler_s: SCHEDULER_MS / 1000,
            lateness_s: lateness / 1000,
            event_time: stack.runtime.config.pipelines.transactions.eventTime.kind,
            load: 'the sales simulator 2/s, GA4 clicks 0.5/s, randomuser.me registrations 0.05/s',
            minutes: MINUTES,
          },
          all_windows: summary(all, lateness),
          steady_state: {
            ...summary(steady, lateness),
            note: 'windows ending after the first scheduler interval of traffic and before its last lateness',
          },
          windows: windows.map(
            (x) => `${x.table} ${new Date(x.end).toISOString().slice(11, 19)} +${Math.round((x.seen - x.end) / 100) / 10} s`,
          ),
        },
        flush_billable_seconds_per_hour: {
          zero_load: {
            runs_measured: zeroRuns.length,
            run_ms: summary(
              [...zeroRuns].sort((a, b) => a - b),
              0,
            ),
            seconds_per_hour:
              Math.round((3600 / (SCHEDULER_MS / 1000)) * (zeroRuns.reduce((s, ms) => s + billed(ms), 0) / zeroRuns.length) * 10) / 10,
          },
          seed_load: {
            runs_measured: steadyRuns.length,
            seconds_per_hour: steadyRuns.length
              ? Math.round((steadyRuns.reduce((s, r) => s + billed(r.ms), 0) / steadySpanS) * 3600)
              : null,
            run_seconds: steadyRuns.map((r) => Math.round(r.ms / 100) / 10),
          },
        },
        window_pipelines_firestore_at_seed_load: {
          messages: sent,
          reads: opsAfter.reads - opsBefore.reads,
          writes: opsAfter.writes - opsBefore.writes,
          deletes: opsAfter.deletes - opsBefore.deletes,
          reads_per_hour: Math.round(((opsAfter.reads - opsBefore.reads) / ((lastEnd - loadStart) / 1000)) * 3600),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

/** Calls `fn` every `ms` until `until`; resolves with the number of calls once their promises settle. */
async function every(ms: number, until: number, fn: () => Promise<unknown>): Promise<number> {
  const pending: Promise<unknown>[] = [];
  for (let next = Date.now(); next < until; next += ms) {
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    pending.push(fn());
  }
  await Promise.all(pending);
  return pending.length;
}

/** One flush tick as Cloud Scheduler's Pub/Sub push delivers it; resolves with the request's duration. */
async function tick(url: string, project: string, topic: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/projects/${project}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      subscription: `projects/${project}/subscriptions/bench`,
      message: {
        data: Buffer.from('{"tick":"flush"}').toString('base64'),
        attributes: {},
        messageId: `bench-${Date.now()}`,
        publishTime: new Date().toISOString(),
      },
    }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`flush tick answered ${res.status}`);
  return performance.now() - started;
}

function summary(sortedMs: number[], latenessMs: number) {
  const q = (p: number) => sortedMs[Math.min(sortedMs.length - 1, Math.floor(p * sortedMs.length))] ?? NaN;
  const s = (ms: number) => Math.round(ms / 100) / 10;
  return {
    n: sortedMs.length,
    p50_s: s(q(0.5)),
    p95_s: s(q(0.95)),
    max_s: s(sortedMs[sortedMs.length - 1] ?? NaN),
    ...(latenessMs ? { p95_minus_lateness_s: s(q(0.95) - latenessMs) } : {}),
  };
}
