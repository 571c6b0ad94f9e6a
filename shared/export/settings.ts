import { z } from 'zod';
import { amount, type GroupValues, setting, settingsGroup } from '../core/settings.js';

/** The flush function's timeout (functions/catalog.ts deploys it): a flush run never holds its lease longer. */
export const FLUSH_TIMEOUT_S = 300;

/**
 * The warehouse, the flush that exports to it, and how long Firestore keeps what it exported. For
 * bigquery, `write` is how the flush writes (storage_write: Storage Write API CDC upserts, exact in the
 * table; insert_all: legacy streaming inserts, kept one release) and `writeEndpoint` (host:port) points the
 * Write API client at a plaintext local stand-in (tests, `npm run stack`), null in Google Cloud.
 */
export const exportSettings = settingsGroup(
  'shared/export/settings.ts',
  {
    warehouse: setting('SPEEDCAM_WAREHOUSE', z.enum(['duckdb', 'bigquery']).default('bigquery'), 'warehouse adapter', {
      local: '`duckdb`',
    }),
    duckdbPath: setting('SPEEDCAM_DUCKDB_PATH', z.string().min(1).default('.speedcam/warehouse.duckdb'), 'the DuckDB file, with `duckdb`', {
      local: '`<data-dir>/warehouse.duckdb`',
    }),
    dataset: setting(
      'SPEEDCAM_DATASET',
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/)
        .default('speedcam'),
      'the BigQuery dataset',
    ),
    write: setting(
      'SPEEDCAM_BIGQUERY_WRITE',
      z.enum(['storage_write', 'insert_all']).default('storage_write'),
      '`storage_write` (Storage Write API CDC upserts) or `insert_all` (legacy, one release); see bigquery.md',
    ),
    writeEndpoint: setting(
      'SPEEDCAM_BIGQUERY_WRITE_ENDPOINT',
      z
        .string()
        .regex(/^(127\.0\.0\.1|localhost):\d{1,5}$/, 'a loopback host:port (the local Write API stand-in)')
        .optional(),
      'loopback `host:port` of the local Write API stand-in',
      { default: "none (Google's)", local: "the stand-in's, with `--warehouse bigquery-local`" },
    ),
    exportGraceMs: amount(
      'SPEEDCAM_EXPORT_GRACE_S',
      { min: 0, default: 30, local: '5 (unless set)', ms: 's' },
      'how long a decision or fine notification may stay unpublished before the flush republishes it, and how far behind ' +
        'now the flush exports passages and fines',
    ),
    flushBatchLimit: amount('SPEEDCAM_FLUSH_BATCH_LIMIT', { min: 1, default: 500 }, "the flush's page size"),
    flushLeaseMs: amount(
      'SPEEDCAM_FLUSH_LEASE_S',
      { min: 1, default: 120, ms: 's' },
      "the flush's lease, renewed by a heartbeat while a run lives",
    ),
    flushPeriodMs: amount(
      'SPEEDCAM_FLUSH_PERIOD_S',
      { min: 0.1, default: 60, local: "the stack's flush tick", ms: 's' },
      "the scheduler's cadence: a flush run keeps exporting due windows until the next tick",
    ),
    retentionMs: amount('SPEEDCAM_RETENTION_DAYS', { min: 0.01, default: 7, ms: 'days' }, 'how long Firestore keeps exported state (TTL)'),
    nonOffenderRetentionMs: amount(
      'SPEEDCAM_NON_OFFENDER_RETENTION_H',
      { min: 1, default: 72, ms: 'h' },
      'hours a passage that was not fined keeps its vehicle identifier (Firestore, warehouse, captures); see data-retention.md',
    ),
  },
  ({ warehouse, duckdbPath, dataset, write, writeEndpoint, ...v }) => {
    const where:
      | { kind: 'duckdb'; path: string }
      | { kind: 'bigquery'; dataset: string; write: 'storage_write' | 'insert_all'; writeEndpoint: string | null } =
      warehouse === 'duckdb'
        ? { kind: 'duckdb', path: duckdbPath }
        : { kind: 'bigquery', dataset, write, writeEndpoint: writeEndpoint ?? null };
    return { ...v, warehouse: where };
  },
);

/** The export's configuration (the runtime passes the whole Config). */
export type ExportSettings = GroupValues<typeof exportSettings>;
