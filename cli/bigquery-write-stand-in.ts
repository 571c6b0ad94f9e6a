import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { loadSchemas, type SchemaField } from '../shared/export/schemas.js';
import { DuckDbWarehouse, LOCAL_DATASET } from '../shared/platform/duckdb-warehouse.js';
import { compareChangeSequence } from '../shared/platform/bigquery-cdc-writer.js';
import type { Row } from '../shared/export/warehouse.js';

const require = createRequire(import.meta.url);
/** protobufjs' descriptor extension: Type.fromDescriptor (a CommonJS module that patches protobufjs). */
require('protobufjs/ext/descriptor');

/**
 * A local stand-in for the BigQuery Storage Write API, for the tests and `npm run stack`: a gRPC server on
 * 127.0.0.1 speaking the package's own protos (@google-cloud/bigquery-storage's v1 storage.proto), so the
 * real client (managedwriter's JSONWriter on the `_default` stream) is what talks to it. It implements
 * what that client calls for CDC writes: AppendRows on `_default` (each request's rows decoded with the
 * writer schema's DescriptorProto) and GetWriteStream for `_default`; other methods answer UNIMPLEMENTED.
 *
 * Semantics applied into a DuckDB file per dataset (the local warehouse's tables, schema `speedcam`):
 *  - a request is all or nothing: rows that fail to decode or that the table's schema refuses (a missing
 *    REQUIRED value, JSON text that does not parse, a value DuckDB cannot store) come back as
 *    `row_errors` with INVALID_ARGUMENT and nothing of the request is written, as BigQuery does;
 *  - `_CHANGE_TYPE` UPSERT / DELETE by primary key (row_id); per row_id the highest
 *    `_CHANGE_SEQUENCE_NUMBER` wins, whatever order the requests arrive in; an equal one leaves the row
 *    as it is (and is counted in `ties`, with `conflicts` when its content differed);
 *  - only the `_default` stream takes CDC rows, as in BigQuery.
 * The sequence numbers applied are kept in the DuckDB file's schema `_cdc`, beside the tables.
 */

const STORAGE_DIR = dirname(require.resolve('@google-cloud/bigquery-storage/package.json'));
const PROTOS = join(STORAGE_DIR, 'build', 'protos');
/** google/api and google/rpc protos that storage.proto imports: google-gax ships them (build/src/index.js → build/protos). */
const GAX_PROTOS = join(dirname(dirname(require.resolve('google-gax', { paths: [STORAGE_DIR] }))), 'protos');

export interface StandInOptions {
  /** the DuckDB file of a project's dataset */
  pathFor(project: string, dataset: string): string;
  schemas?: Map<string, SchemaField[]>;
}

/** BigQuery's TIMESTAMP range. */
const MIN_TIMESTAMP_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_TIMESTAMP_MS = Date.parse('9999-12-31T23:59:59.999Z');
/** The Write API's names of the schema files' types (TableFieldSchema.Type). */
const STORAGE_TYPE: Record<SchemaField['type'], string> = {
  STRING: 'STRING',
  FLOAT: 'DOUBLE',
  INTEGER: 'INT64',
  BOOLEAN: 'BOOL',
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'JSON',
};

interface AppendRowsRequest {
  writeStream?: string;
  offset?: { value?: string } | null;
  protoRows?: { writerSchema?: { protoDescriptor?: unknown } | null; rows?: { serializedRows?: Buffer[] } | null } | null;
  arrowRows?: unknown;
}

interface Status {
  code: number;
  message: string;
}

export class WriteApiStandIn {
  private server: grpc.Server | null = null;
  private readonly schemas: Map<string, SchemaField[]>;
  /** Applies requests one at a time: DuckDB has one writer per file. */
  private queue: Promise<unknown> = Promise.resolve();
  private failures: Status[] = [];
  port = 0;
  /** what it was sent and did, for tests and benches */
  readonly stats = { requests: 0, rows: 0, applied: 0, stale: 0, ties: 0, conflicts: 0, rowErrors: 0 };
  /**
   * per table: rows and bytes received (serialized proto rows: what the Write API bills), what the same rows
   * would bill through insertAll (the JSON row, at least 1 KB each), and early-pane rows (is_final = false)
   */
  readonly tables = new Map<string, { rows: number; protoBytes: number; insertAllBytes: number; earlyRows: number }>();

