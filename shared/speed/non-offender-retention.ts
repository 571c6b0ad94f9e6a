import { randomBytes } from 'node:crypto';
import type { ExportSettings } from '../export/settings.js';
import type { Clock } from '../core/clock.js';
import { sha256 } from '../core/hashing.js';
import type { Logger } from '../core/logger.js';
import type { FlushStep } from '../export/exporter.js';
import type { PseudonymisationSpec, Row } from '../export/warehouse.js';
import { passageRow } from './decision.js';
import type { PassageDecision } from './passage.js';
import type { PassageStore } from './passage-store.js';

/**
 * Data minimisation for vehicles that were not fined (docs/data-retention.md): after
 * SPEEDCAM_NON_OFFENDER_RETENTION_H their passage keeps no vehicle identifier anywhere speedcam writes.
 * - Firestore: the passage documents expire at decision + retention (TTL), readers treat an expired document as
 *   gone, and this step deletes what TTL (up to a day late) has not yet;
 * - the warehouse: this step replaces row_id, passage_id and vehicle_id of `vehicle_passages` rows not fined and
 *   decided before now − retention by a keyed hash with a key that lives in memory for one run only, and clears
 *   the plate and the photo's address. A row exported that late (a flush that was down) is exported so already.
 */
export const NON_OFFENDER_PASSAGES: PseudonymisationSpec = {
  table: 'vehicle_passages', // VEHICLE_PASSAGES (passage-export.ts imports this module)
  time: 'decided_at',
  keepIf: 'is_Ticketed',
  pseudonymise: ['row_id', 'passage_id', 'vehicle_id'],
  clear: ['license_plate', 'image_uri'],
  prefix: 'anon-',
};

/** The warehouse UPDATE runs at most once per hour: a non-fined row keeps its identifier at most retention + 1 h. */
export const PSEUDONYMISE_EVERY_MS = 3_600_000;
/**
 * A row whose retention ends within this margin is exported pseudonymised already: BigQuery cannot UPDATE rows
 * streamed in the last 30 minutes, and the rows the UPDATE selects were then all streamed over two hours before.
 */
export const EXPORT_MARGIN_MS = 2 * 3_600_000;

const randomKey = () => randomBytes(32).toString('hex');
/** This process's key for rows pseudonymised at export: never stored, so the pseudonym cannot be recomputed from a plate. */
const processKey = randomKey();

/** The pseudonym the warehouse adapters compute in SQL: prefix + the first 32 hex digits of SHA-256(key || row_id). */
export function pseudonymOf(rowId: string, key: string, prefix = NON_OFFENDER_PASSAGES.prefix): string {
  return prefix + sha256(key + rowId).slice(0, 32);
}

/** A `vehicle_passages` row as exported at `nowMs`: pseudonymised if it is not fined and (nearly) past its retention. */
export function exportedPassageRow(d: PassageDecision, nowMs: number, retentionMs: number, key = processKey): Row {
  const row = passageRow(d);
  if (d.isTicketed || d.decidedAtMs + retentionMs - EXPORT_MARGIN_MS > nowMs) return row;
  const token = pseudonymOf(row.row_id, key);
  const out: Row = { ...row };
  for (const c of NON_OFFENDER_PASSAGES.pseudonymise) out[c] = token;
  for (const c of NON_OFFENDER_PASSAGES.clear) out[c] = null;
  return out;
}

export interface RetentionDeps {
  config: Pick<ExportSettings, 'nonOffenderRetentionMs' | 'flushBatchLimit'>;
  store: Pick<PassageStore, 'deleteExpired'>;
  clock: Clock;
  logger: Logger;
}

/** Firestore documents are looked at this long after their retention ends (the closer's clock vs the commit time). */
export const FIRESTORE_MARGIN_MS = 60_000;

/**
 * The flush's two steps, each with its own watermark:
 * - `non_offender_firestore`, every run: reads the passage documents committed before now − retention (by
 *   exportAt, indexed; one read per passage, once) and deletes those expired (not fined): what TTL would delete
 *   up to a day later. Fined passages are read and kept (their TTL is the general retention).
 * - `non_offender_warehouse`, once an hour: pseudonymises the warehouse rows whose retention ended since the
 *   last time (the first run: everything before). Idempotent: the UPDATE skips rows that carry the prefix, and
 *   the watermark moves only after it succeeded.
 */
export function nonOffenderRetentionSteps(deps: RetentionDeps, newKey = randomKey): FlushStep[] {
  const { config, store, clock, logger } = deps;
  const firestore: FlushStep = {
    name: 'non_offender_firestore',
    async run({ mark }) {
      const to = clock.now() - config.nonOffenderRetentionMs - FIRESTORE_MARGIN_MS;
      if (to <= mark) return null;
      const r = await store.deleteExpired(mark, to, config.flushBatchLimit);
      return { mark: r.next, report: { firestore_scanned: r.scanned, firestore_deleted: r.deleted } };
    },
  };
  const warehouse: FlushStep = {
    name: 'non_offender_warehouse',
    async run({ mark, warehouse }): Promise<{ mark: number; report: Record<string, number | null> } | null> {
      const cutoff = clock.now() - config.nonOffenderRetentionMs;
      if (mark > 0 && cutoff - mark < PSEUDONYMISE_EVERY_MS) return null;
      const wh = await warehouse();
      if (!wh.pseudonymise) {
        // Both adapters can; a wrapper that cannot must not stop the flush: the watermark stays, a person is told.
        logger.error('non-offender retention: this warehouse cannot pseudonymise rows; vehicle_passages keeps identifiers');
        return { mark, report: { rows_pseudonymised: null } };
      }
      const started = performance.now();
      const r = await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: mark, toMs: cutoff }, newKey());
      const report = { rows_pseudonymised: r.rows, bytes_billed: r.bytesBilled, ms: Math.round(performance.now() - started) };
      logger.info('non-offender retention', { ...report, from: new Date(mark).toISOString(), to: new Date(cutoff).toISOString() });
      return { mark: cutoff, report };
    },
  };
  return [firestore, warehouse];
}
