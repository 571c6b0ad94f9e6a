import type { RejectedRow, Row, Warehouse } from './warehouse.js';

/**
 * A table the flush fills from a store by commit-time watermark: each run exports what was committed
 * between the table's watermark and now − lag, a page at a time, then moves the watermark. Re-exporting
 * is harmless: rows carry their row_id.
 */
export interface Exporter<T = unknown> {
  /** the key of this exporter's watermark in the flush's control document */
  name: string;
  table: string;
  /** what committed less than this long ago waits for a later run (its publisher may still be at work) */
  lagMs: number;
  /** items committed in [fromMs, toMs), oldest first, at most `limit` */
  scan(fromMs: number, toMs: number, limit: number): Promise<readonly (T & { exportAtMs: number })[]>;
  toRow(item: T): Row;
  /** after a page is in the warehouse: finishes what a crashed function left undone; returns how many it republished */
  after?(page: readonly T[]): Promise<number>;
}

/** What the windowed kind of exporter reports from one pass. */
export interface WindowedPass {
  /** windows exported, rows revised by late events */
  windows: number;
  revisions: number;
  /** events of exported windows found again (counted already) or dead-lettered as late */
  duplicates: number;
  late: number;
  /** a limit stopped the pass with due windows left */
  more: boolean;
  /** when to look again: a running flush sleeps until the earliest */
  nextCheckMs: number;
  /** early panes written (open windows' rows, is_final = false) */
  earlyPanes?: number;
}

export type WriteRows = (table: string, rows: Row[]) => Promise<void>;

/**
 * A table exported window by window as each window falls due (a window pipeline), on its own cadence: a
 * flush run passes over it, then again whenever it said to look again, until the next scheduled run.
 */
export interface WindowedExporter {
  name: string;
  pass(write: WriteRows): Promise<WindowedPass>;
}

export function isWindowed(e: Exporter | WindowedExporter): e is WindowedExporter {
  return 'pass' in e;
}

/**
 * Where rows the warehouse refused for good go (the dead letters' table): a row of its own for each, so
 * that a refused row never holds the watermark back, and the fields to log it with.
 */
export interface RefusedRows {
  table: string;
  rowOf(table: string, refused: RejectedRow, nowMs: number): { row: Row; log: Record<string, unknown> };
}

/** Commit-time lag for what has no publish to wait for: a margin for clock skew. */
export const CLOCK_SKEW_LAG_MS = 2_000;

/**
 * Work the flush does after its exports, under its lease, when they are caught up: with a watermark of its own
 * (`mark`, 0 the first time), saved with the exporters' ones. Returns null when it had nothing to do.
 */
export interface FlushStep {
  name: string;
  run(ctx: { mark: number; warehouse: () => Promise<Warehouse> }): Promise<{ mark: number; report: Record<string, number | null> } | null>;
}
