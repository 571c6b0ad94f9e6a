import { BigQuery } from '@google-cloud/bigquery';
import { describe, expect, it } from 'vitest';
import { BigQueryWarehouse } from '../../../shared/platform/bigquery-warehouse.js';
import type { Row } from '../../../shared/export/warehouse.js';

/**
 * The real client's Table (its insert, partial-failure handling and PartialFailureError), with only the
 * HTTP call replaced by insertAll answers shaped as BigQuery documents them (tabledata.insertAll).
 */
function warehouseAnswering(
  answer: (body: { rows: { insertId: string; json: Record<string, unknown> }[]; skipInvalidRows?: boolean }) => unknown,
) {
  const table = new BigQuery({ projectId: 'demo-speedcam' }).dataset('speedcam').table('vehicle_passages');
  const requests: { uri: string; json: { rows: { insertId: string; json: Record<string, unknown> }[]; skipInvalidRows?: boolean } }[] = [];
  (table as unknown as { request: (o: unknown) => Promise<unknown> }).request = async (o) => {
    const opts = o as (typeof requests)[number];
    requests.push(opts);
    const a = answer(opts.json);
    if (a instanceof Error) throw a;
    return [a];
  };
  const wh = new BigQueryWarehouse({ dataset: () => ({ table: () => table }) } as never, 'speedcam');
  return { wh, requests };
}

const rows = (n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ row_id: `r${i}`, vehicle_id: `v${i}`, avg_speed: 40 + i, attributes: { a: String(i) } }));

describe('BigQuery warehouse: rows BigQuery rejects', () => {
  it('returns the rejected row with BigQuery reason and message; sends every row once with insertId = row_id', async () => {
    const { wh, requests } = warehouseAnswering(() => ({
      kind: 'bigquery#tableDataInsertAllResponse',
      insertErrors: [
        {
          index: 1,
          errors: [{ reason: 'invalid', location: 'avg_speed', message: 'Cannot convert value to floating point (bad value): fast' }],
        },
      ],
    }));
    const input = rows(3);
    const { rejected } = await wh.upsert('vehicle_passages', input);
    expect(rejected).toEqual([{ row: input[1], reason: 'invalid', error: 'Cannot convert value to floating point (bad value): fast' }]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.uri).toBe('/insertAll');
    // skipInvalidRows: the two good rows land in the same request; nothing is re-sent.
    expect(requests[0]!.json.skipInvalidRows).toBe(true);
    expect(requests[0]!.json.rows.map((r) => r.insertId)).toEqual(['r0', 'r1', 'r2']);
    expect(requests[0]!.json.rows[0]!.json['attributes']).toBe('{"a":"0"}');
  });

  it('throws when a row failed for a reason that may pass on a retry (the flush then retries the lot)', async () => {
    const { wh } = warehouseAnswering(() => ({
      insertErrors: [
        { index: 0, errors: [{ reason: 'invalid', message: 'bad' }] },
        { index: 2, errors: [{ reason: 'backendError', message: 'try again' }] },
      ],
    }));
    await expect(wh.upsert('vehicle_passages', rows(3))).rejects.toMatchObject({ name: 'PartialFailureError' });
  });

  it('throws on a failed request (no row is dead-lettered for a 503)', async () => {
    const { wh } = warehouseAnswering(() => Object.assign(new Error('Service Unavailable'), { code: 503 }));
    await expect(wh.upsert('vehicle_passages', rows(2))).rejects.toThrow(/Service Unavailable/);
  });

  it('keeps requests within insertAll limits and rejects a row too large for any request', async () => {
    const { wh, requests } = warehouseAnswering(() => ({}));
    const input = rows(1_100);
    input[7] = { ...input[7]!, payload: 'x'.repeat(10 * 1024 * 1024) };
    const { rejected } = await wh.upsert('dead_letters', input);
    expect(rejected.map((r) => [r.row.row_id, r.reason])).toEqual([['r7', 'row_too_large']]);
    expect(requests.map((r) => r.json.rows.length)).toEqual([500, 500, 99]);
    expect(requests.flatMap((r) => r.json.rows.map((x) => x.insertId))).not.toContain('r7');
  });
});
