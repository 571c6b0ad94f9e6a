import { FieldValue, Timestamp, type DocumentData, type Firestore } from '@google-cloud/firestore';
import type { FineRecord, FineStore, StoredFine } from '../../fines/fine.js';
import type { Clock, OpsCounter } from '../../core/ports.js';
import { scanByExportAt } from './export-scan.js';

/**
 * Fine records, one document per fine id (derived from the passage): a retried fine finds its record
 * and reuses it, so there is never a second fine. `pendingNotify` is removed once the notification is
 * published; `exportAt` (commit time) drives the flush's export to fined_vehicles.
 */
export class FirestoreFineStore implements FineStore {
  constructor(
    private readonly db: Firestore,
    private readonly collection: string,
    private readonly retentionMs: number,
    private readonly ops: OpsCounter,
    private readonly clock: Clock,
  ) {}

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
      tx.set(ref, {
        ...record,
        pendingNotify: true,
        exportAt: FieldValue.serverTimestamp(),
        expireAt: Timestamp.fromMillis(this.clock.now() + this.retentionMs),
      });
      this.ops.writes++;
      return { record, pendingNotify: true };
    });
  }

  async markNotified(fineId: string): Promise<void> {
    await this.db.collection(this.collection).doc(fineId).update({ pendingNotify: FieldValue.delete() });
    this.ops.writes++;
  }

  async scanForExport(fromMs: number, toMs: number, limit: number): Promise<(StoredFine & { exportAtMs: number })[]> {
    return (await scanByExportAt(this.db, this.collection, fromMs, toMs, limit, this.ops)).map(({ data, exportAtMs }) => ({ ...toStored(data), exportAtMs }));
  }
}

function toStored(d: DocumentData): StoredFine {
  const { pendingNotify, exportAt: _e, expireAt: _x, ...record } = d;
  return { record: record as FineRecord, pendingNotify: pendingNotify === true };
}
