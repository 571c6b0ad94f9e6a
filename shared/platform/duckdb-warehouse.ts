import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, listValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { PseudonymisationResult, PseudonymisationSpec, RejectedRow, Row, Warehouse } from '../export/warehouse.js';
import { loadSchemas, type SchemaField } from '../export/schemas.js';

const DUCK_TYPE: Record<SchemaField['type'], string> = {
  STRING: 'VARCHAR',
  FLOAT: 'DOUBLE',
  INTEGER: 'BIGINT',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'JSON',
};

export const LOCAL_DATASET = 'speedcam';

/**
 * The local stand-in for BigQuery: one DuckDB file with the same table schemas, in schema `speedcam`.
 * DuckDB allows one writing process per file, so the writer opens it for one flush and closes it.
 * Upsert by row_id (the primary key) gives the same idempotency as BigQuery's insertId.
 */
export class DuckDbWarehouse implements Warehouse {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly schemas: Map<string, SchemaField[]>,
  ) {}

  static async open(path: string, opts: { readOnly?: boolean; lockWaitMs?: number } = {}): Promise<DuckDbWarehouse> {
    if (!opts.readOnly) mkdirSync(dirname(path), { recursive: true });
    const deadline = Date.now() + (opts.lockWaitMs ?? 10_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const instance = await DuckDBInstance.create(path, opts.readOnly ? { access_mode: 'READ_ONLY' } : {});
        const conn = await instance.connect();
        const wh = new DuckDbWarehouse(instance, conn, loadSchemas());
        if (!opts.readOnly) await wh.ensureTables();
        return wh;
      } catch (err) {
        // Another process holds the file (the stack's flush): wait for it, briefly.
        if (!/lock/i.test(String(err)) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500) * (0.5 + Math.random())));
      }
    }
  }

  private async ensureTables(): Promise<void> {
    await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${LOCAL_DATASET}`);
    for (const [table, fields] of this.schemas) {
      const cols = fields.map((f) => {
        const type = DUCK_TYPE[f.type] + (f.mode === 'REPEATED' ? '[]' : '');
        const pk = f.name === 'row_id' ? ' PRIMARY KEY' : f.mode === 'REQUIRED' ? ' NOT NULL' : '';
        return `"${f.name}" ${type}${pk}`;
      });
      await this.conn.run(`CREATE TABLE IF NOT EXISTS ${LOCAL_DATASET}."${table}" (${cols.join(', ')})`);
    }
    // A warehouse file from an older version: nullable columns added to a schema since are added to it.
    const have = new Set(
      (
        await (
          await this.conn.run(
            `SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = '${LOCAL_DATASET}'`,
          )
        ).getRowObjects()
      ).map((r) => String(r['c'])),
    );
    for (const [table, fields] of this.schemas) {
      for (const f of fields.filter((x) => x.mode !== 'REQUIRED' && !have.has(`${table}.${x.name}`))) {
        await this.conn.run(
          `ALTER TABLE ${LOCAL_DATASET}."${table}" ADD COLUMN "${f.name}" ${DUCK_TYPE[f.type]}${f.mode === 'REPEATED' ? '[]' : ''}`,
        );
      }
    }
  }

  /**
   * All rows in one transaction. When one of them fails for a reason of its own (a value the schema
   * refuses, a missing required value), the transaction is rolled back and the rows go in one by one, so
   * the rejected rows come back with DuckDB's reason and the others land: BigQuery's skipInvalidRows contract.
   */
  async upsert(table: string, rows: readonly Row[]): Promise<{ rejected: RejectedRow[] }> {
    const rejected: RejectedRow[] = [];
    if (rows.length === 0) return { rejected };
    const fields = this.schemas.get(table);
    if (!fields) throw new Error(`no schema file for table ${table}`);
    const names = fields.map((f) => `"${f.name}"`).join(', ');
    const params = fields.map((_, i) => `$${i + 1}`).join(', ');
    const sql = `INSERT OR REPLACE INTO ${LOCAL_DATASET}."${table}" (${names}) VALUES (${params})`;
    const insert = (row: Row) =>
      this.conn.run(
        sql,
        fields.map((f) => toDuck(row[f.name], f)),
      );
    await this.conn.run('BEGIN TRANSACTION');
    try {
      for (const row of rows) await insert(row);
      await this.conn.run('COMMIT');
      return { rejected };
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      if (rowErrorClass(err) === null) throw err;
    }
    for (const row of rows) {
      try {
        await insert(row);
      } catch (err) {
        const reason = rowErrorClass(err);
        if (reason === null) throw err;
        rejected.push({ row, reason, error: String((err as Error).message ?? err).slice(0, 2000) });
      }
    }
    return { rejected };
  }

  /** One UPDATE: idempotent (rows already carrying the prefix are left alone); see PseudonymisationSpec. */
  async pseudonymise(spec: PseudonymisationSpec, range: { fromMs: number; toMs: number }, key: string): Promise<PseudonymisationResult> {
    const token = `'${spec.prefix}' || substr(sha256($1 || row_id), 1, 32)`;
    const sets = [...spec.pseudonymise.map((c) => `"${c}" = ${token}`), ...spec.clear.map((c) => `"${c}" = NULL`)];
    const sql =
      `UPDATE ${LOCAL_DATASET}."${spec.table}" SET ${sets.join(', ')} WHERE NOT "${spec.keepIf}" ` +
      `AND "${spec.time}" >= make_timestamp($2::BIGINT * 1000) AND "${spec.time}" < make_timestamp($3::BIGINT * 1000) ` +
      `AND NOT starts_with("${spec.pseudonymise[0]}", '${spec.prefix}')`;
    const r = await this.conn.run(sql, [key, Math.floor(range.fromMs), Math.floor(range.toMs)]);
    return { rows: Number(r.rowsChanged), bytesBilled: null };
  }

  /** Runs SQL and returns plain JSON-able rows (BIGINT as number when exact, timestamps as ISO text). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fromDuck(v)])));
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** DuckDB's error classes that belong to one row's values (permanent); null for anything else (I/O, locks). */
function rowErrorClass(err: unknown): string | null {
  const m = /^(Conversion|Constraint|Invalid Input|Out of Range|Mismatch Type|Invalid Type) Error/.exec(
    String((err as Error)?.message ?? ''),
  );
  if (m) return `${m[1]!.toLowerCase().replace(/ /g, '_')}_error`;
  // Values the client cannot bind at all (an object where a number belongs) are the row's fault too.
  if (err instanceof TypeError || /^Cannot (create|bind) value/.test(String((err as Error)?.message ?? ''))) return 'invalid_value';
  return null;
}

function toDuck(v: unknown, f: SchemaField): DuckDBValue {
  if (v === undefined || v === null) return null;
  // An empty list has no item type DuckDB could bind: stored as NULL (BigQuery reads a missing REPEATED as empty).
  if (f.mode === 'REPEATED') return (v as unknown[]).length === 0 ? null : listValue((v as unknown[]).map((x) => x as DuckDBValue));
  if (f.type === 'JSON') return JSON.stringify(v);
  return v as DuckDBValue;
}

function fromDuck(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(fromDuck);
  if (v !== null && typeof v === 'object') {
    const ctor = (v as object).constructor?.name ?? '';
    if (/Timestamp|Date|Time|Decimal/.test(ctor)) return String(v);
    if ('items' in v) return (v as { items: unknown[] }).items.map(fromDuck);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromDuck(x)]));
  }
  return v;
}
