import type { OpsCounter } from '../../shared/core/ops-counter.js';

/** The demo's cost model: Firestore operations counted while a format ran, priced. */

/** x rounded to d decimals. */
export const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

export type Ops = ReturnType<OpsCounter['snapshot']>;

/** The operations counted between two snapshots. */
export function diffOps(after: Ops, before: Ops): Ops {
  return {
    reads: after.reads - before.reads,
    writes: after.writes - before.writes,
    deletes: after.deletes - before.deletes,
    transactions: after.transactions - before.transactions,
  };
}

export interface FormatCost {
  reads_per_observation: number;
  writes_per_observation: number;
  transactions_per_vehicle: number;
  /** list prices: invocation $0.40/M, Firestore read $0.06/100k, write $0.18/100k */
  usd_per_million_observations: number;
  usd_per_million_vehicles: number;
}

/** What a format's traffic cost, per observation and per vehicle, at list prices. */
export function costOf(ops: Ops, observations: number, vehicles: number): FormatCost {
  const usd = (observations * 0.4) / 1e6 + (ops.reads * 0.06) / 1e5 + (ops.writes * 0.18) / 1e5;
  return {
    reads_per_observation: round(ops.reads / observations, 3),
    writes_per_observation: round(ops.writes / observations, 3),
    transactions_per_vehicle: round(ops.transactions / vehicles, 2),
    usd_per_million_observations: round((usd / observations) * 1e6, 3),
    usd_per_million_vehicles: round((usd / vehicles) * 1e6, 2),
  };
}