  constructor(private readonly o: StandInOptions) {
    this.schemas = o.schemas ?? loadSchemas();
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The next `n` AppendRows requests fail with this gRPC status on the stream (a transient fault: UNAVAILABLE). */
  failNext(n: number, code: grpc.status = grpc.status.UNAVAILABLE, message = 'injected by the stand-in'): void {
    for (let i = 0; i < n; i++) this.failures.push({ code, message });
  }

  async start(port = 0): Promise<this> {
    const def = protoLoader.loadSync('google/cloud/bigquery/storage/v1/storage.proto', {
      includeDirs: [PROTOS, GAX_PROTOS],
      longs: String,
      defaults: false,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      google: { cloud: { bigquery: { storage: { v1: { BigQueryWrite: grpc.ServiceClientConstructor } } } } };
    };
    const service = pkg.google.cloud.bigquery.storage.v1.BigQueryWrite.service;
    const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in the stand-in' });
    const server = new grpc.Server();
    server.addService(service, {
      appendRows: (call: grpc.ServerDuplexStream<AppendRowsRequest, unknown>) => this.appendRows(call),
      getWriteStream: (call: grpc.ServerUnaryCall<{ name?: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const t = this.parse(call.request.name ?? '');
        if ('code' in t) return cb({ code: t.code, details: t.message });
        const fields = this.schemas.get(t.table)!;
        cb(null, {
          name: call.request.name,
          type: 'COMMITTED',
          tableSchema: { fields: fields.map((f) => ({ name: f.name, type: STORAGE_TYPE[f.type], mode: f.mode ?? 'NULLABLE' })) },
        });
      },
      createWriteStream: unimplemented,
      finalizeWriteStream: unimplemented,
      batchCommitWriteStreams: unimplemented,
      flushRows: unimplemented,
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
    return this;
  }

  private scratchDb: Promise<DuckDbWarehouse> | null = null;
  private scratch(): Promise<DuckDbWarehouse> {
    this.scratchDb ??= DuckDbWarehouse.open(':memory:');
    return this.scratchDb;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
    await this.queue.catch(() => undefined);
    const scratch = this.scratchDb;
    this.scratchDb = null;
    await (await scratch)?.close();
  }

  /** `projects/P/datasets/D/tables/T/streams/S`: the table, or the status to answer. */
  private parse(name: string): { project: string; dataset: string; table: string; stream: string } | Status {
    const m = /^projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/streams\/([^/]+)$/.exec(name);
    if (!m) return { code: grpc.status.INVALID_ARGUMENT, message: `not a write stream name: ${name}` };
    const [, project, dataset, table, stream] = m as unknown as [string, string, string, string, string];
    if (!this.schemas.has(table)) return { code: grpc.status.NOT_FOUND, message: `Table ${table} not found in ${project}:${dataset}` };
    if (stream !== '_default') {
      return { code: grpc.status.NOT_FOUND, message: `stream ${stream} not found (the stand-in has only _default)` };
    }
    return { project, dataset, table, stream };
  }

  private appendRows(call: grpc.ServerDuplexStream<AppendRowsRequest, unknown>): void {
    // Per connection, as in BigQuery: the first request names the stream and carries the writer schema;
    // later ones may leave either out.
    let stream = '';
    let type: protobuf.Type | null = null;
    let chain: Promise<void> = Promise.resolve();
    call.on('data', (req: AppendRowsRequest) => {
      chain = chain
        .then(async () => {
          this.stats.requests++;
          const injected = this.failures.shift();
          if (injected) {
            call.emit('error', { code: injected.code, details: injected.message });
            return;
          }
          if (req.writeStream) stream = req.writeStream;
          const t = this.parse(stream);
          if ('code' in t) return void call.write({ error: t, writeStream: stream });
          const invalid = (message: string) =>
            void call.write({ error: { code: grpc.status.INVALID_ARGUMENT, message }, writeStream: stream });
          if (req.arrowRows) return invalid('CDC needs proto rows');
          if (req.offset) return invalid('the default stream takes no offset');
          const d = req.protoRows?.writerSchema?.protoDescriptor;
          if (d) type = typeFromDescriptor(d);
          if (!type) return invalid('no writer schema on this connection');
          const rows = req.protoRows?.rows?.serializedRows ?? [];
          const answer = await this.enqueue(() => this.apply(t, type!, rows));
          call.write({ ...answer, writeStream: stream });
        })
        .catch((err: unknown) => {
          call.emit('error', { code: grpc.status.INTERNAL, details: String((err as Error)?.message ?? err) });
        });
    });
    call.on('end', () => void chain.then(() => call.end()));
  }

  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async apply(
    t: { project: string; dataset: string; table: string },
    type: protobuf.Type,
    serialized: Buffer[],
  ): Promise<Record<string, unknown>> {
    const fields = this.schemas.get(t.table)!;
    this.stats.rows += serialized.length;
    const rowErrors: { index: number; code: string; message: string }[] = [];
    const decoded: { index: number; row: Row; change: string; seq: string }[] = [];
    serialized.forEach((bytes, index) => {
      try {
        const obj = type.toObject(type.decode(bytes), { longs: String, defaults: false }) as Record<string, unknown>;
        const r = rowOf(obj, fields);
        if ('error' in r) rowErrors.push({ index, code: 'FIELDS_ERROR', message: r.error });
        else decoded.push({ index, ...r });
        const t0 = this.tables.get(t.table) ?? { rows: 0, protoBytes: 0, insertAllBytes: 0, earlyRows: 0 };
        t0.rows++;
        t0.protoBytes += bytes.length;
        t0.insertAllBytes += Math.max(1024, Buffer.byteLength(JSON.stringify('error' in r ? obj : r.row)));
        if ('row' in r && r.row['is_final'] === false) t0.earlyRows++;
        this.tables.set(t.table, t0);
      } catch (err) {
        rowErrors.push({ index, code: 'FIELDS_ERROR', message: `could not decode the row: ${(err as Error).message}` });
      }
    });
    const wh = rowErrors.length > 0 ? null : await DuckDbWarehouse.open(this.o.pathFor(t.project, t.dataset));
    try {
      if (wh) {
        await wh.query('CREATE SCHEMA IF NOT EXISTS _cdc');
        await wh.query(
          'CREATE TABLE IF NOT EXISTS _cdc.sequences (table_name VARCHAR, row_id VARCHAR, seq VARCHAR, PRIMARY KEY (table_name, row_id))',
        );
        // Within the request, then against the table: per row_id the highest sequence number.
        const latest = new Map<string, (typeof decoded)[number]>();
        for (const d of decoded) {
          const prev = latest.get(d.row.row_id);
          if (!prev || compareChangeSequence(d.seq, prev.seq) >= 0) latest.set(d.row.row_id, d);
          if (prev) this.stats.stale++;
        }
        const ids = [...latest.keys()];
        const have = new Map<string, string>();
        for (let i = 0; i < ids.length; i += 500) {
          const list = ids
            .slice(i, i + 500)
            .map(sqlText)
            .join(', ');
          const sql = `SELECT row_id, seq FROM _cdc.sequences WHERE table_name = ${sqlText(t.table)} AND row_id IN (${list})`;
          for (const r of await wh.query(sql)) {
            have.set(String(r['row_id']), String(r['seq']));
          }
        }
        const upserts: Row[] = [];
        const deletes: string[] = [];
        const applied: (typeof decoded)[number][] = [];
        for (const d of latest.values()) {
          const old = have.get(d.row.row_id);
          const cmp = old === undefined ? 1 : compareChangeSequence(d.seq, old);
          if (cmp < 0) {
            this.stats.stale++;
            continue;
          }
          if (cmp === 0) {
            this.stats.ties++;
            const [cur] = await wh.query(`SELECT * FROM ${LOCAL_DATASET}."${t.table}" WHERE row_id = ${sqlText(d.row.row_id)}`);
            if (d.change === 'UPSERT' && cur && !sameRow(cur, d.row, fields)) this.stats.conflicts++;
            continue;
          }
          applied.push(d);
          if (d.change === 'DELETE') deletes.push(d.row.row_id);
          else upserts.push(d.row);
        }
        // All or nothing: the rows go first into an empty in-memory copy of the tables, where DuckDB names
        // any it refuses; only a request with none is applied to the file.
        const scratch = await this.scratch();
        const { rejected } = await scratch.upsert(t.table, upserts);
        await scratch.query(`DELETE FROM ${LOCAL_DATASET}."${t.table}"`);
        for (const r of rejected) {
          const d = applied.find((x) => x.row === r.row)!;
          rowErrors.push({ index: d.index, code: 'FIELDS_ERROR', message: `${r.reason}: ${r.error}` });
        }
        if (rowErrors.length === 0) {
          for (const id of deletes) await wh.query(`DELETE FROM ${LOCAL_DATASET}."${t.table}" WHERE row_id = ${sqlText(id)}`);
          const again = await wh.upsert(t.table, upserts);
          if (again.rejected.length > 0) throw new Error(`DuckDB refused rows it took in memory: ${again.rejected[0]!.error}`);
          for (let i = 0; i < applied.length; i += 500) {
            const values = applied.slice(i, i + 500).map((d) => `(${sqlText(t.table)}, ${sqlText(d.row.row_id)}, ${sqlText(d.seq)})`);
            await wh.query(`INSERT OR REPLACE INTO _cdc.sequences VALUES ${values.join(', ')}`);
          }
          this.stats.applied += applied.length;
        }
      }
    } finally {
      await wh?.close();
    }
    if (rowErrors.length > 0) {
      this.stats.rowErrors += rowErrors.length;
      return {
        error: { code: grpc.status.INVALID_ARGUMENT, message: `${rowErrors.length} row(s) refused; nothing of this request was written` },
        rowErrors: rowErrors.sort((a, b) => a.index - b.index),
      };
    }
    return { appendResult: {} };
  }
}

/** protobufjs builds the message type from the DescriptorProto the client sent (proto-loader's plain object). */
function typeFromDescriptor(d: unknown): protobuf.Type {
  const { Type } = protobuf as unknown as { Type: { fromDescriptor(d: unknown, syntax?: string): protobuf.Type } };
  const desc = Type.fromDescriptor(normaliseDescriptor(d), 'proto2');
  new protobuf.Root().add(desc);
  desc.resolveAll();
  return desc;
}

/** proto-loader gives enum values as their names; protobufjs' descriptor reader wants the numbers. */
function normaliseDescriptor(d: unknown): unknown {
  const ext = require('protobufjs/ext/descriptor') as { DescriptorProto: { fromObject(o: unknown): unknown } };
  return ext.DescriptorProto.fromObject(d);
}

/** A decoded row back in the flush's shape (as DuckDbWarehouse takes it), or the schema's objection. */
function rowOf(
  obj: Record<string, unknown>,
  fields: readonly SchemaField[],
): { row: Row; change: string; seq: string } | { error: string } {
  const change = String(obj['_CHANGE_TYPE'] ?? '');
  if (change !== 'UPSERT' && change !== 'DELETE') {
    return { error: `_CHANGE_TYPE must be UPSERT or DELETE, got ${JSON.stringify(obj['_CHANGE_TYPE'] ?? null)}` };
  }
  const seq = String(obj['_CHANGE_SEQUENCE_NUMBER'] ?? '');
  if (!/^[0-9A-Fa-f]{1,16}(\/[0-9A-Fa-f]{1,16}){0,3}$/.test(seq)) {
    return { error: `_CHANGE_SEQUENCE_NUMBER ${JSON.stringify(seq)} is not up to four '/'-separated hexadecimal sections` };
  }
  const row: Record<string, unknown> = {};
  for (const f of fields) {
    let v = obj[f.name];
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0 && f.mode !== 'REPEATED')) {
      if (f.mode === 'REQUIRED' && change === 'UPSERT') return { error: `${f.name}: missing required field` };
      row[f.name] = f.mode === 'REPEATED' ? [] : null;
      continue;
    }
    const one = (x: unknown): unknown => {
      switch (f.type) {
        case 'TIMESTAMP': {
          const ms = Number(BigInt(String(x)) / 1000n);
          const dt = new Date(ms);
          if (Number.isNaN(dt.getTime()) || ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
            throw new RangeError(`${f.name}: timestamp out of range`);
          }
          return dt.toISOString();
        }
        case 'INTEGER': {
          const n = BigInt(String(x));
          return Number.isSafeInteger(Number(n)) ? Number(n) : n;
        }
        case 'JSON':
          try {
            return JSON.parse(String(x));
          } catch {
            throw new SyntaxError(`${f.name}: invalid JSON text ${JSON.stringify(String(x).slice(0, 100))}`);
          }
        default:
          return x;
      }
    };
    try {
      v = f.mode === 'REPEATED' ? (v as unknown[]).map(one) : one(v);
    } catch (err) {
      return { error: (err as Error).message };
    }
    row[f.name] = v;
  }
  if (typeof row['row_id'] !== 'string') return { error: 'row_id: the primary key is missing' };
  return { row: row as Row, change, seq };
}

function sqlText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sameRow(cur: Record<string, unknown>, row: Row, fields: readonly SchemaField[]): boolean {
  const norm = (v: unknown, f: SchemaField) => {
    if (v === null || v === undefined) return null;
    if (f.type === 'TIMESTAMP') return new Date(String(v).replace(' ', 'T') + (/[Z+]/.test(String(v)) ? '' : 'Z')).getTime();
    if (f.type === 'JSON') return JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v);
    return JSON.stringify(v);
  };
  return fields.every((f) => norm(cur[f.name], f) === norm(row[f.name], f));
}
