import { BigQuery } from '@google-cloud/bigquery';
import type { Row, Warehouse } from '../ports.js';

/**
 * Streaming inserts with insertId = row_id: BigQuery drops a row whose insertId it saw in the last
 * minutes, so a retried flush does not duplicate rows. Tables are created by Terraform, not here.
 */
export class BigQueryWarehouse implements Warehouse {
  constructor(
    private readonly bq: BigQuery,
    private readonly dataset: string,
  ) {}

  async upsert(table: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const t = this.bq.dataset(this.dataset).table(table);
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500).map((r) => ({
        // A revised window row (row_revision) must not be dropped as a repeat of the version before it.
        insertId: typeof r['row_revision'] === 'number' ? `${r.row_id}~${r['row_revision']}` : r.row_id,
        json: Object.fromEntries(
          Object.entries(r).map(([k, v]) => [k, v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v]),
        ),
      }));
      await t.insert(chunk, { raw: true, skipInvalidRows: false, ignoreUnknownValues: false });
    }
  }

  async close(): Promise<void> {}
}
