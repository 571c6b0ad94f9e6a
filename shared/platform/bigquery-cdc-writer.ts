import { createRequire } from 'node:module';
import type { managedwriter as MW, protos } from '@google-cloud/bigquery-storage';
import type { RejectedRow, Row } from '../export/warehouse.js';
import { loadSchemas, type SchemaField } from '../export/schemas.js';

const require = createRequire(import.meta.url);

/**
 * The flush's BigQuery writer: the Storage Write API's default stream, as change-data-capture upserts.
 * Every table has a primary key (row_id, NOT ENFORCED) and a max_staleness (terraform/bigquery.tf,
 * cli/deploy.ts); every row carries `_CHANGE_TYPE` = UPSERT and a `_CHANGE_SEQUENCE_NUMBER`
 * (changeSequenceOf). BigQuery keeps, per row_id, the row with the highest sequence number: a batch
 * sent again after a crash or a lost answer is harmless, a `late: update` revision or a window's final
 * row replaces the rows before it, and `SELECT count(*)` on the table itself is exact. docs/bigquery.md.
 *
 * Errors: rows BigQuery refuses (AppendRowsResponse.row_errors: then nothing of the request was
 * written) come back as rejected with BigQuery's message and the rest is sent again; rows that cannot be
 * encoded for the table's schema are rejected here with the same reason; anything else (a gRPC status on
 * the stream or in the answer: UNAVAILABLE, INTERNAL, RESOURCE_EXHAUSTED, NOT_FOUND…) throws, and the
 * flush retries the lot.
 */

/** AppendRows takes at most 10 MB per request: a margin for the descriptor and framing. */
const MAX_BYTES_PER_REQUEST = 9 * 1024 * 1024;
const MAX_ROWS_PER_REQUEST = 500;
/** A row this large cannot be sent in any request. */
const MAX_ROW_BYTES = MAX_BYTES_PER_REQUEST;
/** An append with no answer by then is abandoned (the flush retries; a re-send is harmless). */
const APPEND_TIMEOUT_MS = 60_000;
/** The reason of a row BigQuery (or the encoding for its schema) refuses for good: insertAll's name for it, kept. */
export const REJECTED_REASON = 'invalid';

type IDescriptorProto = protos.google.protobuf.IDescriptorProto;
type AppendRowsResponse = protos.google.cloud.bigquery.storage.v1.IAppendRowsResponse;

export interface CdcWriterOptions {
  projectId: string;
  dataset: string;
  /** the Write API client, shared by the runtime's flush passes (one gRPC channel per instance) */
  client: MW.WriterClient;
  /** table schemas (schemas/*.json): the same files the tables are created from */
  schemas?: Map<string, SchemaField[]>;
  /** rows per AppendRows request (default 500; tests use fewer) */
  maxRowsPerRequest?: number;
}

/**
 * `_CHANGE_SEQUENCE_NUMBER` of a row: BigQuery's format is up to four '/'-separated sections of up to 16
 * hexadecimal digits, compared section by section. Window rows carry row_revision (the Firestore read
 * time, in ms, of the flush pass that computed them: early panes, the final row and each `late: update`
 * revision in that order, so it rises with every version of a row). A table with a version column
 * (VERSION_COLUMNS) uses that time in ms. Rows of the other tables are written once per row_id with
 * content that never changes (a re-export sends the same row): a constant sequence (0) is enough, and a
 * tie between two equal rows is harmless.
 */
export function changeSequenceOf(row: Row, versionColumn?: string): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(16, '0');
  const rev = row['row_revision'];
  if (typeof rev === 'number' && Number.isSafeInteger(rev) && rev >= 0) return hex(rev);
  if (versionColumn) {
    const v = row[versionColumn];
    const ms = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : NaN;
    if (Number.isSafeInteger(ms) && ms >= 0) return hex(ms);
  }
  return '0';
}

/**
 * Tables whose row for one row_id can be written again with other content, and the column that orders the
 * versions: a row the warehouse refused becomes a dead letter whose `timestamp` is the time of the flush
 * that refused it, so a flush retried after a crash writes it again, later; the later one wins.
 */
export const VERSION_COLUMNS: Readonly<Record<string, string>> = { dead_letters: 'timestamp' };

