import { randomUUID } from 'node:crypto';
import { FLUSH_TIMEOUT_S, type ExportSettings } from './settings.js';
import type { Clock } from '../core/clock.js';
import type { Faults } from '../core/faults.js';
import type { Logger } from '../core/logger.js';
import { isWindowed, type Exporter, type FlushStep, type RefusedRows, type WindowedExporter, type WriteRows } from './exporter.js';
import type { Warehouse } from './warehouse.js';

export type Watermarks = Record<string, number>;

/**
 * The flush's fence (Firestore: a lease in one control document, claimed and released in transactions
 * that re-read it), so two runs never export together; watermarks advance only under the lease.
 */
export interface FlushControl {
  /** claims the lease; null when another run holds it */
  acquire(owner: string, leaseMs: number): Promise<Watermarks | null>;
  /** saves the watermarks and releases the lease; throws if the lease was lost meanwhile */
  commit(owner: string, watermarks: Watermarks): Promise<void>;
  /** saves the watermarks reached so far and extends the lease by `leaseMs`; throws if it was lost */
  checkpoint(owner: string, watermarks: Watermarks, leaseMs: number): Promise<void>;
}

export interface FlushDeps {
  config: Pick<ExportSettings, 'flushLeaseMs' | 'flushBatchLimit'>;
  control: FlushControl;
  /** opened only when there is something to write, closed after each pass (DuckDB: one writer) */
  openWarehouse: () => Promise<Warehouse>;
  /** before the export: what fell due without a message to trigger it (passages whose gap expired), published */
  closeExpired?: () => Promise<{ closed: number; more: boolean }>;
  /** the tables, in the order they are exported */
  exporters: readonly (Exporter | WindowedExporter)[];
  /** after the exports, when no page limit stopped them: e.g. the non-offender retention (shared/speed/non-offender-retention.ts) */
  steps?: readonly FlushStep[];
  /** where rows the warehouse refused go */
  refused: RefusedRows;
  /** after each run: a state worth a structured line of its own ("review queue": depth, oldest, decisions) */
  report?: () => Promise<Record<string, unknown>>;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}

export interface FlushReport {
  skipped?: 'lease_held';
  closedByGap: number;
  republished: number;
  exported: Record<string, number>;
  /** rows the warehouse refused for good, per table: each went to dead_letters with the warehouse's reason */
  rejected: Record<string, number>;
  /** window pipelines: windows exported, rows revised by late events, late and counted-again events */
  windows: { exported: number; revised: number; late: number; duplicates: number; passes: number; earlyPanes: number };
  /** true when a page limit stopped the run: the next run continues from the watermark */
  more: boolean;
  /** what each step that ran reported */
  steps?: Record<string, Record<string, number | null>>;
}

export interface FlushOptions {
  /**
   * Keep exporting windows as they fall due until this time (the next scheduler tick), while any
   * window is open; without it the run makes one pass. A run with nothing open ends at once.
   */
  runUntilMs?: number;
  /** waits between passes (tests pass one that moves their clock) */
  sleep?: (ms: number) => Promise<void>;
}

/** Pages per exporter per run: bounded work, the watermark carries the rest to the next run. */
const MAX_PAGES = 4;
/** The flush function's timeout, as deployed: no run holds the lease longer. */
const FLUSH_TIMEOUT_MS = FLUSH_TIMEOUT_S * 1000;
/** A running flush stops this long before its timeout. */
const LEASE_SAFETY_MS = 10_000;

/**
 * When a run started by a tick at `tickMs` must be done, so that it has released the lease when the
 * next tick's run starts (a tick that found the lease held would wait for the one after).
 */
export function runUntilForTick(tickMs: number, periodMs: number): number {
  return tickMs + periodMs - Math.min(500, periodMs / 2);
}

/**
 * The scheduled flush, under a lease so that two runs never export together: closes what fell due, then
 * runs every exporter in order (each table exactly once per row, by row id), then, while windows are
 * open, passes over the windowed exporters as their windows fall due until the next tick's run.
 */
