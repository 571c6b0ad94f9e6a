import { Timestamp, type DocumentData, type Firestore, type WriteBatch } from '@google-cloud/firestore';
import type { Clock } from '../../core/clock.js';
import type { OpsCounter } from '../../core/ops-counter.js';

/** What every Firestore store is built with (the runtime builds one per operation counter). */
export interface FirestoreContext {
  db: Firestore;
  /** how long a document is kept: its `expireAt`, which the collection's TTL policy deletes by */
  retentionMs: number;
  /** how long what identifies a vehicle that was not fined is kept (SPEEDCAM_NON_OFFENDER_RETENTION_H); default retentionMs */
  nonOffenderRetentionMs?: number;
  /** billable operations, counted where they are made */
  ops: OpsCounter;
  clock: Clock;
}

/** A commit holds at most 500 writes: batches stay below it. */
const BATCH_WRITES = 450;

/**
 * The base of the Firestore stores: the shared constructor, the TTL stamp every document carries,
 * writes and deletes in batched commits, and the flush's scan by commit time.
 */
export abstract class FirestoreStore {
  protected readonly db: Firestore;
  protected readonly ops: OpsCounter;
  protected readonly clock: Clock;
  protected readonly retentionMs: number;
  protected readonly nonOffenderRetentionMs: number;

  constructor(ctx: FirestoreContext) {
    this.db = ctx.db;
    this.ops = ctx.ops;
    this.clock = ctx.clock;
    this.retentionMs = ctx.retentionMs;
    this.nonOffenderRetentionMs = Math.min(ctx.nonOffenderRetentionMs ?? ctx.retentionMs, ctx.retentionMs);
  }

  /** When a document written now expires (Firestore's TTL policy on `expireAt` deletes it after that). */
  protected expireAt(retentionMs = this.retentionMs): Timestamp {
    return Timestamp.fromMillis(this.clock.now() + retentionMs);
  }

  /** One commit per `per` items (at most 450): `add` puts an item's write or delete into the batch. */
  protected async inBatches<T>(
    items: readonly T[],
    add: (batch: WriteBatch, item: T) => void,
    count: 'writes' | 'deletes',
    per = BATCH_WRITES,
  ): Promise<void> {
    for (let i = 0; i < items.length; i += per) {
      const wb = this.db.batch();
      const chunk = items.slice(i, i + per);
      for (const item of chunk) add(wb, item);
      await wb.commit();
      this.ops[count] += chunk.length;
    }
  }

  /**
   * Documents whose `exportAt` (server commit time) lies in [fromMs, toMs), oldest first: the flush's
   * watermark scan, shared by every collection it exports. Firestore is strongly consistent, so a
   * commit before `toMs` is visible to a query run after it.
   */
  protected async scanByExportAt(
    collection: string,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Promise<{ id: string; data: DocumentData; exportAtMs: number }[]> {
    const snap = await this.db
      .collection(collection)
      .where('exportAt', '>=', Timestamp.fromMillis(fromMs))
      .where('exportAt', '<', Timestamp.fromMillis(toMs))
      .orderBy('exportAt')
      .limit(limit)
      .get();
    this.ops.reads += Math.max(1, snap.size);
    return snap.docs.map((d) => ({ id: d.id, data: d.data(), exportAtMs: (d.data()['exportAt'] as Timestamp).toMillis() }));
  }
}
