import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { resetFirestore } from '../emulators.js';
import { startStack, type Stack } from '../stack.js';
import type { DemoOptions } from './index.js';

/**
 * The local stack as the demo runs it: a fresh warehouse and Firestore, the fines in their own process
 * (their OCR does not stall the others), the functions' logs in <dataDir>/stack.log, and windows that
 * close within the demo.
 */
export async function startDemoStack(opts: DemoOptions): Promise<Stack> {
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
    // The terminal keeps the demo's progress readable.
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
    await resetFirestore(stack.info.firestore, stack.info.project);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  opts.log(`stack ready: ${JSON.stringify(stack.info.functions)}`);
  return stack;
}
