import { randomUUID } from 'node:crypto';
import type { FirestoreDeadLetterStore, FirestoreFlushControl, Watermarks } from './adapters/firestore-flush-control.js';
import type { Config } from './config.js';
import type { DeadLetter } from './dead-letter.js';
import { passageRow } from './decision-output.js';
import { fineRow, notifyFine, type FineStore } from './fine.js';
import type { Logger } from './logger.js';
import type { PassageStore } from './passage-store.js';
import type { Clock, Faults, Publisher, Row, Warehouse } from './ports.js';
import { publishDecision } from './speed-check.js';
import type { FirestoreWindowStore } from './adapters/firestore-window-store.js';
import type { PassageDecision } from './passage.js';
import { flushWindows } from './windows/window-engine.js';
import { sectionTrafficPipeline, windowPipelines, type WindowEvent } from './windows/pipelines.js';
import type { FirestoreUserStore } from './windows/users.js';

export interface FlushDeps {
  config: Config;
  store: PassageStore;
  deadLetters: Pick<FirestoreDeadLetterStore, 'scanForExport'>;
  fines: Pick<FineStore, 'scanForExport' | 'markNotified'>;
  windows: Pick<FirestoreWindowStore, 'append' | 'nextClosedWindow' | 'readWindow' | 'getState' | 'markExported' | 'deleteBatches'>;
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
  /** true when a page limit stopped the run: the next run continues from the watermark */
  more: boolean;
}

/** Pages per source per run: bounded work, the watermark carries the rest to the next run. */
const MAX_PAGES = 4;
/** Commit-time lag for dead letters, which have no publish to wait for (clock skew margin). */
const DEAD_LETTER_LAG_MS = 2_000;

/**
 * The scheduled flush: closes passages whose gap expired, republishes decisions and fine notifications
 * that a crashed function did not publish, and exports passages, fines and dead letters to the warehouse, exactly once per row
 * (row ids), under a lease so that two runs never export concurrently.
 */
export async function runFlush(deps: FlushDeps, owner = randomUUID()): Promise<FlushReport> {
  const { config, store, logger, clock } = deps;
  const report: FlushReport = { closedByGap: 0, republished: 0, exported: {}, more: false };
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
    await warehouse.upsert(table, rows);
    report.exported[table] = (report.exported[table] ?? 0) + rows.length;
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
    for (const pipeline of windowPipelines(config)) {
      const r = await flushWindows(deps, pipeline, write);
      report.more ||= r.more;
    }
    next['dead_letters'] = await pageThrough(next['dead_letters'] ?? 0, now - DEAD_LETTER_LAG_MS, async (from, to) => {
      const page = await deps.deadLetters.scanForExport(from, to, config.flushBatchLimit);
      await write('dead_letters', page.map((p) => deadLetterRow(p.dl)));
      return page.map((p) => p.exportAtMs);
    }, report);
    deps.faults.check('flush.afterWarehouse');
  } finally {
    if (warehouse) await (warehouse as Warehouse).close();
  }
  await deps.control.commit(owner, next);
  logger.info('flush done', { ...report });
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
