import { FieldValue } from '@google-cloud/firestore';
import type { DeadLetter, DeadLetterStore } from '../../dead-letters/dead-letter.js';
import { FirestoreStore, type FirestoreContext } from './store.js';

/** Dead letters kept for the flush to export; the id makes a redelivered dead letter one document. */
export class FirestoreDeadLetterStore extends FirestoreStore implements DeadLetterStore {
  constructor(
    ctx: FirestoreContext,
    private readonly collection: string,
  ) {
    super(ctx);
  }

  async save(dl: DeadLetter): Promise<void> {
    await this.db
      .collection(this.collection)
      .doc(dl.dead_letter_id)
      .set({ ...dl, exportAt: FieldValue.serverTimestamp(), expireAt: this.expireAt() });
    this.ops.writes++;
  }

  async scanForExport(fromMs: number, toMs: number, limit: number): Promise<{ dl: DeadLetter; exportAtMs: number }[]> {
    return (await this.scanByExportAt(this.collection, fromMs, toMs, limit)).map(({ data, exportAtMs }) => {
      const { exportAt: _e, expireAt: _x, ...dl } = data;
      return { dl: dl as DeadLetter, exportAtMs };
    });
  }
}
