/** The warehouse port: BigQuery in Google Cloud, DuckDB locally (shared/platform). Every row carries its row_id. */

export type Row = Record<string, unknown> & { row_id: string };

/** A row the warehouse refused for good (schema, type, size): it is not retried, it goes to dead_letters. */
export interface RejectedRow {
  row: Row;
  /** the warehouse's own reason code (BigQuery insertErrors reason, e.g. `invalid`; DuckDB's error class) */
  reason: string;
  /** the warehouse's message */
  error: string;
}

export interface Warehouse {
  /**
   * Idempotent: a row whose row_id is already there replaces it (BigQuery: insertId dedupe). Rows the
   * warehouse rejects permanently are returned, the others land; a transient failure throws (retry all).
   */
  upsert(table: string, rows: readonly Row[]): Promise<{ rejected: RejectedRow[] }>;
  close(): Promise<void>;
}

/** A warehouse table, declared with what exports to it: its day partition's time column (null: none) and clustering columns. */
export interface TableDeclaration {
  name: string;
  time: string | null;
  cluster: readonly string[];
}
