import type { Firestore } from '@google-cloud/firestore';
import type { FlushControl, Watermarks } from '../../export/flush.js';
import type { Clock } from '../../core/clock.js';
import type { OpsCounter } from '../../core/ops-counter.js';

/**
 * The flush's fence: a lease in one control document, claimed and released in transactions that
 * re-read it, so two concurrent flushes never both export. Watermarks advance only under the lease.
 */
export class FirestoreFlushControl implements FlushControl {
  constructor(
    private readonly db: Firestore,
    private readonly collection: string,
    private readonly ops: OpsCounter,
    private readonly clock: Clock,
  ) {}

  private get ref() {
    return this.db.collection(this.collection).doc('flush');
  }

  /** Claims the lease; null when another flush holds it. */
  async acquire(owner: string, leaseMs: number): Promise<Watermarks | null> {
    return this.db.runTransaction(async (tx) => {
      this.ops.transactions++;
      const snap = await tx.get(this.ref);
      this.ops.reads++;
      const d = snap.data() ?? {};
      const now = this.clock.now();
      if (typeof d['leaseUntilMs'] === 'number' && d['leaseUntilMs'] > now && d['owner'] !== owner) return null;
      tx.set(this.ref, { owner, leaseUntilMs: now + leaseMs, watermarks: d['watermarks'] ?? {} });
      this.ops.writes++;
      return (d['watermarks'] as Watermarks | undefined) ?? {};
    });
  }

  /** Saves the watermarks and releases the lease; throws if the lease was lost meanwhile. */
  async commit(owner: string, watermarks: Watermarks): Promise<void> {
    await this.save(owner, watermarks, null);
  }

  /**
   * Saves the watermarks reached so far and extends the lease by `leaseMs`: a long run keeps its lease
   * and keeps what it exported even if it fails later. Throws if the lease was lost meanwhile.
   */
  async checkpoint(owner: string, watermarks: Watermarks, leaseMs: number): Promise<void> {
    await this.save(owner, watermarks, leaseMs);
  }

  private async save(owner: string, watermarks: Watermarks, extendMs: number | null): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      this.ops.transactions++;
      const snap = await tx.get(this.ref);
      this.ops.reads++;
      if (snap.data()?.['owner'] !== owner) throw new Error(`flush lease lost by ${owner}; watermarks not advanced`);
      tx.set(
        this.ref,
        extendMs === null ? { owner: null, leaseUntilMs: 0, watermarks } : { owner, leaseUntilMs: this.clock.now() + extendMs, watermarks },
      );
      this.ops.writes++;
    });
  }
}
