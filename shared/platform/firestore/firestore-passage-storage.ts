import { randomUUID } from 'node:crypto';
import { FieldValue, Timestamp, type DocumentData, type DocumentReference, type DocumentSnapshot } from '@google-cloud/firestore';
import type { Observation } from '../../speed/observation.js';
import type { PassageState } from '../../speed/passage.js';
import type * as port from '../../speed/passage-storage.js';
import { FirestoreStore, type FirestoreContext } from './store.js';

export interface PassageCollections {
  passages: string;
  archive: string;
  /** `<passageLog>/<radar>/passage_log_entries/<id>`: observations waiting for the radar's sweep */
  passageLog: string;
  /** one document per radar: the sweep lease */
  passageSweeps: string;
  /** one document per group of published decisions (the "publish done" marks) */
  published: string;
}

/** The log's documents live in this subcollection of their radar's document (one TTL policy for all radars). */
export const LOG_ENTRIES = 'passage_log_entries';

/** The fields of a passage document that only some records carry. */
const PASSAGE_OPTIONAL = ['expireAt', 'expiresAt', 'exportAt', 'pendingPublish'];

type Ops = { reads: number; writes: number; deletes: number; transactions: number };

/**
 * The speed path's records in Firestore: it stores and decides nothing (shared/speed/passage-store.ts
 * decides what to write). A passage record is a document of `passages` (id: radar~vehicle) or `archive`
 * (id: the passage id) with the state's fields, `pendingPublish.{passageId}: true`, `expiresAt` (open
 * passages: the flush's query), `exportAt` (the server's commit time: the export watermark ranges over it)
 * and `expireAt` (the TTL policy's field). A lease is `{owner, untilMs}` in `passageSweeps/<radar>`, its
 * version the document's update time. Log entries and publish marks are created once, with a server
 * timestamp and `expireAt`.
 */
export class FirestorePassageStorage extends FirestoreStore implements port.PassageStorage {
  /** the same operations as `ops`, by what they were for (the load bench reports where the cost goes) */
  readonly opsByKind: Record<string, Ops> = {};

  constructor(
    ctx: FirestoreContext,
    private readonly collections: PassageCollections,
  ) {
    super(ctx);
  }

  private count(kind: string, op: keyof Ops, n = 1): void {
    this.ops[op] += n;
    (this.opsByKind[kind] ??= { reads: 0, writes: 0, deletes: 0, transactions: 0 })[op] += n;
  }

  private ref(key: port.RecordKey): DocumentReference {
    switch (key.table) {
      case 'passages':
      case 'archive':
        return this.db.collection(this.collections[key.table]).doc(key.id);
      case 'leases':
        return this.db.collection(this.collections.passageSweeps).doc(key.id);
      case 'log':
        return this.logOf(key.radarId).doc(key.id);
    }
  }
  private logOf(radarId: string) {
    return this.db.collection(this.collections.passageLog).doc(radarId).collection(LOG_ENTRIES);
  }

  async transact<T>(purpose: string, keys: readonly port.RecordKey[], work: (tx: port.PassageTransaction) => Promise<T>): Promise<T> {
    const refs = keys.map((k) => this.ref(k));
    return this.db.runTransaction(async (t) => {
      this.count(purpose, 'transactions');
      const snaps = refs.length === 0 ? [] : refs.length === 1 ? [await t.get(refs[0]!)] : await t.getAll(...refs);
      this.count(purpose, 'reads', snaps.length);
      const read = new Map(snaps.map((s) => [s.ref.path, s]));
      return work({
        get: <K extends port.RecordKey>(key: K): port.RecordOf<K> | null => {
          const snap = read.get(this.ref(key).path);
          if (!snap) throw new Error(`${key.table}/${key.id} was not read in this transaction`);
          return decode(key, snap);
        },
        put: (key, record) => {
          t.set(this.ref(key), encode(key, record));
          this.count(purpose, 'writes');
        },
        delete: (key) => {
          t.delete(this.ref(key));
          this.count(purpose, 'deletes');
        },
      });
    });
  }

