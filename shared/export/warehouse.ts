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
  /** Replaces identifiers with pseudonyms in the rows a spec selects (docs/data-retention.md); both adapters implement it. */
  pseudonymise?(spec: PseudonymisationSpec, range: { fromMs: number; toMs: number }, key: string): Promise<PseudonymisationResult>;
  close(): Promise<void>;
}

/**
 * Rows of `table` whose `keepIf` column is false, whose `time` lies in [fromMs, toMs), and whose first
 * `pseudonymise` column does not start with `prefix` yet: each `pseudonymise` column becomes
 * prefix + the first 32 hex digits of SHA-256(key || row_id) (the same token in each), each `clear` column NULL.
 */
export interface PseudonymisationSpec {
  table: string;
  time: string;
  keepIf: string;
  pseudonymise: readonly string[];
  clear: readonly string[];
  prefix: string;
}

export interface PseudonymisationResult {
  rows: number;
  /** BigQuery's billed bytes for the statement (null where there is no such figure: DuckDB) */
  bytesBilled: number | null;
}

/** A warehouse table, declared with what exports to it: its day partition's time column (null: none) and clustering columns. */
export interface TableDeclaration {
  name: string;
  time: string | null;
  cluster: readonly string[];
}
