import { runFlush } from '../../shared/flush.js';
import { runtime } from '../../shared/runtime.js';
import { pushFunction } from '../push.js';

/** flush-ticks (Cloud Scheduler) → close expired passages, export to the warehouse. */
pushFunction('flush', () => runFlush(runtime().flushDeps));
