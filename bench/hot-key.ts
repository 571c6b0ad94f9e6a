import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { DuckDbWarehouse } from '../shared/adapters/duckdb-warehouse.js';
import { loadConfig } from '../shared/config.js';
import { silentLogger } from '../shared/logger.js';
import { createRuntime } from '../shared/runtime.js';
import { transactionMessage } from '../cli/generate-events.js';
import { startStack } from '../cli/stack.js';

/**
 * `npm run bench`: on the local stack (Firestore and Pub/Sub emulators), side by side in one run:
 * 1. events/s on ONE hot key (seed 003's global transaction key) through the window engine, with
 *    concurrent deliveries as a function instance gets them, and Firestore operations per event;
 * 2. the same events through a naive engine: one transaction per event on one document;
 * 3. the delay from a window's end to its row in the warehouse, end to end through Pub/Sub.
 * It prints figures; no test asserts a timing.
 */
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '500' },
    'naive-seconds': { type: 'string', default: '10' },
    'naive-concurrency': { type: 'string', default: '20' },
  },
});
const EVENTS = Number(args.events);
const CONCURRENCY = Number(args.concurrency);
const log = (s: string) => process.stderr.write(s + '\n');

const stack = await startStack({
  project: `demo-bench-${Date.now()}`,
  functionsPort: 0,
  flushIntervalMs: 500,
  dataDir: mkdtempSync(join(tmpdir(), 'speedcam-bench-')),
  // Short lateness so that the end-to-end delay is measured in seconds, not minutes.
  env: { SPEEDCAM_WINDOW_LATENESS_S: '10', SPEEDCAM_WINDOW_FLUSH_MARGIN_S: '1', SPEEDCAM_EXPORT_GRACE_S: '1' },
  echoSeverity: 'ERROR',
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
      while (next < messages.length) await rt.transactions.handle(messages[next++]!);
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

  // 3. window end → row, through Pub/Sub and the deployed-shape functions
  log('end to end: transactions through Pub/Sub until their 30 s window lands in the warehouse…');
  const ps = new PubSub({ projectId: stack.info.project });
  const topic = ps.topic(stack.info.topics.transactions);
  // A full window: from the next 30 s boundary to the one after.
  const windowStart = Math.ceil(Date.now() / 30_000) * 30_000;
  const windowEnd = windowStart + 30_000;
  await new Promise((r) => setTimeout(r, windowStart - Date.now() + 50));
  let published = 0;
  while (Date.now() < windowEnd - 200) {
    await Promise.all(Array.from({ length: 100 }, () => topic.publishMessage({ data: Buffer.from(transactionMessage(Date.now(), Math.random)) })));
    published += 100;
    await new Promise((r) => setTimeout(r, 50));
  }
  let delayMs = NaN;
  let rowCount = 0;
  // Poll once a second: a reader holds the DuckDB file briefly, and the flush must get it to write.
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1000))) {
    const wh = await DuckDbWarehouse.open(stack.info.warehouse, { readOnly: true }).catch(() => null);
    if (!wh) continue;
    try {
      const rows = await wh.query(`SELECT total_transactions FROM speedcam.transaction_windows WHERE epoch_ms(window_end_time) = ${windowEnd}`);
      if (rows.length > 0) {
        delayMs = Date.now() - windowEnd;
        rowCount = Number(rows[0]!['total_transactions']);
        break;
      }
    } finally {
      await wh.close();
    }
  }
  // Every published event is either in the row or dead-lettered as late (delivery lagged past the lateness).
  let late = 0;
  const lateBefore = await countLate(stack.info.warehouse);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const wh = await DuckDbWarehouse.open(stack.info.warehouse, { readOnly: true }).catch(() => null);
    if (!wh) continue;
    try {
      const r = await wh.query("SELECT count(*) AS n FROM speedcam.dead_letters WHERE source = 'transactions' AND reason = 'late'");
      const n = Number(r[0]!['n']) - lateBefore;
      if (n === late && rowCount + n >= published) break;
      late = n;
    } finally {
      await wh.close();
    }
  }
  await ps.close();

  const engineRate = EVENTS / engineSeconds;
  console.log(
    JSON.stringify(
      {
        hot_key_events_per_second: { engine: Math.round(engineRate), naive_one_transaction_per_event: Math.round(naiveRate * 10) / 10, ratio: Math.round(engineRate / naiveRate) },
        engine: { events: EVENTS, seconds: Math.round(engineSeconds * 100) / 100, in_flight: CONCURRENCY, firestore_writes_per_event: ops.writes / EVENTS, firestore_reads_per_event: ops.reads / EVENTS },
        naive: { committed: naiveDone, gave_up: naiveFailed, writers: naiveConcurrency, seconds: naiveSeconds, firestore_writes_per_event: 1, firestore_reads_per_event: 1 },
        window_end_to_warehouse_row_ms: delayMs,
        window_end_to_row_config: { lateness_s: 10, flush_margin_s: 1, flush_interval_s: 0.5, note: 'defaults are lateness 30 s + margin 10 s + one scheduler interval' },
        end_to_end_window: { published, counted_in_row: rowCount, dead_lettered_late: late, accounted: rowCount + late === published },
      },
      null,
      2,
    ),
  );
} finally {
  await stack.stop();
}

async function countLate(path: string): Promise<number> {
  const wh = await DuckDbWarehouse.open(path, { readOnly: true });
  try {
    return Number((await wh.query("SELECT count(*) AS n FROM speedcam.dead_letters WHERE source = 'transactions' AND reason = 'late'"))[0]!['n']);
  } finally {
    await wh.close();
  }
}
