/**
 * The load bench's figures and the one table that shows them side by side (pure: no I/O).
 *
 * Price list (Google Cloud list prices, Tier 1 regions such as us-east1, free tiers ignored):
 * - Cloud Run functions / Cloud Run services with request-based billing (the default): $0.40 per million
 *   requests, $0.000024 per vCPU-second and $0.0000025 per GiB-second of billable instance time, that is
 *   time with at least one request in flight, rounded up to 100 ms (https://cloud.google.com/run/pricing,
 *   https://cloud.google.com/run/docs/configuring/billing-settings).
 * - Firestore: $0.06 per 100,000 document reads, $0.18 per 100,000 writes, $0.02 per 100,000 deletes
 *   (https://cloud.google.com/firestore/pricing). Aggregation queries bill one read per 1,000 index entries.
 */
export const PRICES = {
  requestUsd: 0.4e-6,
  vcpuSecondUsd: 0.000024,
  gibSecondUsd: 0.0000025,
  firestoreReadUsd: 0.06 / 100_000,
  firestoreWriteUsd: 0.18 / 100_000,
  firestoreDeleteUsd: 0.02 / 100_000,
} as const;

/** The observation function as deployed (functions/catalog.ts; 1 vCPU because concurrency > 1 needs it). */
export const OBSERVATION_INSTANCE = { vcpu: 1, memoryGiB: 0.5 } as const;

export interface Ops {
  reads: number;
  writes: number;
  deletes: number;
  transactions: number;
}

/** What one cell of the bench measured (one rate, one number of instances). */
export interface CellMeasurement {
  rateMultiplier: number;
  instances: number;
  dispatch: string;
  vehicles: number;
  observations: number;
  decided: number;
  wrong: number;
  duplicateDecisions: number;
  /** publish of the vehicle's last observation → its decision received from the output topic, ms */
  latenciesMs: number[];
  /** the measured window: first publish → last decision, ms */
  windowMs: number;
  /** operations of the observation function's processes */
  functionOps: Ops;
  /** the same, by what they were for (log appends, sweep commits, publish marks…) */
  functionOpsByKind?: Record<string, Ops>;
  /** each request's duration at the function (dispatcher → answer), ms */
  requestMs?: number[];
  /** operations of the flush runs that exported these passages */
  flushOps: Ops;
  /** CPU time of the observation function's processes, ms */
  functionCpuMs: number;
  /** per instance: time with >= 1 request in flight, exact and rounded up to 100 ms per busy period */
  busyMs: number[];
  busyRoundedMs: number[];
  requests: number;
  failedRequests: number;
  /** CPU of the emulators (null when they were not started by the bench) and of the bench process itself */
  firestoreEmulatorCpuMs: number | null;
  pubsubEmulatorCpuMs: number | null;
  benchProcessCpuMs: number;
  /** the decisions that differ from the independent computation, and the vehicles never decided */
  wrongDetails?: Record<string, unknown>[];
  undecided?: string[];
  /** error lines of the function processes' log, by text */
  errors?: Record<string, number>;
}

export interface CellFigures {
  label: string;
  latency: { p50: number; p95: number; p99: number };
  request: { p50: number; p95: number };
  perObservation: { reads: number; writes: number; transactions: number; flushReads: number; flushWrites: number };
  transactionsPerVehicle: number;
  cpuMsPerObservation: number;
  busyFraction: { mean: number; max: number };
  instanceSecondsPer1000: number;
  usdPerMillion: { invocations: number; instanceTime: number; firestore: number; total: number };
  emulatorCpuMsPerObservation: { firestore: number | null; pubsub: number | null };
  benchCpuMsPerObservation: number;
}

/** Nearest-rank percentile of a list (NaN when empty). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** $ per million observations: invocations + billable instance time + Firestore (function and flush export). */
export function costPerMillion(
  m: Pick<CellMeasurement, 'observations' | 'requests' | 'busyRoundedMs' | 'functionOps' | 'flushOps'>,
  instance = OBSERVATION_INSTANCE,
) {
  const perObs = (usd: number) => (usd / Math.max(1, m.observations)) * 1e6;
  const instanceSeconds = m.busyRoundedMs.reduce((a, b) => a + b, 0) / 1000;
  const invocations = perObs(m.requests * PRICES.requestUsd);
  const instanceTime = perObs(instanceSeconds * (instance.vcpu * PRICES.vcpuSecondUsd + instance.memoryGiB * PRICES.gibSecondUsd));
  const ops = (o: Ops) => o.reads * PRICES.firestoreReadUsd + o.writes * PRICES.firestoreWriteUsd + o.deletes * PRICES.firestoreDeleteUsd;
  const firestore = perObs(ops(m.functionOps) + ops(m.flushOps));
  return { invocations, instanceTime, firestore, total: invocations + instanceTime + firestore };
}

