/** One event for the window pipelines: identity (for dedupe), key, event time and numeric values. */
export interface WindowEvent {
  id: string;
  key: string;
  timeMs: number;
  values: Record<string, number>;
}

export type AggregateFn = 'count' | 'sum' | 'mean' | 'min' | 'max';

export interface Aggregate {
  column: string;
  fn: AggregateFn;
  /** the event value aggregated (not for count) */
  field?: string;
  /** decimals to round to */
  round?: number;
}

/**
 * A key's running aggregate, mergeable: the event count, and per value field its count, sum, min and
 * max (unrounded). Stored with an exported window so that a late event revises the row exactly.
 */
export interface Accumulator {
  n: number;
  fields: Record<string, [count: number, sum: number, min: number, max: number]>;
}

export function emptyAccumulator(): Accumulator {
  return { n: 0, fields: {} };
}

/** Adds one event to an accumulator (in place). */
export function accumulate(acc: Accumulator, e: WindowEvent): Accumulator {
  acc.n++;
  for (const [field, v] of Object.entries(e.values)) {
    const f = acc.fields[field];
    if (f) {
      f[0]++;
      f[1] += v;
      f[2] = Math.min(f[2], v);
      f[3] = Math.max(f[3], v);
    } else acc.fields[field] = [1, v, v, v];
  }
  return acc;
}

/** The declared aggregates of one key from its accumulator; mean/min/max of no values are absent. */
export function aggregatesOf(acc: Accumulator, aggregates: readonly Aggregate[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of aggregates) {
    const f = a.field ? acc.fields[a.field] : undefined;
    let v: number | undefined;
    switch (a.fn) {
      case 'count':
        v = acc.n;
        break;
      case 'sum':
        v = f ? f[1] : 0;
        break;
      case 'mean':
        v = f ? f[1] / f[0] : undefined;
        break;
      case 'min':
        v = f?.[2];
        break;
      case 'max':
        v = f?.[3];
        break;
    }
    if (v !== undefined) out[a.column] = a.round !== undefined ? roundHalfAway(v, a.round) : v;
  }
  return out;
}

/** Aggregates deduplicated events of one key, as declared; mean/min/max of no values are absent. */
export function aggregate(events: readonly WindowEvent[], aggregates: readonly Aggregate[]): Record<string, number> {
  const acc = emptyAccumulator();
  for (const e of events) accumulate(acc, e);
  return aggregatesOf(acc, aggregates);
}

/** Rounds to `d` decimals, half away from zero, correcting binary artefacts (1.005 → 1.01). */
export function roundHalfAway(x: number, d: number): number {
  const f = 10 ** d;
  return (Math.sign(x) * Math.round(Math.abs(x) * f + 1e-9 * Math.max(1, Math.abs(x) * f))) / f;
}

export function windowOf(timeMs: number, sizeMs: number): { start: number; end: number } {
  const start = Math.floor(timeMs / sizeMs) * sizeMs;
  return { start, end: start + sizeMs };
}