/** Compares two `_CHANGE_SEQUENCE_NUMBER` values as BigQuery does (section by section, hexadecimal). */
export function compareChangeSequence(a: string, b: string): number {
  const pa = a.split('/').map((x) => BigInt(`0x${x || '0'}`));
  const pb = b.split('/').map((x) => BigInt(`0x${x || '0'}`));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? -1n;
    const y = pb[i] ?? -1n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A row in the shape the JSON encoder sends for the proto2 descriptor of the table, or why it cannot be. */
export function encodeRow(
  row: Row,
  fields: readonly SchemaField[],
  versionColumn?: string,
): { json: Record<string, unknown> } | { error: string } {
  const json: Record<string, unknown> = {};
  for (const f of fields) {
    const v = row[f.name];
    if (v === undefined || v === null) {
      if (f.mode === 'REQUIRED') return { error: `${f.name}: missing value for a REQUIRED field` };
      continue;
    }
    if (f.mode === 'REPEATED') {
      if (!Array.isArray(v)) return { error: `${f.name}: expected an array for a REPEATED field` };
      const out: unknown[] = [];
      for (const x of v) {
        const c = scalar(x, f);
        if ('error' in c) return c;
        out.push(c.value);
      }
      json[f.name] = out;
      continue;
    }
    const c = scalar(v, f);
    if ('error' in c) return c;
    json[f.name] = c.value;
  }
  const unknown = Object.keys(row).filter((k) => !fields.some((f) => f.name === k));
  if (unknown.length > 0) return { error: `no such field: ${unknown.join(', ')}` };
  json['_CHANGE_TYPE'] = 'UPSERT';
  json['_CHANGE_SEQUENCE_NUMBER'] = changeSequenceOf(row, versionColumn);
  return { json };
}

function scalar(v: unknown, f: SchemaField): { value: unknown } | { error: string } {
  const bad = () => ({ error: `${f.name}: cannot convert ${JSON.stringify(v)?.slice(0, 200)} to ${f.type}` });
  switch (f.type) {
    case 'STRING':
      return typeof v === 'string' ? { value: v } : typeof v === 'number' || typeof v === 'bigint' ? { value: String(v) } : bad();
    case 'INTEGER': {
      if (typeof v === 'number') return Number.isInteger(v) ? { value: v } : bad();
      if (typeof v === 'bigint') return { value: v.toString() };
      if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) return { value: v };
      return bad();
    }
    case 'FLOAT': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isNaN(n) ? bad() : { value: n };
    }
    case 'BOOLEAN':
      return typeof v === 'boolean' ? { value: v } : bad();
    case 'TIMESTAMP': {
      // The proto type of a TIMESTAMP is int64 microseconds since the epoch.
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      return Number.isFinite(ms) ? { value: Math.round(ms * 1000) } : bad();
    }
    case 'JSON':
      // JSON columns take JSON text (as insertAll did): objects are serialised, strings sent as they are.
      return typeof v === 'string' ? { value: v } : { value: JSON.stringify(v) };
  }
}

/** The proto2 descriptor the Write API needs for a table's schema, with the two CDC pseudo-columns. */
export function descriptorOf(fields: readonly SchemaField[]): IDescriptorProto {
  const { adapt } = require('@google-cloud/bigquery-storage') as typeof import('@google-cloud/bigquery-storage');
  const storageSchema = adapt.convertBigQuerySchemaToStorageTableSchema({
    fields: fields.map((f) => ({ name: f.name, type: f.type, mode: f.mode ?? 'NULLABLE' })),
  });
  return adapt.convertStorageSchemaToProto2Descriptor(storageSchema, 'root', adapt.withChangeType(), adapt.withChangeSequenceNumber());
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`AppendRows: no answer in ${ms} ms`), { code: 4 })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A rejected answer's row errors, or an Error to throw for an answer that failed as a whole. */
function failureOf(res: AppendRowsResponse): { rowErrors: { index: number; message: string }[] } | Error | null {
  const rowErrors = (res.rowErrors ?? []).map((e) => ({
    index: Number(e.index ?? -1),
    message: `${String(e.code ?? 'ROW_ERROR')}: ${e.message ?? ''}`,
  }));
  if (rowErrors.length > 0) return { rowErrors };
  if (res.error && (res.error.code ?? 0) !== 0) {
    return Object.assign(new Error(`AppendRows failed: ${res.error.message ?? ''}`), { code: res.error.code, details: res.error.details });
  }
  return null;
}

/** The schema files, read once per process: the runtime makes a writer for every flush pass. */
let schemaFiles: Map<string, SchemaField[]> | undefined;

export class CdcWriter {
  private readonly schemas: Map<string, SchemaField[]>;
  private readonly writers = new Map<string, Promise<MW.JSONWriter>>();
  /** requests sent (AppendRows), for the benches */
  appends = 0;

  constructor(private readonly o: CdcWriterOptions) {
    this.schemas = o.schemas ?? (schemaFiles ??= loadSchemas());
  }