export function figures(m: CellMeasurement): CellFigures {
  const n = Math.max(1, m.observations);
  const busyFractions = m.busyMs.map((b) => b / Math.max(1, m.windowMs));
  return {
    label: `${m.rateMultiplier}× · ${m.instances} inst.`,
    latency: { p50: percentile(m.latenciesMs, 0.5), p95: percentile(m.latenciesMs, 0.95), p99: percentile(m.latenciesMs, 0.99) },
    request: { p50: percentile(m.requestMs ?? [], 0.5), p95: percentile(m.requestMs ?? [], 0.95) },
    perObservation: {
      reads: m.functionOps.reads / n,
      writes: m.functionOps.writes / n,
      transactions: m.functionOps.transactions / n,
      flushReads: m.flushOps.reads / n,
      flushWrites: m.flushOps.writes / n,
    },
    transactionsPerVehicle: m.functionOps.transactions / Math.max(1, m.vehicles),
    cpuMsPerObservation: m.functionCpuMs / n,
    busyFraction: {
      mean: busyFractions.reduce((a, b) => a + b, 0) / Math.max(1, busyFractions.length),
      max: Math.max(0, ...busyFractions),
    },
    instanceSecondsPer1000: (m.busyRoundedMs.reduce((a, b) => a + b, 0) / 1000 / n) * 1000,
    usdPerMillion: costPerMillion(m),
    emulatorCpuMsPerObservation: {
      firestore: m.firestoreEmulatorCpuMs === null ? null : m.firestoreEmulatorCpuMs / n,
      pubsub: m.pubsubEmulatorCpuMs === null ? null : m.pubsubEmulatorCpuMs / n,
    },
    benchCpuMsPerObservation: m.benchProcessCpuMs / n,
  };
}

const f = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const ms = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : 'n/a');

/** One markdown table: a row per figure, a column per cell. */
export function renderTable(cells: readonly CellMeasurement[]): string {
  const fig = cells.map(figures);
  const rows: [string, (m: CellMeasurement, x: CellFigures) => string][] = [
    ['vehicles (observations)', (m) => `${m.vehicles} (${m.observations})`],
    ['decided · wrong · duplicate decisions', (m) => `${m.decided} · ${m.wrong} · ${m.duplicateDecisions}`],
    ['decision latency p50 / p95 / p99, ms', (_, x) => `${ms(x.latency.p50)} / ${ms(x.latency.p95)} / ${ms(x.latency.p99)}`],
    ['request duration at the function p50 / p95, ms', (_, x) => `${ms(x.request.p50)} / ${ms(x.request.p95)}`],
    ['Firestore per observation: reads / writes', (_, x) => `${f(x.perObservation.reads, 3)} / ${f(x.perObservation.writes, 3)}`],
    ['transactions per vehicle', (_, x) => f(x.transactionsPerVehicle)],
    [
      'flush export per observation: reads / writes',
      (_, x) => `${f(x.perObservation.flushReads, 3)} / ${f(x.perObservation.flushWrites, 3)}`,
    ],
    ['function CPU ms per observation', (_, x) => f(x.cpuMsPerObservation)],
    ['busy fraction per instance: mean / max', (_, x) => `${f(x.busyFraction.mean)} / ${f(x.busyFraction.max)}`],
    ['billable instance-s per 1,000 observations', (_, x) => f(x.instanceSecondsPer1000)],
    ['requests failed (redelivered)', (m) => String(m.failedRequests)],
    [
      '$/M obs: invocations + instance time + Firestore',
      (_, x) => `${f(x.usdPerMillion.invocations)} + ${f(x.usdPerMillion.instanceTime)} + ${f(x.usdPerMillion.firestore)}`,
    ],
    ['**$ per million observations**', (_, x) => `**${f(x.usdPerMillion.total)}**`],
    [
      'emulator CPU ms per observation: Firestore / Pub/Sub',
      (_, x) => `${f(x.emulatorCpuMsPerObservation.firestore)} / ${f(x.emulatorCpuMsPerObservation.pubsub)}`,
    ],
    ['bench process CPU ms per observation (generator, relay, dispatcher)', (_, x) => f(x.benchCpuMsPerObservation)],
  ];
  const header = `| | ${fig.map((x) => x.label).join(' | ')} |`;
  const rule = `| --- | ${fig.map(() => '---').join(' | ')} |`;
  return [header, rule, ...rows.map(([name, cell]) => `| ${name} | ${cells.map((m, i) => cell(m, fig[i]!)).join(' | ')} |`)].join('\n');
}
