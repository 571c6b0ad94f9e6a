import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PubSub } from '@google-cloud/pubsub';
import { runEventGenerator, runTrafficGenerator } from '../generators/child.js';
import { MALFORMED_OBSERVATIONS } from '../generators/traffic.js';
import { diffOps, round } from './cost.js';
import { OutputWatch } from './outputs.js';
import { reportLines, writeReport } from './report.js';
import { startDemoStack } from './stack.js';
import { isComplete, summarize, type DemoSummary } from './summary.js';
import { waitForWarehouse } from './warehouse.js';

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

/**
 * `npm run demo`: the local stack (stack.ts); radar traffic in both formats, window events and a few bad
 * messages from the generators, as their own processes; the outputs watched (outputs.ts) and the
 * warehouse checked (warehouse.ts) until everything landed; then the summary (summary.ts, cost.ts) and
 * the report (report.ts).
 */
export async function runDemo(opts: DemoOptions): Promise<{ summary: DemoSummary; ok: boolean }> {
  const startedMs = Date.now();
  const stack = await startDemoStack(opts);
  // The stack's functions share this process's event loop: its delay, each second, in stack.log (what a
  // decision's stages wait for CPU here).
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const loopLog = setInterval(() => {
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    stack.runtime.logger.debug('event loop delay', {
      p50_ms: ms(loop.percentile(50)),
      p99_ms: ms(loop.percentile(99)),
      max_ms: ms(loop.max),
    });
    loop.reset();
  }, 1000);
  try {
    const { info, runtime } = stack;
    const ps = new PubSub({ projectId: info.project });
    const outputs = await OutputWatch.start(ps, info);
    const generatorsStartedMs = Date.now();
    const deadline = Date.now() + opts.timeoutMs;
    const traffic = (mode: 'seed' | 'timed', vehicles: number) =>
      runTrafficGenerator(opts, info, mode, vehicles, opts.rate, runtime.config.buckets.captures);

    // The two formats run one after the other so that Firestore operations are measured for each.
    opts.log(`publishing ${opts.seedVehicles} vehicles in the seed format (10 observations each) at ${opts.rate} vehicles/s…`);
    const opsBefore = runtime.ops.snapshot();
    const seed = await traffic('seed', opts.seedVehicles);
    await outputs.waitDecided(seed.length, deadline, opts.log);
    const afterSpotSpeeds = runtime.ops.snapshot();
    opts.log(
      `publishing ${opts.timedVehicles} vehicles in the timed format (entry and exit cameras) and ${MALFORMED_OBSERVATIONS.length} malformed messages, with clicks, transactions and registrations (10 % duplicated, 2 % malformed) at the same time…`,
    );
    const [timed, clicks, transactions, registrations] = await Promise.all([
      traffic('timed', opts.timedVehicles),
      runEventGenerator(opts, info, 'clicks', 1500, 100),
      runEventGenerator(opts, info, 'transactions', 750, 50),
      runEventGenerator(opts, info, 'users', 60, 5),
    ]);
    const badTopic = ps.topic(info.topics.vehicleObservations);
    for (const bad of MALFORMED_OBSERVATIONS) await badTopic.publishMessage({ data: Buffer.from(bad) });
    const vehicles = seed.length + timed.length;
    await outputs.waitDecided(vehicles, deadline, opts.log);
    const opsTimed = diffOps(runtime.ops.snapshot(), afterSpotSpeeds);
    opts.log('waiting for the fines (photo, plate OCR, analysed photo, notification or the review queue)…');
    const reviews = runtime.stores.reviews;
    await outputs.waitFined(deadline, async () => (await reviews.queueStats(Date.now())).pending);
    // Fines with a review reason wait for a person (no notice): the demo reports them from the queue.
    const held = await reviews.pending(100_000);
    const queue = await reviews.queueStats(Date.now());
    opts.log(`  decided ${outputs.decisions.size}/${vehicles}; waiting for the flush to land them in the warehouse…`);

    const usersSent = registrations.messages.reduce((n, m) => n + (JSON.parse(m) as { results: unknown[] }).results.length, 0);
    const malformedSent = MALFORMED_OBSERVATIONS.length + clicks.malformed + transactions.malformed + registrations.malformed;
    const landed = await waitForWarehouse(
      stack,
      {
        passages: outputs.decisions.size,
        fines: outputs.fines.size + held.length,
        clicks: clicks.messages.length,
        transactions: transactions.messages.length,
        users: usersSent,
        malformed: malformedSent,
        topics: info.topics,
      },
      deadline,
    );
    await outputs.close();

    const summary = summarize({
      startedMs,
      generatorsStartedMs,
      seed,
      timed,
      clicks,
      transactions,
      registrations,
      usersSent,
      malformedSent,
      outputs,
      held: held as unknown as Record<string, unknown>[],
      reviewQueue: { pending: queue.pending, decided: queue.decisionsLastHour },
      landed,
      topics: info.topics,
      ops: { seed: diffOps(afterSpotSpeeds, opsBefore), timed: opsTimed, windows: runtime.windowOps.snapshot() },
    });
    const truth = new Map([...seed, ...timed].map((v) => [v.vehicleId, v.plate]));
    const { latencies, headline } = reportLines(summary);
    const report = await writeReport(
      opts,
      info,
      runtime.config,
      [...outputs.fines.values(), ...(held as unknown as Record<string, unknown>[])],
      truth,
      latencies,
      headline,
    );
    summary.report = report.file;
    summary.screenshot = report.screenshot;
    summary.wall_seconds = round((Date.now() - startedMs) / 1000, 1);
    writeFileSync(join(opts.dataDir, 'demo-summary.json'), JSON.stringify(summary, null, 2));
    return { summary, ok: isComplete(summary) };
  } finally {
    clearInterval(loopLog);
    loop.disable();
    await stack.stop();
  }
}
