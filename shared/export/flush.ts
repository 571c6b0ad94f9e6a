import { randomUUID } from 'node:crypto';
import type { FirestoreDeadLetterStore } from '../platform/firestore/dead-letter-store.js';
import type { FirestoreFlushControl, Watermarks } from '../platform/firestore/flush-control.js';
import type { Config } from '../config.js';
import { sha256 } from '../core/hashing.js';
import type { DeadLetter } from '../dead-letters/dead-letter.js';
import { passageRow } from '../speed/decision.js';
import { fineRow, notifyFine, type FineStore } from '../fines/fine.js';
import type { Logger } from '../core/logger.js';
import type { PassageStore } from '../speed/passage-store.js';
import type { Clock } from '../core/clock.js';
import type { Faults } from '../core/faults.js';
import type { Publisher } from '../core/publisher.js';
import type { RejectedRow, Row, Warehouse } from './warehouse.js';
import { publishDecision } from '../speed/decision.js';
import type { FirestoreWindowStore } from '../platform/firestore/window-store.js';
import type { PassageDecision } from '../speed/passage.js';
import { flushWindows } from '../windows/window-engine.js';
import { sectionTrafficPipeline, windowPipelines, type WindowEvent } from '../windows/pipelines.js';
import type { FirestoreUserStore } from '../platform/firestore/user-store.js';

export interface FlushDeps {
  config: Config;
  store: PassageStore;
  deadLetters: Pick<FirestoreDeadLetterStore, 'scanForExport'>;
  fines: Pick<FineStore, 'scanForExport' | 'markNotified'>;
  windows: Pick<FirestoreWindowStore, 'append' | 'probe' | 'batchesEndingBy' | 'readWindow' | 'getState' | 'getShards' | 'saveState' | 'deleteBatches'>;
  users: Pick<FirestoreUserStore, 'scanForExport'>;
  control: Pick<FirestoreFlushControl, 'acquire' | 'commit'>;
  publisher: Publisher;
  /** opened only when there is something to write, closed after the run (DuckDB: one writer) */
  openWarehouse: () => Promise<Warehouse>;
  logger: Logger;
  clock: Clock;
  faults: Faults;
  /** sweeps the speed path's observation logs a sweeper that died left behind (speed-check.ts) */
  sweepPassages?: () => Promise<void>;
}

