import { randomUUID } from 'node:crypto';
import { FieldValue, type DocumentSnapshot, type Timestamp } from '@google-cloud/firestore';
import type { WindowEvent } from '../../windows/aggregate.js';
import { decodeAcc, DigestSet, encodeAcc, type WindowShard } from '../../windows/window-state.js';
import type { EarlyPane, PipelineProbe, WindowBatch, WindowState, WindowStore } from '../../windows/window-store.js';
import { FirestoreStore, type FirestoreContext } from './store.js';

/** Events of one window as one batch document holds them: id → [key, time ms, values]. */
type StoredEvents = Record<string, [string, number, Record<string, number>]>;

/**
 * Window state without hot documents: every commit of an instance's buffered events creates new batch
 * documents (one per window), in collection `<prefix><pipeline>`, never updating one. No transaction,
 * no read, no contention however hot the key; about one write per window per group commit.
 * Per-window state documents record what the flush exported: the running aggregates and the digests
 * of the counted ids, in the state document or, for large windows, in shard documents beside it.
 */
export class FirestoreWindowStore extends FirestoreStore implements WindowStore {
  constructor(
    ctx: FirestoreContext,
    private readonly collections: { windowBatchesPrefix: string; windowState: string },
  ) {
    super(ctx);
  }

  private batches(pipeline: string) {
    return this.db.collection(`${this.collections.windowBatchesPrefix}${pipeline}`);
  }
  private stateRef(pipeline: string, windowStart: number) {
    return this.db.collection(this.collections.windowState).doc(`${pipeline}~${windowStart}`);
  }
  private shardRef(pipeline: string, windowStart: number, shard: number) {
    return this.db.collection(this.collections.windowState).doc(`${pipeline}~${windowStart}~${shard}`);
  }

  /**
   * Writes the events, grouped by window, in one atomic commit. Each batch records the greatest event
   * time of the whole commit (the data's progress) and the writer's clock.
   */
  async append(pipeline: string, windowSizeMs: number, events: readonly WindowEvent[]): Promise<void> {
    if (events.length === 0) return;
    const byWindow = new Map<number, StoredEvents>();
    let seenMaxMs = -Infinity;
    for (const e of events) {
      const start = Math.floor(e.timeMs / windowSizeMs) * windowSizeMs;
      let m = byWindow.get(start);
      if (!m) byWindow.set(start, (m = {}));
      m[e.id] = [e.key, e.timeMs, e.values];
      seenMaxMs = Math.max(seenMaxMs, e.timeMs);
    }
    const writtenAtMs = this.clock.now();
    const wb = this.db.batch();
    for (const [start, stored] of byWindow) {
      wb.create(this.batches(pipeline).doc(`${start}-${randomUUID()}`), {
        windowStart: start,
        windowEnd: start + windowSizeMs,
        events: stored,
        seenMaxMs,
        writtenAtMs,
        createdAt: FieldValue.serverTimestamp(),
        expireAt: this.expireAt(),
      });
      this.ops.writes++;
    }
    await wb.commit();
  }

  /** Earliest window end, latest write and greatest event time of the pipeline's batches; null when none. */
  async probe(pipeline: string): Promise<PipelineProbe | null> {
    const c = this.batches(pipeline);
    const [earliest, newest, furthest] = await Promise.all([
      c.orderBy('windowEnd').limit(1).select('windowEnd').get(),
      c.orderBy('writtenAtMs', 'desc').limit(1).select('writtenAtMs').get(),
      c.orderBy('seenMaxMs', 'desc').limit(1).select('seenMaxMs').get(),
    ]);
    this.ops.reads += 3;
    if (earliest.empty) return null;
    const num = (s: typeof earliest, f: string) => (s.empty ? -Infinity : ((s.docs[0]!.get(f) as number | undefined) ?? -Infinity));
    return { earliestEnd: num(earliest, 'windowEnd'), newestWrittenMs: num(newest, 'writtenAtMs'), maxSeenMs: num(furthest, 'seenMaxMs') };
  }

  /**
   * Batches of windows ending at or before `endAtMost`, earliest first, at most `limit` documents, with
   * the read time of the query. `full`: the limit was reached (the last window may be incomplete).
   */
  async batchesEndingBy(
    pipeline: string,
    endAtMost: number,
    limit: number,
  ): Promise<{ batches: WindowBatch[]; readTimeMs: number; full: boolean }> {
    const snap = await this.batches(pipeline).where('windowEnd', '<=', endAtMost).orderBy('windowEnd').limit(limit).get();
    this.ops.reads += Math.max(1, snap.size);
    return { batches: snap.docs.map(toBatch), readTimeMs: snap.readTime.toMillis(), full: snap.size >= limit };
  }

