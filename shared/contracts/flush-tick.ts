import { z } from 'zod';

/**
 * flush-ticks: the flush's clock. Producers: Cloud Scheduler every minute (terraform/scheduler.tf, or
 * `speedcam deploy`'s job) and the local stack's timer (cli/stack.ts). Consumer: the flush function, which
 * reads only the message's publish time (a run lasts until the next tick is due); the body is a marker.
 */
export const flushTick = z.object({ tick: z.literal('flush') });
export type FlushTick = z.infer<typeof flushTick>;

/** The body every producer publishes. */
export const FLUSH_TICK: FlushTick = { tick: 'flush' };
