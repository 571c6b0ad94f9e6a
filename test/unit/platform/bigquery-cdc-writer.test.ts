import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteApiStandIn } from '../../../cli/bigquery-write-stand-in.js';
import {
  CdcWriter,
  changeSequenceOf,
  compareChangeSequence,
  createWriterClient,
  descriptorOf,
  VERSION_COLUMNS,
} from '../../../shared/platform/bigquery-cdc-writer.js';
import { loadSchemas } from '../../../shared/export/schemas.js';
import { queryWarehouse } from '../../support/fixtures.js';
import type { Row } from '../../../shared/export/warehouse.js';

/**
 * The flush's Write API writer (the real managedwriter client, JSONWriter on `_default`) against the local
 * stand-in, which decodes each request with the writer's DescriptorProto and applies CDC UPSERT into DuckDB.
 */
const dir = mkdtempSync(join(tmpdir(), 'speedcam-cdc-'));
const path = join(dir, 'wh.duckdb');
let standIn: WriteApiStandIn;
let client: ReturnType<typeof createWriterClient>;

beforeAll(async () => {
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  standIn = await new WriteApiStandIn({ pathFor: () => path }).start();
  client = createWriterClient({ projectId: 'demo-cdc', endpoint: standIn.endpoint });
});
afterAll(async () => {
  client.close();
  await standIn.stop();
  rmSync(dir, { recursive: true, force: true });
});

const writer = () => new CdcWriter({ projectId: 'demo-cdc', dataset: 'speedcam', client });
const query = (sql: string) => queryWarehouse(path, sql);

const count = (row_id: string, n: number, rev: number): Row => ({
  row_id,
  user_pseudo_id: row_id.split('~')[1] ?? 'u',
  event_count: n,
  window_start: '2026-11-21T10:00:00.000Z',
  window_end: '2026-11-21T10:01:00.000Z',
  row_revision: rev,
});
const letter = (row_id: string, attributes: unknown): Row => ({
  row_id,
  timestamp: '2026-11-21T10:00:00.000Z',
  source: 'test',
  reason: 'invalid_fields',
  error: 'e',
  payload: 'p',
  payload_encoding: 'utf8',
  attributes,
  message_id: 'm',
  publish_time: '2026-11-21T10:00:00.000Z',
});

describe('_CHANGE_SEQUENCE_NUMBER', () => {
  it('is row_revision in hexadecimal (order kept), 0 for rows that are never revised', () => {
    expect(changeSequenceOf({ row_id: 'x', row_revision: 0x19ab1f3a400 })).toBe('0000019AB1F3A400');
    expect(changeSequenceOf({ row_id: 'x' })).toBe('0');
    // dead_letters: a refused row re-created by a retried flush carries a later timestamp, and wins
    const at = (t: string) => changeSequenceOf({ row_id: 'x', timestamp: t }, VERSION_COLUMNS['dead_letters']);
    expect(compareChangeSequence(at('2026-11-21T10:00:01.000Z'), at('2026-11-21T10:00:00.000Z'))).toBe(1);
    const revs = [0, 9, 10, 255, 256, 1_764_000_000_000, 1_764_000_000_001, Number.MAX_SAFE_INTEGER];
    for (let i = 1; i < revs.length; i++) {
      expect(
        compareChangeSequence(
          changeSequenceOf({ row_id: 'x', row_revision: revs[i]! }),
          changeSequenceOf({ row_id: 'x', row_revision: revs[i - 1]! }),
        ),
      ).toBe(1);
    }
    expect(compareChangeSequence('FF/1', 'FF/0')).toBe(1);
    expect(compareChangeSequence('a', 'A')).toBe(0);
  });

  it('the writer schema has the table columns and both CDC pseudo-columns', () => {
    const d = descriptorOf(loadSchemas().get('user_event_counts')!);
    expect((d.field ?? []).map((f) => f.name)).toEqual([
      'row_id',
      'user_pseudo_id',
      'event_count',
      'window_start',
      'window_end',
      'row_revision',
      ...(loadSchemas()
        .get('user_event_counts')!
        .some((f) => f.name === 'is_final')
        ? ['is_final']
        : []),
      '_CHANGE_SEQUENCE_NUMBER',
      '_CHANGE_TYPE',
    ]);
  });
});