  private writerFor(table: string, fields: readonly SchemaField[]): Promise<MW.JSONWriter> {
    let w = this.writers.get(table);
    if (!w) {
      const { managedwriter } = require('@google-cloud/bigquery-storage') as typeof import('@google-cloud/bigquery-storage');
      w = (async () => {
        const connection = await this.o.client.createStreamConnection({
          streamId: managedwriter.DefaultStream,
          destinationTable: `projects/${this.o.projectId}/datasets/${this.o.dataset}/tables/${table}`,
        });
        // A connection that fails between appends (the server closing it) must not throw out of an event
        // emitter with no listener: the next append opens a new one. An append in flight is failed by the client.
        connection.onConnectionError(() => this.forget(table));
        return new managedwriter.JSONWriter({ connection, protoDescriptor: descriptorOf(fields) });
      })();
      this.writers.set(table, w);
      w.catch(() => this.writers.delete(table));
    }
    return w;
  }

  async upsert(table: string, rows: readonly Row[]): Promise<{ rejected: RejectedRow[] }> {
    const rejected: RejectedRow[] = [];
    if (rows.length === 0) return { rejected };
    const fields = this.schemas.get(table);
    if (!fields) throw new Error(`no schema file for table ${table}`);
    let chunk: { row: Row; json: Record<string, unknown> }[] = [];
    let bytes = 0;
    const send = async () => {
      let sending = chunk;
      chunk = [];
      bytes = 0;
      while (sending.length > 0) {
        const writer = await this.writerFor(table, fields);
        this.appends++;
        let res: AppendRowsResponse;
        try {
          const pending = writer.appendRows(sending.map((s) => s.json) as Parameters<MW.JSONWriter['appendRows']>[0]);
          res = await withTimeout(pending.getResult(), APPEND_TIMEOUT_MS);
        } catch (err) {
          // The stream broke (its status is the error's code): a new connection next time, and the flush retries.
          this.forget(table);
          throw err;
        }
        const failure = failureOf(res);
        if (failure === null) return;
        if (failure instanceof Error) throw failure;
        // Nothing of this request was written: the rows BigQuery named are refused, the others go again.
        const bad = new Map(failure.rowErrors.map((e) => [e.index, e.message]));
        if ([...bad.keys()].some((i) => !(i >= 0 && i < sending.length))) {
          throw new Error(`AppendRows: row errors name rows not sent: ${[...bad.keys()].join(',')}`);
        }
        for (const [i, message] of bad) rejected.push({ row: sending[i]!.row, reason: REJECTED_REASON, error: message });
        sending = sending.filter((_, i) => !bad.has(i));
      }
    };
    for (const row of rows) {
      const enc = encodeRow(row, fields, VERSION_COLUMNS[table]);
      if ('error' in enc) {
        rejected.push({ row, reason: REJECTED_REASON, error: enc.error });
        continue;
      }
      const size = Buffer.byteLength(JSON.stringify(enc.json));
      if (size > MAX_ROW_BYTES) {
        const error = `row is ${size} bytes; an AppendRows request takes at most ${MAX_ROW_BYTES}`;
        rejected.push({ row, reason: 'row_too_large', error });
        continue;
      }
      if (chunk.length >= (this.o.maxRowsPerRequest ?? MAX_ROWS_PER_REQUEST) || bytes + size > MAX_BYTES_PER_REQUEST) await send();
      chunk.push({ row, json: enc.json });
      bytes += size;
    }
    await send();
    return { rejected };
  }

  private forget(table: string): void {
    const w = this.writers.get(table);
    this.writers.delete(table);
    void w?.then((x) => x.close()).catch(() => undefined);
  }

  /** Closes this writer's stream connections (the client stays open for the next pass). */
  async close(): Promise<void> {
    const ws = [...this.writers.values()];
    this.writers.clear();
    for (const w of await Promise.allSettled(ws)) if (w.status === 'fulfilled') w.value.close();
  }
}

/**
 * A Write API client. `endpoint` (host:port) points it at a plaintext local stand-in (cli/bigquery-write-stand-in.ts):
 * no TLS and no credentials.
 */
export function createWriterClient(opts: { projectId: string; endpoint?: string | null }): MW.WriterClient {
  const { managedwriter } = require('@google-cloud/bigquery-storage') as typeof import('@google-cloud/bigquery-storage');
  if (!opts.endpoint) return new managedwriter.WriterClient({ projectId: opts.projectId });
  const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const i = opts.endpoint.lastIndexOf(':');
  return new managedwriter.WriterClient({
    projectId: opts.projectId,
    apiEndpoint: opts.endpoint.slice(0, i),
    port: Number(opts.endpoint.slice(i + 1)),
    sslCreds: grpc.credentials.createInsecure(),
  });
}
