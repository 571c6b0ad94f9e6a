import type { SpeedConfig } from './settings.js';
import type { Exporter } from '../export/exporter.js';
import type { Clock } from '../core/clock.js';
import { publishDecision, type DecisionPublishing } from './decision.js';
import { exportedPassageRow } from './non-offender-retention.js';
import type { PassageDecision } from './passage.js';
import type { ExportedPassage, PassageStore } from './passage-store.js';
import type { TableDeclaration } from '../export/warehouse.js';

/** Every decided passage: day-partitioned by decision time, clustered by radar and vehicle. */
export const VEHICLE_PASSAGES: TableDeclaration = { name: 'vehicle_passages', time: 'decided_at', cluster: ['radar_id', 'vehicle_id'] };

export interface PassageExportDeps extends DecisionPublishing {
  config: SpeedConfig;
  store: PassageStore;
  clock: Clock;
}

/**
 * The flush's first step on the speed path: sweeps the observation logs a sweeper that died left behind,
 * then closes the passages whose session gap expired (no message arrives to close them) and publishes
 * their decisions.
 */
export async function closeExpiredPassages(
  deps: PassageExportDeps & { sweep?: () => Promise<void> },
): Promise<{ closed: number; more: boolean }> {
  const { config, store, logger } = deps;
  // A safety net (the instances sweep as observations arrive): its failure does not hold up the exports.
  await deps.sweep?.().catch((err: unknown) => logger.warn('flush: sweep of the observation logs failed', { error: String(err) }));
  const radarOf = (id: string) => config.radars.get(id);
  const expired = await store.findExpiredOpen(config.flushBatchLimit);
  let closed = 0;
  for (const docId of expired) {
    const ref = await store.closeIfExpired(docId, radarOf);
    if (!ref) continue;
    deps.faults.check('flush.afterClose');
    await publishDecision(deps, ref);
    closed++;
  }
  return { closed, more: expired.length >= config.flushBatchLimit };
}

/**
 * vehicle_passages, from the current passages and the archive: every decided passage once, by passage id.
 * After each page: `exported` hears of the decisions (section traffic counts them), then decisions a
 * crashed function committed but did not publish are published.
 */
export function passageExporters(
  deps: PassageExportDeps,
  exported?: (decisions: readonly PassageDecision[]) => Promise<void>,
): Exporter<ExportedPassage>[] {
  return (['passages', 'archive'] as const).map((collection) => ({
    name: `passages:${collection}`,
    table: VEHICLE_PASSAGES.name,
    // the closer has this long to publish before the flush looks for unpublished decisions
    lagMs: deps.config.exportGraceMs,
    scan: (from, to, limit) => deps.store.scanForExport(collection, from, to, limit),
    // a passage not fined exported after its retention (a flush that was down) never carries its identifier
    toRow: (p) => exportedPassageRow(p.ref.decision, deps.clock.now(), deps.config.nonOffenderRetentionMs),
    async after(page) {
      if (page.length > 0) await exported?.(page.map((p) => p.ref.decision));
      const pending = page.filter((p) => p.pendingPublish);
      for (const p of pending) await publishDecision(deps, p.ref);
      return pending.length;
    },
  }));
}
