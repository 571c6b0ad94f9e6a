import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployResources, latestViewQuery } from '../../../cli/deploy.js';

/**
 * The `<table>_latest` view (resources.json), kept one release as a plain alias: the table is exact itself
 * (Storage Write API CDC upserts by primary key), so the view must neither deduplicate nor hide a filter
 * from the table scan. Run on DuckDB (identifiers quoted with " instead of `).
 */
const r = deployResources();
let conn: DuckDBConnection;
let db: DuckDBInstance;
const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
const plan = async (sql: string) =>
  (await conn.runAndReadAll(`EXPLAIN ${sql}`))
    .getRows()
    .map((x) => String(x[1]))
    .join('\n');
const view = () => latestViewQuery(r, 'vehicle_passages', 'vehicle_passages').replace(/`/g, '"');

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  await conn.run('CREATE TABLE vehicle_passages (row_id VARCHAR PRIMARY KEY, decided_at TIMESTAMP, avg_speed DOUBLE)');
  await conn.run(`INSERT INTO vehicle_passages VALUES
    ('p1', '2026-11-20 10:00:00', 41.5), ('p2', '2026-11-21 09:00:00', 38.0), ('p3', '2026-11-21 23:59:59', 55.1), ('p4', '2026-11-22 00:00:00', 30.2)`);
});
afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

describe('the _latest view (one release, an alias)', () => {
  const oneDay = (v: string) =>
    `SELECT row_id FROM (${v}) WHERE decided_at >= TIMESTAMP '2026-11-21' AND decided_at < TIMESTAMP '2026-11-22' ORDER BY row_id`;

  it('is the table: the same rows, no window function', async () => {
    expect(r.latest_view.query).not.toMatch(/ROW_NUMBER|PARTITION BY/);
    expect(await rows(`SELECT * FROM (${view()}) ORDER BY row_id`)).toEqual(await rows('SELECT * FROM vehicle_passages ORDER BY row_id'));
    expect(await rows(oneDay(view()))).toEqual([{ row_id: 'p2' }, { row_id: 'p3' }]);
  });

  it('lets a one-day filter reach the table scan', async () => {
    const p = await plan(oneDay(view()));
    expect(p.slice(p.indexOf('SEQ_SCAN'))).toMatch(/Filters:[\s\S]*decided_at/);
  });
});
