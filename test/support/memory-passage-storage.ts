import type { Clock } from '../../shared/core/clock.js';
import type * as port from '../../shared/speed/passage-storage.js';

type Stored = { record: unknown; version: number };

const path = (key: port.RecordKey) => (key.table === 'log' ? `log/${key.radarId}/${key.id}` : `${key.table}/${key.id}`);

/**
 * The passage storage port in memory, for unit tests of the state machine's steps: transactions are
 * optimistic (a transaction whose reads changed before it commits runs again, as Firestore's do), a
 * write with a precondition fails when the version moved, and 'commit' export stamps take the clock's
 * time. `failCommits` makes the next commits throw after their work ran (a crash before the commit).
 */
export class MemoryPassageStorage implements port.PassageStorage {
  private readonly records = new Map<string, Stored>();
  private readonly marks: { ids: string[]; expireAtMs: number }[] = [];
  private readonly log = new Map<string, { seq: number; createdAtMs: number; items: port.LoggedObservation[] }[]>();
  private version = 0;
  private seq = 0;
  /** operations by purpose, as the Firestore adapter counts them */
  readonly ops: Record<string, { reads: number; writes: number; deletes: number; transactions: number }> = {};
  failCommits = 0;

  constructor(private readonly clock: Clock) {}

  private count(purpose: string, op: 'reads' | 'writes' | 'deletes' | 'transactions', n = 1): void {
    (this.ops[purpose] ??= { reads: 0, writes: 0, deletes: 0, transactions: 0 })[op] += n;
  }
  /** all operations, summed over purposes */
  total(): { reads: number; writes: number; deletes: number; transactions: number } {
    const t = { reads: 0, writes: 0, deletes: 0, transactions: 0 };
    for (const o of Object.values(this.ops)) for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += o[k];
    return t;
  }

  /** a record as stored now (a copy), for assertions */
  peek<K extends port.PutKey>(key: K): port.RecordOf<K> | null {
    const s = this.records.get(path(key));
    return s ? (structuredClone(s.record) as port.RecordOf<K>) : null;
  }
  /** ids of a table's records */
  ids(table: port.PassageTable): string[] {
    return [...this.records.keys()].filter((k) => k.startsWith(`${table}/`)).map((k) => k.slice(table.length + 1));
  }
  /** the log entries of a radar still in the log */
  logSize(radarId: string): number {
    return (this.log.get(radarId) ?? []).length;
  }

  private stamp(record: unknown): unknown {
    const r = structuredClone(record) as port.PassageRecord;
    if (r && typeof r === 'object' && 'exportAt' in r && r.exportAt === 'commit') r.exportAt = this.clock.now();
    return r;
  }

  async transact<T>(purpose: string, keys: readonly port.RecordKey[], work: (tx: port.PassageTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < 20; attempt++) {
      this.count(purpose, 'transactions');
      this.count(purpose, 'reads', keys.length);
      const read = new Map(keys.map((k) => [path(k), this.records.get(path(k))]));
      const writes: (() => void)[] = [];
      const tx: port.PassageTransaction = {
        get: <K extends port.RecordKey>(key: K): port.RecordOf<K> | null => {
          if (!read.has(path(key))) throw new Error(`${path(key)} was not read in this transaction`);
          const s = read.get(path(key));
          return s ? (structuredClone(s.record) as port.RecordOf<K>) : null;
        },
        put: (key, record) => {
          const copy = structuredClone(record);
          writes.push(() => this.records.set(path(key), { record: this.stamp(copy), version: ++this.version }));
        },
        delete: (key) => {
          writes.push(() => {
            if (key.table === 'log')
              this.log.set(
                key.radarId,
                (this.log.get(key.radarId) ?? []).filter((e) => String(e.seq) !== key.id),
              );
            else this.records.delete(path(key));
          });
        },
      };
      const result = await work(tx);
      if (this.failCommits > 0) {
        this.failCommits--;
        throw new Error('injected: the commit failed');
      }
      // Optimistic: commit only if nothing read changed meanwhile; else run again on fresh reads.
      if ([...read].some(([p, s]) => this.records.get(p) !== s)) continue;
      for (const w of writes) w();
      this.count(purpose, 'writes', writes.length);
      return result;
    }
    throw new Error('ABORTED: too much contention');
  }

  async read<K extends port.PutKey>(purpose: string, key: K): Promise<{ record: port.RecordOf<K> | null; version: string | null }> {
    this.count(purpose, 'reads');
    const s = this.records.get(path(key));
    return { record: s ? (structuredClone(s.record) as port.RecordOf<K>) : null, version: s ? String(s.version) : null };
  }

  async putIf<K extends port.PutKey>(purpose: string, key: K, record: port.RecordOf<K>, version: string | null): Promise<boolean> {
    const s = this.records.get(path(key));
    if (version === null ? s !== undefined : s === undefined || String(s.version) !== version) return false;
    this.records.set(path(key), { record: this.stamp(record), version: ++this.version });
    this.count(purpose, 'writes');
    return true;
  }

  private passages(table: port.PassageTable): port.StoredPassage[] {
    return this.ids(table).map((id) => ({ id, record: structuredClone(this.records.get(`${table}/${id}`)!.record) as port.PassageRecord }));
  }

  async dueOpen(atMs: number, limit: number): Promise<string[]> {
    this.count('find_expired', 'reads');
    return this.passages('passages')
      .filter((p) => p.record.expiresAtMs !== null && p.record.expiresAtMs <= atMs)
      .slice(0, limit)
      .map((p) => p.id);
  }

  async scanExported(purpose: string, table: port.PassageTable, from: number, to: number, limit: number): Promise<port.StoredPassage[]> {
    this.count(purpose, 'reads');
    const at = (p: port.StoredPassage) => p.record.exportAt as number;
    return this.passages(table)
      .filter((p) => typeof p.record.exportAt === 'number' && at(p) >= from && at(p) < to)
      .sort((a, b) => at(a) - at(b))
      .slice(0, limit);
  }

  async deleteRecords(purpose: string, table: port.PassageTable, ids: readonly string[]): Promise<void> {
    for (const id of ids) this.records.delete(`${table}/${id}`);
    this.count(purpose, 'deletes', ids.length);
  }

  async addPublishMark(ids: readonly string[], expireAtMs: number): Promise<void> {
    this.marks.push({ ids: [...ids], expireAtMs });
    this.count('publish_mark', 'writes');
  }

  async publishMarked(ids: readonly string[]): Promise<Set<string>> {
    this.count('publish_mark_lookup', 'reads');
    return new Set(ids.filter((id) => this.marks.some((m) => m.ids.includes(id))));
  }

  async appendLog(radarId: string, items: readonly port.LoggedObservation[]): Promise<void> {
    this.log.set(radarId, [...(this.log.get(radarId) ?? []), { seq: ++this.seq, createdAtMs: this.clock.now(), items: [...items] }]);
    this.count('log_append', 'writes');
  }

  async readLog(radarId: string, after: port.LogCursor | null, limit: number): Promise<port.LogPage> {
    this.count('log_read', 'reads');
    const page = (this.log.get(radarId) ?? []).filter((e) => after === null || e.seq > after.seconds).slice(0, limit);
    const entries = page.map((e) => ({ id: String(e.seq), createdAtMs: e.createdAtMs, items: e.items }));
    const last = page[page.length - 1];
    return { entries, last: last ? { seconds: last.seq, nanos: 0 } : null };
  }
}