  async read<K extends port.PutKey>(purpose: string, key: K): Promise<{ record: port.RecordOf<K> | null; version: string | null }> {
    const snap = await this.ref(key).get();
    this.count(purpose, 'reads');
    return { record: decode(key, snap), version: snap.updateTime ? `${snap.updateTime.seconds}:${snap.updateTime.nanoseconds}` : null };
  }

  async putIf<K extends port.PutKey>(purpose: string, key: K, record: port.RecordOf<K>, version: string | null): Promise<boolean> {
    const ref = this.ref(key);
    const data = encode(key, record);
    try {
      if (version === null) await ref.create(data);
      else {
        // update() takes the precondition (set() does not); the fields the record leaves out are removed, as set() would.
        const [seconds, nanos] = version.split(':').map(Number);
        const absent = key.table === 'leases' ? [] : PASSAGE_OPTIONAL.filter((f) => !(f in data));
        await ref.update(
          { ...data, ...Object.fromEntries(absent.map((f) => [f, FieldValue.delete()])) },
          {
            lastUpdateTime: new Timestamp(seconds!, nanos!),
          },
        );
      }
      this.count(purpose, 'writes');
      return true;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 6 || code === 9) return false; // ALREADY_EXISTS, FAILED_PRECONDITION: another writer came first
      throw err;
    }
  }

  async dueOpen(atMs: number, limit: number): Promise<string[]> {
    const snap = await this.db
      .collection(this.collections.passages)
      .where('expiresAt', '<=', Timestamp.fromMillis(atMs))
      .limit(limit)
      .get();
    this.count('find_expired', 'reads', Math.max(1, snap.size));
    return snap.docs.map((d) => d.id);
  }

  async scanExported(purpose: string, table: port.PassageTable, from: number, to: number, limit: number): Promise<port.StoredPassage[]> {
    const page = await this.scanByExportAt(this.collections[table], from, to, limit); // counts ops.reads
    (this.opsByKind[purpose] ??= { reads: 0, writes: 0, deletes: 0, transactions: 0 }).reads += Math.max(1, page.length);
    return page.map(({ id, data }) => ({ id, record: toRecord(data) }));
  }

  async deleteRecords(purpose: string, table: port.PassageTable, ids: readonly string[]): Promise<void> {
    const collection = this.db.collection(this.collections[table]);
    await this.inBatches(ids, (wb, id) => wb.delete(collection.doc(id)), 'deletes'); // counts ops.deletes
    (this.opsByKind[purpose] ??= { reads: 0, writes: 0, deletes: 0, transactions: 0 }).deletes += ids.length;
  }

  async addPublishMark(ids: readonly string[], expireAtMs: number): Promise<void> {
    await this.db
      .collection(this.collections.published)
      .doc(randomUUID())
      .create({ ids: [...ids], createdAt: FieldValue.serverTimestamp(), expireAt: Timestamp.fromMillis(expireAtMs) });
    this.count('publish_mark', 'writes');
  }

  async publishMarked(ids: readonly string[]): Promise<Set<string>> {
    const marks = this.db.collection(this.collections.published);
    if (ids.length === 1) {
      const snap = await marks.where('ids', 'array-contains', ids[0]).limit(1).get();
      this.count('publish_mark_lookup', 'reads');
      return new Set(snap.empty ? [] : ids);
    }
    // array-contains-any takes 30 values at a time
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 30) {
      const chunk = ids.slice(i, i + 30);
      const snap = await marks.where('ids', 'array-contains-any', chunk).get();
      this.count('publish_mark_lookup', 'reads', Math.max(1, snap.size));
      for (const d of snap.docs) for (const id of d.data()['ids'] as string[]) if (chunk.includes(id)) found.add(id);
    }
    return found;
  }

  async appendLog(radarId: string, items: readonly port.LoggedObservation[], expireAtMs: number): Promise<void> {
    await this.logOf(radarId)
      .doc()
      .create({
        // One string field: one index entry however many observations the entry holds.
        items: JSON.stringify(
          items.map(({ obs, msg }) => ({
            o: obs,
            m: { d: msg.data.toString('base64'), a: msg.attributes, id: msg.messageId, pt: msg.publishTimeMs },
          })),
        ),
        createdAt: FieldValue.serverTimestamp(),
        expireAt: Timestamp.fromMillis(expireAtMs),
      });
    this.count('log_append', 'writes');
  }

  async readLog(radarId: string, after: port.LogCursor | null, limit: number): Promise<port.LogPage> {
    let q = this.logOf(radarId).orderBy('createdAt');
    if (after) q = q.where('createdAt', '>', new Timestamp(after.seconds, after.nanos));
    const snap = await q.limit(limit).get();
    this.count('log_read', 'reads', Math.max(1, snap.size));
    const entries = snap.docs.map((doc) => {
      const raw = JSON.parse(doc.data()['items'] as string) as {
        o: Observation;
        m: { d: string; a: Record<string, string>; id: string; pt: number };
      }[];
      return {
        id: doc.id,
        createdAtMs: (doc.data()['createdAt'] as Timestamp).toMillis(),
        items: raw.map(({ o, m }) => ({
          obs: o,
          msg: { data: Buffer.from(m.d, 'base64'), attributes: m.a, messageId: m.id, publishTimeMs: m.pt },
        })),
      };
    });
    const lastDoc = snap.docs[snap.docs.length - 1];
    const at = lastDoc ? (lastDoc.data()['createdAt'] as Timestamp) : null;
    return { entries, last: at ? { seconds: at.seconds, nanos: at.nanoseconds } : null };
  }
}

