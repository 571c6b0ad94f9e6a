import { FieldValue } from '@google-cloud/firestore';
import { sha256 } from '../../core/hashing.js';
import type { UserRow, UserStore } from '../../registrations/registrations.js';
import { FirestoreStore, type FirestoreContext } from './store.js';

/** One document per user (by row id): a redelivered response sets the same documents to the same values. */
export class FirestoreUserStore extends FirestoreStore implements UserStore {
  constructor(
    ctx: FirestoreContext,
    private readonly collection: string,
  ) {
    super(ctx);
  }

  /** One batched commit per 450 users (a 100-result response is one commit, not 100 round trips). */
  async save(all: readonly UserRow[]): Promise<void> {
    // A response listing one user twice: one write (a batch writes each document once).
    const rows = [...new Map(all.map((r) => [r.row_id, r])).values()];
    const users = this.db.collection(this.collection);
    await this.inBatches(
      rows,
      (wb, row) =>
        wb.set(users.doc(sha256(row.row_id).slice(0, 40)), { row, exportAt: FieldValue.serverTimestamp(), expireAt: this.expireAt() }),
      'writes',
    );
  }

  async scanForExport(fromMs: number, toMs: number, limit: number): Promise<{ row: UserRow; exportAtMs: number }[]> {
    return (await this.scanByExportAt(this.collection, fromMs, toMs, limit)).map(({ data, exportAtMs }) => ({
      row: data['row'] as UserRow,
      exportAtMs,
    }));
  }
}
