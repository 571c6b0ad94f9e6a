import { pushFunction } from '../push.js';

/**
 * flush-ticks (Cloud Scheduler) → close expired passages, export to the warehouse; while windows are
 * open, keep exporting each as it falls due until the next tick (the tick's publish time + the period).
 */
pushFunction('flush', (rt) => rt.flush);
