import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployResources, latestViewQuery } from '../../../cli/deploy.js';

/**
 * The `<table>_latest` view (resources.json), run on DuckDB with BigQuery's `* EXCEPT` spelled `* EXCLUDE`.
 * DuckDB's optimiser follows the rule BigQuery documents for views with window functions: a filter moves
 * below the window only when it is on the window's PARTITION BY columns. Whether BigQuery then prunes
 * partitions can only be read from a dry run on a real table; this shows the view allows it and is
 * still exact.
 */
const r = deployResources();
let conn: DuckDBConnection;
let db: DuckDBInstance;
const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
const plan = async (sql: string) => (await conn.runAndReadAll(`EXPLAIN ${sql}`)).getRows().map((x) => String(x[1])).join('\n');
/** BigQuery SQL → DuckDB: `* EXCEPT(…)` is `* EXCLUDE(…)`, and identifiers quote with " not `. */
const duck = (sql: string) => sql.replace('EXCEPT(_n)', 'EXCLUDE(_n)').replace(/`/g, '"');
const view = (partitionBy: string) => duck(latestViewQuery({ ...r, latest_view: { query: r.latest_view.query.replace('{partition_by}', partitionBy) } }, 'vehicle_passages', 'vehicle_passages'));

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  await conn.run('CREATE TABLE vehicle_passages (row_id VARCHAR, decided_at TIMESTAMP, avg_speed DOUBLE)');
  // A re-exported row lands twice, identical; other rows once, over three days.
  await conn.run(`INSERT INTO vehicle_passages VALUES
    ('p1', '2026-11-20 10:00:00', 41.5), ('p1', '2026-11-20 10:00:00', 41.5),
    ('p2', '2026-11-21 09:00:00', 38.0), ('p3', '2026-11-21 23:59:59', 55.1), ('p3', '2026-11-21 23:59:59', 55.1),
    ('p4', '2026-11-22 00:00:00', 30.2)`);
});
afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

describe('the _latest view', () => {
  const oneDay = (v: string) => `SELECT row_id FROM (${v}) WHERE decided_at >= TIMESTAMP '2026-11-21' AND decided_at < TIMESTAMP '2026-11-22' ORDER BY row_id`;

  it('keeps one row per row_id, the same rows as partitioning by row_id alone', async () => {
    expect(await rows(`SELECT row_id FROM (${duck(latestViewQuery(r, 'vehicle_passages', 'vehicle_passages'))}) ORDER BY row_id`)).toEqual(['p1', 'p2', 'p3', 'p4'].map((row_id) => ({ row_id })));
    expect(await rows(oneDay(view('row_id, decided_at')))).toEqual(await rows(oneDay(view('row_id'))));
    expect(await rows(oneDay(view('row_id, decided_at')))).toEqual([{ row_id: 'p2' }, { row_id: 'p3' }]);
  });

  it('lets a one-day filter reach the table scan; partitioning by row_id alone does not', async () => {
    const pruned = await plan(oneDay(view('row_id, decided_at')));
    const scan = pruned.slice(pruned.indexOf('SEQ_SCAN'));
    expect(scan).toMatch(/Filters:[\s\S]*decided_at/);
    const whole = await plan(oneDay(view('row_id')));
    expect(whole.slice(whole.indexOf('SEQ_SCAN'))).not.toMatch(/decided_at>=/);
  });
});