export async function runFlush(deps: FlushDeps, owner = randomUUID(), opts: FlushOptions = {}): Promise<FlushReport> {
  const { config, logger, clock } = deps;
  const started = performance.now();
  const report: FlushReport = {
    closedByGap: 0,
    republished: 0,
    exported: {},
    rejected: {},
    windows: { exported: 0, revised: 0, late: 0, duplicates: 0, passes: 0, earlyPanes: 0 },
    more: false,
  };
  const leaseFrom = clock.now();
  const marks = await deps.control.acquire(owner, config.flushLeaseMs);
  if (marks === null) return { ...report, skipped: 'lease_held' };
  // What this run has exported so far: a watermark moves only past finished pages.
  const next: Watermarks = { ...marks };
  // A live run keeps its lease: every third of it, a heartbeat (and each step, when due) saves the
  // watermarks reached so far and extends it. A slow run (a backlog, a loaded machine) neither loses its
  // lease and its work nor runs beside another; a dead one holds it for one lease at most, a hung one
  // no longer than the function's timeout. A run that finds its lease lost stops at its next step.
  let savedAt = clock.now();
  let saving = Promise.resolve();
  let leaseLost: unknown = null;
  const save = () =>
    (saving = saving.then(async () => {
      if (leaseLost !== null) return;
      try {
        await deps.control.checkpoint(owner, { ...next }, config.flushLeaseMs);
        savedAt = clock.now();
      } catch (err) {
        leaseLost = err;
      }
    }));
  const keepLease = async () => {
    if (leaseLost === null && clock.now() - savedAt >= config.flushLeaseMs / 3) await save();
    if (leaseLost !== null) throw leaseLost;
  };
  const heartbeatUntil = Date.now() + FLUSH_TIMEOUT_MS;
  const heartbeat = setInterval(() => {
    if (Date.now() < heartbeatUntil) void save();
  }, config.flushLeaseMs / 3);
  heartbeat.unref();
  let warehouse: Warehouse | null = null;
  const write: WriteRows = async (table, rows) => {
    if (rows.length === 0) return;
    warehouse ??= await deps.openWarehouse();
    const { rejected } = await warehouse.upsert(table, rows);
    report.exported[table] = (report.exported[table] ?? 0) + rows.length - rejected.length;
    if (rejected.length === 0) return;
    // A refused row must not hold back the watermark (Firestore's TTL would delete what follows it
    // unexported): it becomes a row of the refused-rows table with the warehouse's reason and the row itself.
    report.rejected[table] = (report.rejected[table] ?? 0) + rejected.length;
    const letters = rejected.map((r) => deps.refused.rowOf(table, r, clock.now()));
    for (const { log } of letters) logger.error('dead letter recorded', log);
    const again =
      table === deps.refused.table
        ? rejected
        : (
            await warehouse.upsert(
              deps.refused.table,
              letters.map((l) => l.row),
            )
          ).rejected;
    // Nowhere left to put it: the log line carries the whole row, for a person.
    for (const r of again) logger.error('warehouse rejected a dead letter', { table, row: r.row, reason: r.reason, error: r.error });
  };
  // Closed after every pass: the local warehouse (DuckDB) has one writer, and readers wait for it.
  const closeWarehouse = async () => {
    const w = warehouse as Warehouse | null;
    warehouse = null;
    if (w) await w.close();
  };
  const nextCheck = new Map<string, number>();
  const windowed = deps.exporters.filter(isWindowed);
  const passOver = async (e: WindowedExporter) => {
    const r = await e.pass(write);
    report.more ||= r.more;
    report.windows.exported += r.windows;
    report.windows.revised += r.revisions;
    report.windows.late += r.late;
    report.windows.duplicates += r.duplicates;
    report.windows.earlyPanes += r.earlyPanes ?? 0;
    nextCheck.set(e.name, r.nextCheckMs);
    await keepLease();
  };
  try {
    try {
      if (deps.closeExpired) {
        const { closed, more } = await deps.closeExpired();
        report.closedByGap += closed;
        report.more ||= more;
        await keepLease();
      }
      const now = clock.now();
      let passed = false;
      for (const e of deps.exporters) {
        if (isWindowed(e)) {
          if (!passed) report.windows.passes++;
          passed = true;
          await passOver(e);
        } else await pageThrough(e, now - e.lagMs);
      }
      // Steps run once the exports caught up (a step may rely on what they wrote, e.g. rows to pseudonymise).
      // A step that fails does not fail the exports: its watermark stays, the next run tries again.
      for (const step of report.more ? [] : (deps.steps ?? [])) {
        const key = `step:${step.name}`;
        try {
          const done = await step.run({ mark: next[key] ?? 0, warehouse: async () => (warehouse ??= await deps.openWarehouse()) });
          if (done) {
            next[key] = done.mark;
            (report.steps ??= {})[step.name] = done.report;
          }
        } catch (err) {
          logger.error('flush step failed', { step: step.name, error: String(err) });
          (report.steps ??= {})[step.name] = { failed: 1 };
        }
        await keepLease();
      }
      deps.faults.check('flush.afterWarehouse');
    } finally {
      await closeWarehouse();
    }
    if (opts.runUntilMs !== undefined) {
      // Windows fall due between scheduler ticks (a minute apart in Google Cloud): export each as it does,
      // under this run's lease, until the next tick's run takes over; stop at once when nothing can fall
      // due before then (no window open: a run costs milliseconds).
      const until = Math.min(opts.runUntilMs, leaseFrom + FLUSH_TIMEOUT_MS - LEASE_SAFETY_MS);
      const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
      // A pass is started only if twice the longest one so far still ends before `until`.
      let longestPassMs = 0;
      for (;;) {
        const wake = Math.min(...nextCheck.values());
        if (!(wake + 2 * longestPassMs < until)) break;
        await sleep(Math.max(0, wake - clock.now()));
        const now = clock.now();
        if (now + 2 * longestPassMs >= until) break;
        const passStarted = performance.now();
        try {
          report.windows.passes++;
          for (const e of windowed) if ((nextCheck.get(e.name) ?? 0) <= now) await passOver(e);
        } finally {
          await closeWarehouse();
        }
        longestPassMs = Math.max(longestPassMs, performance.now() - passStarted);
      }
    }
  } catch (err) {
    clearInterval(heartbeat);
    await saving;
    // Release the lease with what this run exported, so that the next tick (or this tick's redelivery,
    // since the error is thrown after) starts from there at once instead of after the lease's length.
    if (leaseLost === null)
      await deps.control.commit(owner, next).catch((e: unknown) => logger.warn('flush: could not release the lease', { error: String(e) }));
    throw err;
  }
  clearInterval(heartbeat);
  await saving;
  await deps.control.commit(owner, next);
  // How far behind now the oldest export watermark is: the dashboard's flush lag (a log-based metric).
  const marksMs = Object.values(next).filter((v) => typeof v === 'number' && v > 0);
  const watermark_age_s = marksMs.length ? Math.max(0, Math.round((clock.now() - Math.min(...marksMs)) / 1000)) : null;
  logger.info('flush done', { ...report, watermark_age_s, durationMs: Math.round(performance.now() - started) });
  if (deps.report) {
    // Its own line (a log-based metric each): a failure to read it never fails the run.
    await deps.report().then(
      (fields) => logger.info('review queue', fields),
      (err: unknown) => logger.warn('review queue: could not read it', { error: String(err) }),
    );
  }
  return report;

  /** Exports pages from the exporter's watermark up to `to`, moving next[e.name] page by page. */
  async function pageThrough(e: Exporter, to: number): Promise<void> {
    let wm = next[e.name] ?? 0;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await e.scan(wm, to, config.flushBatchLimit);
      await write(
        e.table,
        page.map((item) => e.toRow(item)),
      );
      if (e.after) report.republished += await e.after(page);
      const full = page.length >= config.flushBatchLimit;
      // Full page: continue from its last commit time (>=: rows sharing it are re-exported, harmlessly).
      const last = page[page.length - 1]?.exportAtMs ?? wm;
      wm = full ? (last > wm ? last : wm + 1) : Math.max(wm, to);
      next[e.name] = wm;
      await keepLease();
      if (!full) return;
    }
    report.more = true;
  }
}
