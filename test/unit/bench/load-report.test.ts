import { describe, expect, it } from 'vitest';
import { costPerMillion, percentile, renderTable, type CellMeasurement } from '../../../bench/load-report.js';

const cell = (over: Partial<CellMeasurement> = {}): CellMeasurement => ({
  rateMultiplier: 1,
  instances: 4,
  dispatch: 'random',
  vehicles: 100,
  observations: 1000,
  decided: 100,
  wrong: 0,
  duplicateDecisions: 0,
  latenciesMs: [100, 200, 300],
  windowMs: 50_000,
  functionOps: { reads: 200, writes: 150, deletes: 40, transactions: 10 },
  flushOps: { reads: 100, writes: 0, deletes: 0, transactions: 0 },
  functionCpuMs: 2000,
  busyMs: [5000, 5000, 5000, 5000],
  busyRoundedMs: [6000, 6000, 6000, 6000],
  requests: 1000,
  failedRequests: 0,
  firestoreEmulatorCpuMs: 4000,
  pubsubEmulatorCpuMs: null,
  benchProcessCpuMs: 1000,
  ...over,
});

describe('load bench figures', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 0.95)).toBe(95);
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('$ per million observations from list prices, worked by hand', () => {
    // 1,000 requests at $0.40/M = $0.0004. Instance time: 24 s rounded, 1 vCPU at $0.000024 and 0.5 GiB at
    // $0.0000025 = 24 × 0.00002525 = $0.000606. Firestore: 300 reads × $0.0000006 + 150 writes × $0.0000018
    // + 40 deletes × $0.0000002 = $0.00018 + $0.00027 + $0.000008 = $0.000458. Per 1,000 observations, so ×1000.
    const c = costPerMillion(cell());
    expect(c.invocations).toBeCloseTo(0.4, 9);
    expect(c.instanceTime).toBeCloseTo(0.606, 9);
    expect(c.firestore).toBeCloseTo(0.458, 9);
    expect(c.total).toBeCloseTo(1.464, 9);
  });

  it('one table: a row per figure, a column per cell', () => {
    const table = renderTable([cell({ instances: 1 }), cell({ instances: 4 }), cell({ rateMultiplier: 10, instances: 16 })]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| | 1× · 1 inst. | 1× · 4 inst. | 10× · 16 inst. |');
    expect(lines[1]).toBe('| --- | --- | --- | --- |');
    for (const l of lines) expect(l.split('|').length).toBe(6);
    expect(table).toContain('| **$ per million observations** | **1.46** | **1.46** | **1.46** |');
    expect(table).toContain('| decision latency p50 / p95 / p99, ms | 200 / 300 / 300 |');
    expect(table).toContain('| emulator CPU ms per observation: Firestore / Pub/Sub | 4.00 / n/a |');
  });
});
