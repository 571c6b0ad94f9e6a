import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/config.js';
import { loadSchemas, type SchemaField } from '../shared/export/schemas.js';
import { DuckDbWarehouse } from '../shared/platform/duckdb-warehouse.js';
import { passageRow } from '../shared/speed/decision.js';
import { NON_OFFENDER_PASSAGES } from '../shared/speed/non-offender-retention.js';
import type { PassageDecision } from '../shared/speed/passage.js';
import { describeTolerance } from '../shared/speed/tolerance.js';

/**
 * What the non-offender retention's hourly UPDATE of vehicle_passages costs (docs/data-retention.md).
 *
 * BigQuery (computed, no project here): on-demand DML on a partitioned table bills q' + t', q' the referenced
 * columns of the partitions scanned, t' every column of the partitions updated. Row sizes follow BigQuery's
 * logical sizes (STRING 2 + UTF-8 bytes, FLOAT/INTEGER/TIMESTAMP 8, BOOLEAN 1, REPEATED the sum, NULL 0) for rows
 * made by the exporter's own passageRow; an hourly run scans and updates one day partition (two when its hour
 * straddles midnight: 1/24 of runs). $6.25 per TiB; BigQuery bills at least 10 MB per table a query references.
 *
 * DuckDB (measured): the same UPDATE on a local file holding `--days` days of `--per-day` passages.
 */
const { values } = parseArgs({
  options: {
    'per-day': { type: 'string', default: '100000' },
    'fined-pct': { type: 'string', default: '5' },
    days: { type: 'string', default: '4' },
  },
});
const perDay = Number(values['per-day']);
const finedShare = Number(values['fined-pct']) / 100;
const days = Number(values.days);

const radar = loadConfig({}).radars.values().next().value!;
const captures = 'my-project-speedcam-captures';
const day0 = Date.parse('2026-12-01T00:00:00Z');
let seed = 7;
const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const plate = () => Array.from({ length: 7 }, () => 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789'[Math.floor(random() * 33)]).join('');

function decisionAt(ms: number): PassageDecision {
  const v = plate();
  const fined = random() < finedShare;
  return {
    passageId: `${radar.id}~${v}~${ms - 40_000}`,
    radarId: radar.id,
    vehicleId: v,
    avgSpeedKmh: fined ? 55 + random() * 20 : 25 + random() * 14,
    method: 'entry_exit',
    speedLimitKmh: radar.speedLimitKmh,
    toleranceKmh: 0,
    thresholdKmh: radar.speedLimitKmh,
    tolerance: describeTolerance(radar.tolerance),
    isTicketed: fined,
    reviewReason: null,
    observations: 2,
    firstSeenMs: ms - 40_000,
    lastSeenMs: ms - 1000,
    lastPublishMs: ms - 900,
    coordinates: radar.exit,
    closeReason: 'exit',
    decidedAtMs: ms,
    plate: v,
    imageUri: `gs://${captures}/${radar.id}/${v}/${ms - 1000}.jpg`,
  };
}

/** BigQuery's logical size of a value of this column. */
function logicalBytes(f: SchemaField, v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (f.mode === 'REPEATED') return (v as unknown[]).reduce<number>((n, x) => n + logicalBytes({ ...f, mode: 'NULLABLE' }, x), 0);
  switch (f.type) {
    case 'STRING':
    case 'JSON':
      return 2 + Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v));
    case 'BOOLEAN':
      return 1;
    default:
      return 8;
  }
}

const fields = loadSchemas().get('vehicle_passages')!;
const sample = Array.from({ length: 10_000 }, (_, i) => passageRow(decisionAt(day0 + i * 1000)));
const avg = (cols: readonly SchemaField[]) =>
  sample.reduce((n, r) => n + cols.reduce((m, f) => m + logicalBytes(f, r[f.name]), 0), 0) / sample.length;
