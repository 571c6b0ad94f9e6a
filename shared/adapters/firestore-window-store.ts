import { randomUUID } from 'node:crypto';
import { FieldValue, Timestamp, type Firestore } from '@google-cloud/firestore';
import type { Clock, OpsCounter } from '../ports.js';
import type { WindowEvent } from '../windows/pipelines.js';

/** Events of one window as one batch document holds them: id → [key, time ms, values]. */
type StoredEvents = Record<string, [string, number, Record<string, number>]>;

export interface WindowBatch {
  docId: string;
  createdMs: number;
  events: WindowEvent[];
}

export interface WindowState {
  exported: boolean;
  /** read time of the query whose batches made the exported rows: later batches are orphans */
  aggregatedAsOfMs: number | null;
  /** ids of the exported events, for pipelines that remember them */
  ids: ReadonlySet<string> | null;
}

/**
 * Window state without hot documents: every commit of an instance's buffered events creates new batch
 * documents (one per window), in collection `<prefix><pipeline>`, never updating one. No transaction,
 * no read, no contention however hot the key; about one write per window per group commit.
 * Per-window control documents record what the flush exported.
 */
export class FirestoreWindowStore {
  constructor(
    private readonly db: Firestore,
    private readonly collections: { windowBatchesPrefix: string; windowState: string },
    private readonly retentionMs: number,
    private readonly ops: OpsCounter,
    private readonly clock: Clock,
  ) {}

  private batches(pipeline: string) {
    return this.db.collection(`${this.collections.windowBatchesPrefix}${pipeline}`);
  }
  private stateRef(pipeline: string, windowStart: number) {
    return this.db.collection(this.collections.windowState).doc(`${pipeline}~${windowStart}`);
  }

  /** Writes the events, grouped by window, in one atomic commit. */
  async append(pipeline: string, windowSizeMs: number, events: readonly WindowEvent[]): Promise<void> {
    const byWindow = new Map<number, StoredEvents>();
    for (const e of events) {
      const start = Math.floor(e.timeMs / windowSizeMs) * windowSizeMs;
      let m = byWindow.get(start);
      if (!m) byWindow.set(start, (m = {}));
      m[e.id] = [e.key, e.timeMs, e.values];
    }
    const wb = this.db.batch();
    for (const [start, stored] of byWindow) {
      wb.create(this.batches(pipeline).doc(`${start}-${randomUUID()}`), {
        windowStart: start,
        windowEnd: start + windowSizeMs,
        events: stored,
        createdAt: FieldValue.serverTimestamp(),
        expireAt: Timestamp.fromMillis(this.clock.now() + this.retentionMs),
      });
      this.ops.writes++;
    }
    await wb.commit();
  }

  /** The earliest window that has batches and ended at or before `endAtMost`. */
  async nextClosedWindow(pipeline: string, endAtMost: number): Promise<number | null> {
    const snap = await this.batches(pipeline).where('windowEnd', '<=', endAtMost).orderBy('windowEnd').limit(1).get();
    this.ops.reads += 1;
    return snap.empty ? null : (snap.docs[0]!.data()['windowStart'] as number);
  }

  /** All batches of one window, and the read time of that query. */
  async readWindow(pipeline: string, windowStart: number): Promise<{ batches: WindowBatch[]; readTimeMs: number }> {
    const snap = await this.batches(pipeline).where('windowStart', '==', windowStart).get();
    this.ops.reads += Math.max(1, snap.size);
    const batches = snap.docs.map((d) => {
      const data = d.data();
      const events = Object.entries(data['events'] as StoredEvents).map(([id, [key, timeMs, values]]) => ({ id, key, timeMs, values }));
      return { docId: d.id, createdMs: (data['createdAt'] as Timestamp | undefined)?.toMillis() ?? 0, events };
    });
    return { batches, readTimeMs: snap.readTime.toMillis() };
  }

  async getState(pipeline: string, windowStart: number): Promise<WindowState> {
    const snap = await this.stateRef(pipeline, windowStart).get();
    this.ops.reads++;
    const d = snap.data();
    const ids = d?.['ids'] as string[] | undefined;
    return { exported: d?.['exported'] === true, aggregatedAsOfMs: (d?.['aggregatedAsOfMs'] as number | undefined) ?? null, ids: ids ? new Set(ids) : null };
  }

  async markExported(pipeline: string, windowStart: number, aggregatedAsOfMs: number, ids?: readonly string[]): Promise<void> {
    await this.stateRef(pipeline, windowStart).set({
      exported: true,
      aggregatedAsOfMs,
      ...(ids ? { ids } : {}),
      expireAt: Timestamp.fromMillis(this.clock.now() + this.retentionMs),
    });
    this.ops.writes++;
  }

  async deleteBatches(pipeline: string, docIds: readonly string[]): Promise<void> {
    for (let i = 0; i < docIds.length; i += 450) {
      const wb = this.db.batch();
      for (const id of docIds.slice(i, i + 450)) wb.delete(this.batches(pipeline).doc(id));
      await wb.commit();
      this.ops.deletes += Math.min(450, docIds.length - i);
    }
  }
}