function decode<K extends port.RecordKey>(key: K, snap: DocumentSnapshot): port.RecordOf<K> | null {
  if (!snap.exists) return null;
  const data = snap.data()!;
  if (key.table === 'log') throw new Error('log entries are read by readLog');
  if (key.table === 'leases')
    return { owner: typeof data['owner'] === 'string' ? data['owner'] : null, untilMs: data['untilMs'] ?? 0 } as port.RecordOf<K>;
  return toRecord(data) as port.RecordOf<K>;
}

function encode(key: port.RecordKey, record: port.PassageRecord | port.LeaseRecord): DocumentData {
  if (key.table === 'leases') {
    const lease = record as port.LeaseRecord;
    return { owner: lease.owner, untilMs: lease.untilMs };
  }
  const { state, pendingPublish, expiresAtMs, exportAt, expireAtMs } = record as port.PassageRecord;
  const doc: DocumentData = {
    radarId: state.radarId,
    vehicleId: state.vehicleId,
    status: state.status,
    obs: state.obs,
    firstSeenMs: state.firstSeenMs,
    lastSeenMs: state.lastSeenMs,
    lastArrivalMs: state.lastArrivalMs,
    decision: state.decision,
  };
  if (expireAtMs !== null) doc['expireAt'] = Timestamp.fromMillis(expireAtMs);
  if (expiresAtMs !== null) doc['expiresAt'] = Timestamp.fromMillis(expiresAtMs);
  if (exportAt === 'commit') doc['exportAt'] = FieldValue.serverTimestamp();
  else if (exportAt !== null) doc['exportAt'] = Timestamp.fromMillis(exportAt);
  if (pendingPublish !== null) doc['pendingPublish'] = { [pendingPublish]: true };
  return doc;
}

function toRecord(d: DocumentData): port.PassageRecord {
  const state: PassageState = {
    radarId: d['radarId'],
    vehicleId: d['vehicleId'],
    status: d['status'],
    obs: d['obs'] ?? {},
    firstSeenMs: d['firstSeenMs'],
    lastSeenMs: d['lastSeenMs'],
    lastArrivalMs: d['lastArrivalMs'],
    decision: d['decision'] ?? null,
  };
  return {
    state,
    pendingPublish: Object.keys((d['pendingPublish'] as Record<string, boolean> | undefined) ?? {})[0] ?? null,
    expiresAtMs: (d['expiresAt'] as Timestamp | undefined)?.toMillis() ?? null,
    exportAt: (d['exportAt'] as Timestamp | undefined)?.toMillis() ?? null,
    expireAtMs: (d['expireAt'] as Timestamp | undefined)?.toMillis() ?? null,
  };
}