const spec = NON_OFFENDER_PASSAGES;
const referenced = new Set([...spec.pseudonymise, ...spec.clear, spec.keepIf, spec.time]);
const rowBytes = avg(fields);
const referencedBytes = avg(fields.filter((f) => referenced.has(f.name)));
const partitionBytes = rowBytes * perDay;
const partitionsPerRun = 1 + 1 / 24;
const MIN_BILLED = 10 * 1024 * 1024;
const runBytes = Math.max(MIN_BILLED, partitionsPerRun * (referencedBytes * perDay + partitionBytes));
const TiB = 1024 ** 4;
const dollars = (bytes: number) => (bytes / TiB) * 6.25;

// DuckDB: `days` days of rows, then the UPDATE over one hour of them (an hourly run), and over all (the first run).
const dir = mkdtempSync(join(tmpdir(), 'speedcam-retention-'));
const duck: Record<string, number> = {};
try {
  const wh = await DuckDbWarehouse.open(join(dir, 'wh.duckdb'));
  const total = perDay * days;
  // Loaded in bulk by SQL (the flush's row-by-row upsert would take minutes): rows of the exporter's shape.
  const v = `substr(md5(i::VARCHAR), 1, 7)`;
  const at = `make_timestamp((${day0}::BIGINT + (i * ${86_400_000 / perDay})::BIGINT) * 1000)`;
  await wh.query(`INSERT INTO speedcam.vehicle_passages (row_id, passage_id, radar_id, vehicle_id, avg_speed, speed_limit, speed_tolerance,
    is_Ticketed, review_reason, method, close_reason, observations, first_seen, last_seen, last_published, decided_at, coordinates,
    license_plate, image_uri, speed_threshold, tolerance)
    SELECT '${radar.id}~' || ${v} || '~' || i, '${radar.id}~' || ${v} || '~' || i, '${radar.id}', ${v}, 30.0, 40.0, 0.0,
      (i % 100) < ${Math.round(finedShare * 100)}, NULL, 'entry_exit', 'exit', 2, ${at}, ${at}, ${at}, ${at}, [40.76, -73.97],
      ${v}, 'gs://${captures}/${radar.id}/' || ${v} || '/' || i || '.jpg', 40.0, '${describeTolerance(radar.tolerance)}'
    FROM range(${total}) t(i)`);
  let t = performance.now();
  const hour = await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: day0 + 86_400_000, toMs: day0 + 86_400_000 + 3_600_000 }, 'k1');
  duck['hourly_run_rows'] = hour.rows;
  duck['hourly_run_ms'] = Math.round(performance.now() - t);
  t = performance.now();
  const again = await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: day0 + 86_400_000, toMs: day0 + 86_400_000 + 3_600_000 }, 'k2');
  duck['same_hour_again_rows'] = again.rows;
  duck['same_hour_again_ms'] = Math.round(performance.now() - t);
  t = performance.now();
  const all = await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: 0, toMs: day0 + days * 86_400_000 }, 'k3');
  duck['first_run_all_rows'] = all.rows;
  duck['first_run_all_ms'] = Math.round(performance.now() - t);
  await wh.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const mb = (b: number) => Math.round((b / 1e6) * 10) / 10;
console.log(
  JSON.stringify(
    {
      passages_per_day: perDay,
      fined_pct: finedShare * 100,
      bigquery_computed: {
        row_logical_bytes: Math.round(rowBytes),
        referenced_column_bytes_per_row: Math.round(referencedBytes),
        day_partition_mb: mb(partitionBytes),
        rows_touched_per_hourly_run: Math.round((perDay / 24) * (1 - finedShare)),
        billed_mb_per_hourly_run: mb(runBytes),
        usd_per_run: Number(dollars(runBytes).toFixed(5)),
        usd_per_day: Number(dollars(24 * runBytes).toFixed(4)),
        usd_per_30_days: Number(dollars(30 * 24 * runBytes).toFixed(2)),
      },
      duckdb_measured: { rows_loaded: perDay * days, ...duck },
    },
    null,
    2,
  ),
);