export interface FlushReport {
  skipped?: 'lease_held';
  closedByGap: number;
  republished: number;
  exported: Record<string, number>;
  /** rows the warehouse refused for good, per table: each went to dead_letters with the warehouse's reason */
  rejected: Record<string, number>;
  /** window pipelines: windows exported, rows revised by late events, late and counted-again events */
  windows: { exported: number; revised: number; late: number; duplicates: number; passes: number };
  /** true when a page limit stopped the run: the next run continues from the watermark */
  more: boolean;
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

/** Pages per source per run: bounded work, the watermark carries the rest to the next run. */
const MAX_PAGES = 4;
/** Commit-time lag for dead letters, which have no publish to wait for (clock skew margin). */
const DEAD_LETTER_LAG_MS = 2_000;
/** A running flush stops this long before its lease would expire. */
const LEASE_SAFETY_MS = 10_000;

/**
 * When a run started by a tick at `tickMs` must be done, so that it has released the lease when the
 * next tick's run starts (a tick that found the lease held would wait for the one after).
 */
export function runUntilForTick(tickMs: number, periodMs: number): number {
  return tickMs + periodMs - Math.min(500, periodMs / 2);
}

/**
 * The scheduled flush: closes passages whose gap expired, republishes decisions and fine notifications
 * that a crashed function did not publish, and exports passages, fines and dead letters to the warehouse, exactly once per row
 * (row ids), under a lease so that two runs never export concurrently.
 */
export async function runFlush(deps: FlushDeps, owner = randomUUID(), opts: FlushOptions = {}): Promise<FlushReport> {
  const { config, store, logger, clock } = deps;
  const started = performance.now();
  const report: FlushReport = { closedByGap: 0, republished: 0, exported: {}, rejected: {}, windows: { exported: 0, revised: 0, late: 0, duplicates: 0, passes: 0 }, more: false };
  const leaseFrom = clock.now();
  const marks = await deps.control.acquire(owner, config.flushLeaseMs);
  if (marks === null) return { ...report, skipped: 'lease_held' };
  const radarOf = (id: string) => config.radars.get(id);

  // A safety net (the instances sweep as observations arrive): its failure does not hold up the exports.
  await deps.sweepPassages?.().catch((err: unknown) => logger.warn('flush: sweep of the observation logs failed', { error: String(err) }));
  const expired = await store.findExpiredOpen(config.flushBatchLimit);
  for (const docId of expired) {
    const ref = await store.closeIfExpired(docId, radarOf);
    if (!ref) continue;
    deps.faults.check('flush.afterClose');
    await publishDecision(deps, ref);
    report.closedByGap++;
  }
  report.more ||= expired.length >= config.flushBatchLimit;

  let warehouse: Warehouse | null = null;
  const write = async (table: string, rows: Row[]) => {
    if (rows.length === 0) return;
    warehouse ??= await deps.openWarehouse();
    const { rejected } = await warehouse.upsert(table, rows);
    report.exported[table] = (report.exported[table] ?? 0) + rows.length - rejected.length;
    if (rejected.length === 0) return;
    // A refused row must not hold back the watermark (Firestore's TTL would delete what follows it
    // unexported): it becomes a dead letter with the warehouse's reason and the row itself.
    report.rejected[table] = (report.rejected[table] ?? 0) + rejected.length;
    const letters = rejected.map((r) => rejectedRowLetter(table, r, clock.now()));
    for (const dl of letters) logger.error('dead letter recorded', { dead_letter_id: dl.dead_letter_id, source: dl.source, reason: dl.reason, error: dl.error });
    const again = table === 'dead_letters' ? rejected : (await warehouse.upsert('dead_letters', letters.map(deadLetterRow))).rejected;
    // Nowhere left to put it: the log line carries the whole row, for a person.
    for (const r of again) logger.error('warehouse rejected a dead letter', { table, row: r.row, reason: r.reason, error: r.error });
  };
  // Closed after every pass: the local warehouse (DuckDB) has one writer, and readers wait for it.
  const closeWarehouse = async () => {
    const w = warehouse as Warehouse | null;
    warehouse = null;
    if (w) await w.close();
  };
  const pipelines = windowPipelines(config);
  const nextCheck = new Map<string, number>();
  const windowPass = async (due: (name: string) => boolean) => {
    report.windows.passes++;
    for (const pipeline of pipelines.filter((p) => due(p.name))) {
      const r = await flushWindows(deps, pipeline, write);
      report.more ||= r.more;
      report.windows.exported += r.windows;
      report.windows.revised += r.revisions;
      report.windows.late += r.late;
      report.windows.duplicates += r.duplicates;
      nextCheck.set(pipeline.name, r.nextCheckMs);
    }
  };
  const next: Watermarks = { ...marks };
  try {
    const now = clock.now();
    // Passages: wait exportGrace so the closer has published before we look for unpublished ones.
    for (const collection of ['passages', 'archive'] as const) {
      const key = `passages:${collection}`;
      next[key] = await pageThrough(next[key] ?? 0, now - config.exportGraceMs, async (from, to) => {
        const page = await store.scanForExport(collection, from, to, config.flushBatchLimit);
        await write('vehicle_passages', page.map((p) => passageRow(p.ref.decision)));
        await feedSectionTraffic(deps, page.map((p) => p.ref.decision));
        for (const p of page.filter((x) => x.pendingPublish)) {
          await publishDecision(deps, p.ref);
          report.republished++;
        }
        return page.map((p) => p.exportAtMs);
      }, report);
    }
    next['fines'] = await pageThrough(next['fines'] ?? 0, now - config.exportGraceMs, async (from, to) => {
      const page = await deps.fines.scanForExport(from, to, config.flushBatchLimit);
      await write('fined_vehicles', page.map((p) => fineRow(p.record)));
      for (const p of page.filter((x) => x.pendingNotify)) {
        await notifyFine(deps, p.record);
        report.republished++;
      }
      return page.map((p) => p.exportAtMs);
    }, report);
    next['users'] = await pageThrough(next['users'] ?? 0, now - DEAD_LETTER_LAG_MS, async (from, to) => {
      const page = await deps.users.scanForExport(from, to, config.flushBatchLimit);
      await write('users', page.map((p) => p.row));
      return page.map((p) => p.exportAtMs);
    }, report);
    await windowPass(() => true);
    next['dead_letters'] = await pageThrough(next['dead_letters'] ?? 0, now - DEAD_LETTER_LAG_MS, async (from, to) => {
      const page = await deps.deadLetters.scanForExport(from, to, config.flushBatchLimit);
      await write('dead_letters', page.map((p) => deadLetterRow(p.dl)));
      return page.map((p) => p.exportAtMs);
    }, report);
    deps.faults.check('flush.afterWarehouse');
  } finally {
    await closeWarehouse();
  }
  if (opts.runUntilMs !== undefined) {
    // Windows fall due between scheduler ticks (a minute apart in Google Cloud): export each as it does,
    // under this run's lease, until the next tick's run takes over; stop at once when nothing can fall
    // due before then (no window open: a run costs milliseconds).
    const until = Math.min(opts.runUntilMs, leaseFrom + config.flushLeaseMs - LEASE_SAFETY_MS);
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    // A pass is started only if twice the longest one so far still ends before `until`.
    let longestPassMs = 0;
    try {
      for (;;) {
        const wake = Math.min(...nextCheck.values());
        if (!(wake + 2 * longestPassMs < until)) break;
        await sleep(Math.max(0, wake - clock.now()));
        const now = clock.now();
        if (now + 2 * longestPassMs >= until) break;
        const passStarted = performance.now();
        try {
          await windowPass((name) => (nextCheck.get(name) ?? 0) <= now);
        } finally {
          await closeWarehouse();
        }
        longestPassMs = Math.max(longestPassMs, performance.now() - passStarted);
      }
    } catch (err) {
      // Release the lease with what the first pass exported, so that the next tick (or this tick's
      // redelivery, since the error is thrown after) is not kept out for the lease's length.
      await deps.control.commit(owner, next);
      throw err;
    }
  }
  await deps.control.commit(owner, next);
  // How far behind now the oldest export watermark is: the dashboard's flush lag (a log-based metric).
  const marksMs = Object.values(next).filter((v) => typeof v === 'number' && v > 0);
  const watermark_age_s = marksMs.length ? Math.max(0, Math.round((clock.now() - Math.min(...marksMs)) / 1000)) : null;
  logger.info('flush done', { ...report, watermark_age_s, durationMs: Math.round(performance.now() - started) });
  return report;

  async function pageThrough(
    from: number,
    to: number,
    page: (from: number, to: number) => Promise<number[]>,
    r: FlushReport,
  ): Promise<number> {
    let wm = from;
    for (let i = 0; i < MAX_PAGES; i++) {
      const stamps = await page(wm, to);
      if (stamps.length < config.flushBatchLimit) return Math.max(wm, to);
      // Full page: continue from its last commit time (>=: rows sharing it are re-exported, harmlessly).
      const last = stamps[stamps.length - 1]!;
      wm = last > wm ? last : wm + 1;
    }
    r.more = true;
    return wm;
  }
}

/** The dead letter of a row the warehouse refused: same id for the same row, so a re-export collapses onto it. */
export function rejectedRowLetter(table: string, r: RejectedRow, nowMs: number): DeadLetter {
  return {
    dead_letter_id: sha256(`warehouse:${table}\n${r.row.row_id}`).slice(0, 32),
    timestamp: new Date(nowMs).toISOString(),
    source: `warehouse:${table}`,
    reason: 'warehouse_rejected',
    error: `${r.reason}: ${r.error}`.slice(0, 2000),
    payload: JSON.stringify(r.row),
    payload_encoding: 'utf8',
    attributes: { table, row_id: r.row.row_id },
    message_id: '',
    publish_time: new Date(nowMs).toISOString(),
  };
}

export function deadLetterRow(dl: DeadLetter): Row {
  return {
    row_id: dl.dead_letter_id,
    timestamp: dl.timestamp,
    source: dl.source,
    reason: dl.reason,
    error: dl.error,
    payload: dl.payload,
    payload_encoding: dl.payload_encoding,
    attributes: dl.attributes,
    message_id: dl.message_id,
    publish_time: dl.publish_time,
  };
}

/**
 * Completed passages feed section_traffic_minute: each becomes an event (id = passage_id, so a passage
 * exported twice counts once) keyed by radar at the time of its last observation.
 */
async function feedSectionTraffic(deps: FlushDeps, decisions: readonly PassageDecision[]): Promise<void> {
  if (decisions.length === 0) return;
  const pipeline = sectionTrafficPipeline(deps.config);
  const events: WindowEvent[] = decisions.map((d) => ({
    id: d.passageId,
    key: d.radarId,
    timeMs: d.lastSeenMs,
    values: { fined: d.isTicketed ? 1 : 0, ...(d.avgSpeedKmh !== null ? { speed: d.avgSpeedKmh } : {}) },
  }));
  await deps.windows.append(pipeline.name, pipeline.window.sizeMs, events);
}
