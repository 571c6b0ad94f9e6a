import type { BigQuery } from '@google-cloud/bigquery';
import type { PseudonymisationResult, PseudonymisationSpec, RejectedRow, Row, Warehouse } from '../export/warehouse.js';

/** insertAll limits: 50,000 rows and 10 MB per request (500 rows recommended); 10 MB per row. */
const MAX_ROWS_PER_REQUEST = 500;
const MAX_BYTES_PER_REQUEST = 9 * 1024 * 1024;
/** A row this large cannot be sent in any request: rejected here, as BigQuery would reject it. */
const MAX_ROW_BYTES = MAX_BYTES_PER_REQUEST;
/** insertErrors reasons that mean "this row will never be accepted": the rest are retried. */
const PERMANENT_REASONS = new Set(['invalid']);

/** One entry of a PartialFailureError's `errors` (the client's shape for insertAll's insertErrors). */
interface InsertError {
  row?: { insertId?: string; json?: Record<string, unknown> };
  errors?: { reason?: string; message?: string }[];
}

/**
 * The flush's BigQuery warehouse. By default its rows go through the Storage Write API as CDC upserts
 * (`cdc`, shared/platform/bigquery-cdc-writer.ts): exact in the table itself, see docs/bigquery.md.
 * Without it (SPEEDCAM_BIGQUERY_WRITE=insert_all, kept one release for tables without a primary key):
 * streaming inserts with insertId = row_id: BigQuery drops a row whose insertId it saw in the last
 * minutes, so a retried flush does not duplicate rows. Tables are created by Terraform, not here.
 * skipInvalidRows: a row BigQuery rejects (a value the schema refuses) does not stop the others;
 * it comes back with BigQuery's reason and the flush dead-letters it.
 */
export class BigQueryWarehouse implements Warehouse {
  constructor(
    private readonly bq: Pick<BigQuery, 'dataset' | 'createQueryJob'>,
    private readonly dataset: string,
    private readonly cdc?: Pick<Warehouse, 'upsert' | 'close'>,
  ) {}

  async upsert(table: string, rows: readonly Row[]): Promise<{ rejected: RejectedRow[] }> {
    if (this.cdc) return this.cdc.upsert(table, rows);
    const rejected: RejectedRow[] = [];
    if (rows.length === 0) return { rejected };
    const t = this.bq.dataset(this.dataset).table(table);
    const byId = new Map(rows.map((r) => [insertIdOf(r), r]));
    let chunk: { insertId: string; json: Record<string, unknown> }[] = [];
    let bytes = 0;
    const send = async () => {
      if (chunk.length === 0) return;
      const sending = chunk;
      chunk = [];
      bytes = 0;
      try {
        await t.insert(sending, { raw: true, skipInvalidRows: true, ignoreUnknownValues: false, partialRetries: 0 });
      } catch (err) {
        const errors = (err as { name?: string; errors?: InsertError[] }).errors;
        if ((err as { name?: string }).name !== 'PartialFailureError' || !Array.isArray(errors)) throw err;
        let transient: InsertError | undefined;
        for (const e of errors) {
          const reasons = (e.errors ?? []).map((x) => x.reason ?? 'unknown');
          if (!reasons.every((r) => PERMANENT_REASONS.has(r))) {
            transient ??= e;
            continue;
          }
          const row = byId.get(e.row?.insertId ?? '');
          if (!row) throw err;
          rejected.push({ row, reason: reasons[0] ?? 'invalid', error: (e.errors ?? []).map((x) => x.message ?? '').join('; ') });
        }
        // A row failed for a reason that may pass next time (backendError, timeout…): the flush retries the lot.
        if (transient) throw err;
      }
    };
    for (const r of rows) {
      const json = Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v]),
      );
      const size = Buffer.byteLength(JSON.stringify(json));
      if (size > MAX_ROW_BYTES) {
        rejected.push({
          row: r,
          reason: 'row_too_large',
          error: `row is ${size} bytes; a streaming insert takes at most ${MAX_ROW_BYTES}`,
        });
        continue;
      }
      if (chunk.length >= MAX_ROWS_PER_REQUEST || bytes + size > MAX_BYTES_PER_REQUEST) await send();
      chunk.push({ insertId: insertIdOf(r), json });
      bytes += size;
    }
    await send();
    return { rejected };
  }

  /**
   * One DML UPDATE job (the flush's account needs roles/bigquery.jobUser on the project): the range filter on the
   * partition column limits it to the day partitions concerned; rows already pseudonymised are left alone, so a
   * retry changes nothing. Rows streamed in the last 30 minutes cannot be updated: the rows it selects were decided
   * more than the retention ago and exported with their identifier hours before (docs/data-retention.md).
   */
  async pseudonymise(spec: PseudonymisationSpec, range: { fromMs: number; toMs: number }, key: string): Promise<PseudonymisationResult> {
    const token = `CONCAT('${spec.prefix}', SUBSTR(TO_HEX(SHA256(CONCAT(@key, row_id))), 1, 32))`;
    const sets = [...spec.pseudonymise.map((c) => `\`${c}\` = ${token}`), ...spec.clear.map((c) => `\`${c}\` = NULL`)];
    const query =
      `UPDATE \`${this.dataset}.${spec.table}\` SET ${sets.join(', ')} WHERE NOT \`${spec.keepIf}\` ` +
      `AND \`${spec.time}\` >= TIMESTAMP_MILLIS(@from_ms) AND \`${spec.time}\` < TIMESTAMP_MILLIS(@to_ms) ` +
      `AND NOT STARTS_WITH(\`${spec.pseudonymise[0]}\`, '${spec.prefix}')`;
    const params = { key, from_ms: Math.floor(range.fromMs), to_ms: Math.floor(range.toMs) };
    const [job] = await this.bq.createQueryJob({ query, params });
    await job.getQueryResults();
    const [meta] = await job.getMetadata();
    const stats = (meta as { statistics?: { query?: { numDmlAffectedRows?: string; totalBytesBilled?: string } } }).statistics?.query;
    const billed = stats?.totalBytesBilled;
    return { rows: Number(stats?.numDmlAffectedRows ?? 0), bytesBilled: billed !== undefined ? Number(billed) : null };
  }

  async close(): Promise<void> {
    await this.cdc?.close();
  }
}

/** A revised window row (row_revision) must not be dropped by BigQuery as a repeat of the version before it. */
function insertIdOf(r: Row): string {
  return typeof r['row_revision'] === 'number' ? `${r.row_id}~${r['row_revision']}` : r.row_id;
}
