import { FieldValue, type DocumentData } from '@google-cloud/firestore';
import { notifiable, statusOf, type FineRecord, type FineStore, type StoredFine } from '../../fines/fine-record.js';
import { FirestoreStore, type FirestoreContext } from './store.js';

/**
 * Fine records, one document per fine id (derived from the passage): a retried fine finds its record
 * and reuses it, so there is never a second fine. `pendingNotify` is removed once the notification is
 * published; `exportAt` (commit time) drives the flush's export to fined_vehicles. A fine held for review
 * has neither a pending notification nor an `expireAt` (the TTL must not delete it while it waits): the
 * review's decision sets both (shared/platform/firestore/firestore-review-store.ts).
 */
export class FirestoreFineStore extends FirestoreStore implements FineStore {
  constructor(
    ctx: FirestoreContext,
    private readonly collection: string,
  ) {
    super(ctx);
  }

  async get(fineId: string): Promise<StoredFine | null> {
    const snap = await this.db.collection(this.collection).doc(fineId).get();
    this.ops.reads++;
    return snap.exists ? toStored(snap.data()!) : null;
  }

  async createOnce(record: FineRecord): Promise<StoredFine> {
    const ref = this.db.collection(this.collection).doc(record.fine_id);
    return this.db.runTransaction(async (tx) => {
      this.ops.transactions++;
      const snap = await tx.get(ref);
      this.ops.reads++;
      if (snap.exists) return toStored(snap.data()!);
      const notify = notifiable(record);
      tx.set(ref, {
        ...record,
        ...(notify ? { pendingNotify: true } : {}),
        exportAt: FieldValue.serverTimestamp(),
        // Held: in the review queue (held_since_ms, see review-store.ts) and kept until decided (no expireAt).
        ...(statusOf(record) === 'pending_review' ? { held_since_ms: Date.parse(record.issued_at) } : { expireAt: this.expireAt() }),
      });
      this.ops.writes++;
      return { record, pendingNotify: notify };
    });
  }

  async markNotified(fineId: string): Promise<void> {
    await this.db.collection(this.collection).doc(fineId).update({ pendingNotify: FieldValue.delete() });
    this.ops.writes++;
  }

  async scanForExport(fromMs: number, toMs: number, limit: number): Promise<(StoredFine & { exportAtMs: number })[]> {
    return (await this.scanByExportAt(this.collection, fromMs, toMs, limit)).map(({ data, exportAtMs }) => ({
      ...toStored(data),
      exportAtMs,
    }));
  }
}

export function toStored(d: DocumentData): StoredFine {
  const { pendingNotify, exportAt: _e, expireAt: _x, claimed_by: _c, claim_until_ms: _u, held_since_ms: _h, ...record } = d;
  return { record: record as FineRecord, pendingNotify: pendingNotify === true };
}
