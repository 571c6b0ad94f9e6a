import { runFlush, runUntilForTick } from '../../shared/export/flush.js';
import { runtime } from '../../shared/runtime.js';
import { pushFunction } from '../push.js';

/**
 * flush-ticks (Cloud Scheduler) → close expired passages, export to the warehouse; while windows are
 * open, keep exporting each as it falls due until the next tick (the tick's publish time + the period).
 */
pushFunction('flush', async (tick) => {
  const rt = runtime();
  await runFlush(rt.flushDeps, undefined, { runUntilMs: runUntilForTick(tick.publishTimeMs, rt.config.flushPeriodMs) });
});