  /** All batches of one window, and the read time of that query. */
  async readWindow(pipeline: string, windowStart: number): Promise<{ batches: WindowBatch[]; readTimeMs: number }> {
    const snap = await this.batches(pipeline).where('windowStart', '==', windowStart).get();
    this.ops.reads += Math.max(1, snap.size);
    return { batches: snap.docs.map(toBatch), readTimeMs: snap.readTime.toMillis() };
  }

  async getState(pipeline: string, windowStart: number): Promise<WindowState> {
    const snap = await this.stateRef(pipeline, windowStart).get();
    this.ops.reads++;
    const d = snap.data();
    const shards = (d?.['shards'] as number | undefined) ?? 1;
    return {
      exported: d?.['exported'] === true,
      aggregatedAsOfMs: (d?.['aggregatedAsOfMs'] as number | undefined) ?? null,
      revision: (d?.['revision'] as number | undefined) ?? null,
      shards,
      inline:
        d?.['exported'] === true && shards === 1
          ? { acc: decodeAcc(d['acc'] as string | undefined), ids: DigestSet.fromBytes(d['ids']) }
          : null,
      early: d?.['exported'] !== true && d?.['early'] ? (d['early'] as EarlyPane) : null,
    };
  }

  /** Merged into the (not yet exported) window's state document; saveState's set replaces it at the export. */
  async saveEarlyPane(pipeline: string, windowStart: number, pane: EarlyPane): Promise<void> {
    await this.stateRef(pipeline, windowStart).set(
      { early: { asOfMs: pane.asOfMs, atMs: pane.atMs }, expireAt: this.expireAt() },
      { merge: true },
    );
    this.ops.writes++;
  }

  /** The listed shards of an exported window. */
  async getShards(pipeline: string, windowStart: number, state: WindowState, indexes: Iterable<number>): Promise<Map<number, WindowShard>> {
    const out = new Map<number, WindowShard>();
    if (state.inline) {
      out.set(0, state.inline);
      return out;
    }
    const wanted = [...new Set(indexes)];
    if (wanted.length === 0) return out;
    const snaps: DocumentSnapshot[] = await this.db.getAll(...wanted.map((i) => this.shardRef(pipeline, windowStart, i)));
    this.ops.reads += snaps.length;
    snaps.forEach((s, i) =>
      out.set(wanted[i]!, { acc: decodeAcc(s.get('acc') as string | undefined), ids: DigestSet.fromBytes(s.get('ids')) }),
    );
    return out;
  }

  /**
   * Records the window exported (or revised): first the shard documents when it has several, then the
   * state document. A crash in between leaves shards that already hold the new ids and aggregates, so
   * a rerun finds those events counted and recomputes nothing.
   */
  async saveState(
    pipeline: string,
    windowStart: number,
    s: { aggregatedAsOfMs: number; revision: number; shards: number; changed: ReadonlyMap<number, WindowShard> },
  ): Promise<void> {
    const encode = (sh: WindowShard) => ({ acc: encodeAcc(sh.acc), ids: sh.ids.bytes });
    if (s.shards > 1) {
      // A commit is limited to 10 MiB; a shard document holds up to about 1 MiB.
      await this.inBatches(
        [...s.changed],
        (wb, [k, sh]) => wb.set(this.shardRef(pipeline, windowStart, k), { ...encode(sh), expireAt: this.expireAt() }),
        'writes',
        8,
      );
    }
    const inline = s.shards === 1 ? s.changed.get(0) : undefined;
    await this.stateRef(pipeline, windowStart).set({
      exported: true,
      aggregatedAsOfMs: s.aggregatedAsOfMs,
      revision: s.revision,
      shards: s.shards,
      ...(inline ? encode(inline) : {}),
      expireAt: this.expireAt(),
    });
    this.ops.writes++;
  }

  async deleteBatches(pipeline: string, docIds: readonly string[]): Promise<void> {
    await this.inBatches(docIds, (wb, id) => wb.delete(this.batches(pipeline).doc(id)), 'deletes');
  }
}

function toBatch(d: DocumentSnapshot): WindowBatch {
  const data = d.data()!;
  const events = Object.entries(data['events'] as StoredEvents).map(([id, [key, timeMs, values]]) => ({ id, key, timeMs, values }));
  return {
    docId: d.id,
    windowStart: data['windowStart'] as number,
    windowEnd: data['windowEnd'] as number,
    createdMs: (data['createdAt'] as Timestamp | undefined)?.toMillis() ?? 0,
    // Batches written before writtenAtMs existed: their commit time stands in.
    writtenAtMs: (data['writtenAtMs'] as number | undefined) ?? (data['createdAt'] as Timestamp | undefined)?.toMillis() ?? 0,
    events,
  };
}