describe('CDC upserts through the Write API stand-in', () => {
  it('a replayed batch, a newer revision and an older one arriving last: the table holds one row per row_id, the newest', async () => {
    const w = writer();
    const first = [count('t1~a', 3, 100), count('t1~b', 1, 100)];
    expect(await w.upsert('user_event_counts', first)).toEqual({ rejected: [] });
    expect(await w.upsert('user_event_counts', first)).toEqual({ rejected: [] }); // a flush retried after a crash
    await w.upsert('user_event_counts', [count('t1~a', 5, 200)]); // late: update
    await w.upsert('user_event_counts', [count('t1~a', 4, 150)]); // an older version, arriving last
    await w.close();
    expect(
      await query("SELECT row_id, event_count, row_revision FROM speedcam.user_event_counts WHERE row_id LIKE 't1~%' ORDER BY row_id"),
    ).toEqual([
      { row_id: 't1~a', event_count: 5, row_revision: 200 },
      { row_id: 't1~b', event_count: 1, row_revision: 100 },
    ]);
  });

  it('rows BigQuery refuses (row_errors: nothing of the request written) come back with its message; the others are sent again and land', async () => {
    const w = writer();
    const before = standIn.stats.rowErrors;
    const rows = [letter('t2-good1', { a: '1' }), letter('t2-bad', '{"a": '), letter('t2-good2', null)];
    const { rejected } = await w.upsert('dead_letters', rows);
    await w.close();
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ row: rows[1], reason: 'invalid' });
    expect(rejected[0]!.error).toMatch(/FIELDS_ERROR.*attributes: invalid JSON text/);
    expect(standIn.stats.rowErrors - before).toBe(1);
    expect(await query("SELECT row_id FROM speedcam.dead_letters WHERE row_id LIKE 't2-%' ORDER BY row_id")).toEqual([
      { row_id: 't2-good1' },
      { row_id: 't2-good2' },
    ]);
  });

  it('rows that cannot be encoded for the schema are refused before sending, with the reason', async () => {
    const w = writer();
    const requests = standIn.stats.requests;
    const { rejected } = await w.upsert('user_event_counts', [
      { ...count('t3~a', 1, 1), window_start: 'soon' },
      { ...count('t3~b', 1, 1), event_count: 1.5 },
      { ...count('t3~c', 1, 1), user_pseudo_id: null },
      { ...count('t3~d', 1, 1), surprise: 1 },
    ]);
    await w.close();
    expect(rejected.map((r) => [r.row.row_id, r.reason, r.error])).toEqual([
      ['t3~a', 'invalid', 'window_start: cannot convert "soon" to TIMESTAMP'],
      ['t3~b', 'invalid', 'event_count: cannot convert 1.5 to INTEGER'],
      ['t3~c', 'invalid', 'user_pseudo_id: missing value for a REQUIRED field'],
      ['t3~d', 'invalid', 'no such field: surprise'],
    ]);
    expect(standIn.stats.requests).toBe(requests);
  });

  it('a transient gRPC status throws (the flush retries); the next call reconnects and lands', async () => {
    const w = writer();
    standIn.failNext(1, 14);
    await expect(w.upsert('user_event_counts', [count('t4~a', 1, 1)])).rejects.toMatchObject({ code: 14 });
    expect(await w.upsert('user_event_counts', [count('t4~a', 1, 1)])).toEqual({ rejected: [] });
    await w.close();
    expect(await query("SELECT count(*) AS n FROM speedcam.user_event_counts WHERE row_id = 't4~a'")).toEqual([{ n: 1 }]);
  });

  it('a table that does not exist is an error for the whole call, not a rejected row', async () => {
    const w = new CdcWriter({
      projectId: 'demo-cdc',
      dataset: 'speedcam',
      client,
      schemas: new Map([['nope', [{ name: 'row_id', type: 'STRING', mode: 'REQUIRED' }]]]),
    });
    await expect(w.upsert('nope', [{ row_id: 'x' }])).rejects.toThrow(/not found/);
    await w.close();
  });

  it('keeps requests within AppendRows limits; a row too large for any request is refused', async () => {
    const w = new CdcWriter({ projectId: 'demo-cdc', dataset: 'speedcam', client, maxRowsPerRequest: 10 });
    const before = standIn.stats.requests;
    const rows = Array.from({ length: 25 }, (_, i) => count(`t5~${i}`, i, 1));
    expect(await w.upsert('user_event_counts', rows)).toEqual({ rejected: [] });
    expect(standIn.stats.requests - before).toBe(3); // 10 + 10 + 5
    const big = await w.upsert('dead_letters', [{ ...letter('t5-big', null), payload: 'x'.repeat(10 * 1024 * 1024) }]);
    expect(big.rejected.map((r) => r.reason)).toEqual(['row_too_large']);
    expect(standIn.stats.requests - before).toBe(3);
    await w.close();
    expect(await query("SELECT count(*) AS n FROM speedcam.user_event_counts WHERE row_id LIKE 't5~%'")).toEqual([{ n: 25 }]);
  });
});
