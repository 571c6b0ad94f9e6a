import type { InboundMessage } from '../core/pubsub-message.js';
import type { Observation } from './observation.js';
import type { PassageState } from './passage.js';

/**
 * The storage port of the speed path: typed records read and written inside transactions, a write with a
 * precondition, and the queries the flush and the sweep need. It decides nothing: which observations join
 * which passage, closing, what to publish and the publish bookkeeping are passage-store.ts's (with
 * passage.ts's state machine). Firestore in Google Cloud and on the emulator
 * (shared/platform/firestore/firestore-passage-storage.ts); in memory for the unit tests.
 */

/** A passage as stored: its state and the bookkeeping kept beside it. */
export interface PassageRecord {
  state: PassageState;
  /** the passage id of a decision whose publish is not known to be recorded (a publish mark), or null */
  pendingPublish: string | null;
  /** open passages: processing time, ms, when the session gap expires (`dueOpen` queries it); null when closed */
  expiresAtMs: number | null;
  /**
   * closed passages to export: written as 'commit', the store stamps the record with its commit time;
   * read back as that time in ms (`scanExported` ranges over it); null: not exported from this record
   */
  exportAt: 'commit' | number | null;
  /** when the record may be deleted (the store's TTL deletes it after that, possibly a day late); null: never */
  expireAtMs: number | null;
}

/** One radar's sweep lease. */
export interface LeaseRecord {
  owner: string | null;
  untilMs: number;
}

/** `passages`: one record per (radar, vehicle), its current passage; `archive`: displaced closed passages, by passage id. */
export type PassageTable = 'passages' | 'archive';

export type RecordKey =
  | { table: PassageTable; id: string }
  /** one per radar */
  | { table: 'leases'; id: string }
  /** an entry of a radar's observation log (appended by `appendLog`; deleted in the sweep's transaction) */
  | { table: 'log'; radarId: string; id: string };

/** the keys of records written whole (log entries are appended and deleted, never put) */
export type PutKey = Exclude<RecordKey, { table: 'log' }>;

export type RecordOf<K extends RecordKey> = K['table'] extends 'leases'
  ? LeaseRecord
  : K['table'] extends PassageTable
    ? PassageRecord
    : never;

/** What a transaction sees and does: the records read when it started, and the writes it commits together. */
export interface PassageTransaction {
  /** a record read at the start of the transaction (only the keys given to `transact`); null when absent */
  get<K extends RecordKey>(key: K): RecordOf<K> | null;
  /** writes the whole record (replaces what was there) */
  put<K extends PutKey>(key: K, record: RecordOf<K>): void;
  delete(key: RecordKey): void;
}

/** An observation as the log keeps it: the observation, and the message it came in (for a dead letter). */
export interface LoggedObservation {
  obs: Observation;
  msg: InboundMessage;
}

/** One log entry: the observations one instance committed together, in commit order. */
export interface LogEntry {
  id: string;
  /** server commit time, ms (the log's order) */
  createdAtMs: number;
  items: LoggedObservation[];
}

/** Where an episode has read a radar's log up to (the commit time of the last entry it read). */
export interface LogCursor {
  /** a commit time as seconds and nanoseconds (commit times are finer than ms) */
  seconds: number;
  nanos: number;
}

/** A page of a radar's log, and where the next page starts. */
export interface LogPage {
  entries: LogEntry[];
  last: LogCursor | null;
}

/** A stored passage found by a scan, with its key's id. */
export interface StoredPassage {
  id: string;
  record: PassageRecord;
}

/**
 * `purpose` names what an operation is for: the store counts its billable operations by it (the load bench
 * reports where the cost goes).
 */
export interface PassageStorage {
  /**
   * Reads `keys` (one round trip), runs `work` and commits its writes atomically; the reads are locked or
   * checked at commit, so two transactions on one record never both commit on a stale read. On contention
   * the store runs `work` again on fresh reads: `work` may run more than once, so what it does beyond
   * `tx` must be idempotent.
   */
  transact<T>(purpose: string, keys: readonly RecordKey[], work: (tx: PassageTransaction) => Promise<T>): Promise<T>;
  /** One record and its version (null when absent), outside a transaction. */
  read<K extends PutKey>(purpose: string, key: K): Promise<{ record: RecordOf<K> | null; version: string | null }>;
  /**
   * Writes a record only if it is still at `version` (as `read` returned it), or, with null, only if it does
   * not exist: a blind write that takes no lock. False when the precondition failed (nothing written).
   */
  putIf<K extends PutKey>(purpose: string, key: K, record: RecordOf<K>, version: string | null): Promise<boolean>;

  /** ids of `passages` records whose `expiresAtMs` is at or before `atMs`, at most `limit` */
  dueOpen(atMs: number, limit: number): Promise<string[]>;
  /** records of a table whose export time (`exportAt`, the commit time) lies in [fromMs, toMs), oldest first, at most `limit` */
  scanExported(purpose: string, table: PassageTable, fromMs: number, toMs: number, limit: number): Promise<StoredPassage[]>;
  /** deletes these records (batched, not transactional) */
  deleteRecords(purpose: string, table: PassageTable, ids: readonly string[]): Promise<void>;

  /** records that these passage ids were published, in one new mark kept until `expireAtMs` */
  addPublishMark(ids: readonly string[], expireAtMs: number): Promise<void>;
  /** which of these passage ids have a publish mark */
  publishMarked(ids: readonly string[]): Promise<Set<string>>;

  /** appends one entry to a radar's log (one blind create), kept at most until `expireAtMs` */
  appendLog(radarId: string, items: readonly LoggedObservation[], expireAtMs: number): Promise<void>;
  /** the radar's log entries in commit order: those committed after `after`, or from the start (null) */
  readLog(radarId: string, after: LogCursor | null, limit: number): Promise<LogPage>;
}
