import { Timestamp, type DocumentData, type Firestore } from '@google-cloud/firestore';
import type { OpsCounter } from '../../core/ports.js';

/**
 * Documents whose `exportAt` (server commit time) lies in [fromMs, toMs), oldest first: the flush's
 * watermark scan, shared by every collection it exports. Firestore is strongly consistent, so a
 * commit before `toMs` is visible to a query run after it.
 */
export async function scanByExportAt(
  db: Firestore,
  collection: string,
  fromMs: number,
  toMs: number,
  limit: number,
  ops: OpsCounter,
): Promise<{ id: string; data: DocumentData; exportAtMs: number }[]> {
  const snap = await db
    .collection(collection)
    .where('exportAt', '>=', Timestamp.fromMillis(fromMs))
    .where('exportAt', '<', Timestamp.fromMillis(toMs))
    .orderBy('exportAt')
    .limit(limit)
    .get();
  ops.reads += Math.max(1, snap.size);
  return snap.docs.map((d) => ({ id: d.id, data: d.data(), exportAtMs: (d.data()['exportAt'] as Timestamp).toMillis() }));
}
