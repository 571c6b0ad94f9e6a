import { FieldPath, FieldValue, Timestamp, type DocumentData, type Firestore } from '@google-cloud/firestore';
import type { Radar } from '../config.js';
import type { Observation } from '../observation.js';
import { applyObservations, closeIfExpired, passageKey, sessionGap, type PassageState } from '../passage.js';
import type { Clock, OpsCounter } from '../ports.js';
import type { BatchOutcome, DecisionRef, ExportedPassage, PassageStore } from '../passage-store.js';
import { scanByExportAt } from './firestore-export-scan.js';

/**
 * Passage state in Firestore. One document per (radar, vehicle) holds its current passage; a closed
 * passage stays there (so late observations are recognised) until the vehicle's next passage displaces
 * it into the archive collection.
 *
 * Fields beyond the state:
 * - `expiresAt` (open passages only): processing time when the session gap expires; the flush queries it.
 * - `exportAt` (closed passages only): server commit time; the flush exports by watermark over it, so
 *   exporting costs no write per passage.
 * - `pendingPublish.{passageId}`: set at close, removed once the decision is published.
 * - `expireAt`: Firestore TTL.
 */
export class FirestorePassageStore implements PassageStore {
  constructor(
    private readonly db: Firestore,
    private readonly collections: { passages: string; archive: string },
    private readonly retentionMs: number,
    private readonly ops: OpsCounter,
    private readonly clock: Clock,
  ) {}

  /** Applies a batch of observations of one (radar, vehicle) in one transaction. */
  async applyBatch(radar: Radar, vehicleId: string, batch: readonly Observation[]): Promise<BatchOutcome> {
    const docId = passageKey(radar.id, vehicleId);
    const ref = this.db.collection(this.collections.passages).doc(docId);
    return this.db.runTransaction(async (tx) => {
      this.ops.transactions++;
      const snap = await tx.get(ref);
      this.ops.reads++;
      const data = snap.exists ? snap.data()! : null;
      const previous = data ? fromDoc(data) : null;
      const pending = new Set(Object.keys((data?.['pendingPublish'] as Record<string, boolean> | undefined) ?? {}));
      const now = this.clock.now();
      const result = applyObservations(previous, batch, radar, now);
      const toPublish: DecisionRef[] = [];
      const decidedNow = new Set(result.decided.map((d) => d.passageId));
      for (const d of result.displaced) {
        const id = d.decision!.passageId;
        const stillPending = decidedNow.has(id) || pending.has(id);
        tx.set(this.db.collection(this.collections.archive).doc(id), this.toDoc(d, radar, now, stillPending, true));
        this.ops.writes++;
        if (decidedNow.has(id)) toPublish.push({ collection: this.collections.archive, docId: id, decision: d.decision! });
      }
      if (result.changed) {
        const closedHere = result.state.status === 'closed' && decidedNow.has(result.state.decision!.passageId);
        tx.set(ref, this.toDoc(result.state, radar, now, closedHere, closedHere));
        this.ops.writes++;
        if (closedHere) toPublish.push({ collection: this.collections.passages, docId, decision: result.state.decision! });
      } else if (result.state.status === 'closed' && pending.has(result.state.decision!.passageId)) {
        // A redelivery after a crash between commit and publish: publish the decision now.
        const dup = [...result.outcomes.values()].some((o) => o.kind === 'duplicate');
        if (dup) toPublish.push({ collection: this.collections.passages, docId, decision: result.state.decision! });
      }
      return { ...result, toPublish };
    });
  }

  /** Closes the passage in `docId` if its gap expired; returns the decision to publish, if any. */
  async closeIfExpired(docId: string, radarOf: (id: string) => Radar | undefined): Promise<DecisionRef | null> {
    const ref = this.db.collection(this.collections.passages).doc(docId);
    return this.db.runTransaction(async (tx) => {
      this.ops.transactions++;
      const snap = await tx.get(ref);
      this.ops.reads++;
      if (!snap.exists) return null;
      const state = fromDoc(snap.data()!);
      const radar = radarOf(state.radarId);
      if (!radar) return null;
      const now = this.clock.now();
      const closed = closeIfExpired(state, radar, now);
      if (!closed) return null;
      tx.set(ref, this.toDoc(closed, radar, now, true, true));
      this.ops.writes++;
      return { collection: this.collections.passages, docId, decision: closed.decision! };
    });
  }

  async findExpiredOpen(limit: number): Promise<string[]> {
    const snap = await this.db
      .collection(this.collections.passages)
      .where('expiresAt', '<=', Timestamp.fromMillis(this.clock.now()))
      .limit(limit)
      .get();
    this.ops.reads += Math.max(1, snap.size);
    return snap.docs.map((d) => d.id);
  }

  async markPublished(ref: DecisionRef): Promise<void> {
    try {
      await this.db
        .collection(ref.collection)
        .doc(ref.docId)
        .update(new FieldPath('pendingPublish', ref.decision.passageId), FieldValue.delete());
      this.ops.writes++;
    } catch (err) {
      if ((err as { code?: number }).code === 5) return; // NOT_FOUND: expired by TTL, nothing to mark
      throw err;
    }
  }

  /** Closed passages whose exportAt lies in [fromMs, toMs), oldest first. */
  async scanForExport(collection: 'passages' | 'archive', fromMs: number, toMs: number, limit: number): Promise<ExportedPassage[]> {
    const name = this.collections[collection];
    const out: ExportedPassage[] = [];
    for (const { id, data, exportAtMs } of await scanByExportAt(this.db, name, fromMs, toMs, limit, this.ops)) {
      const state = fromDoc(data);
      if (!state.decision) continue;
      const pending = (data['pendingPublish'] as Record<string, boolean> | undefined) ?? {};
      out.push({ ref: { collection: name, docId: id, decision: state.decision }, pendingPublish: state.decision.passageId in pending, exportAtMs });
    }
    return out;
  }

  private toDoc(state: PassageState, radar: Radar, now: number, pendingPublish: boolean, exportNow: boolean): DocumentData {
    const doc: DocumentData = {
      radarId: state.radarId,
      vehicleId: state.vehicleId,
      status: state.status,
      obs: state.obs,
      firstSeenMs: state.firstSeenMs,
      lastSeenMs: state.lastSeenMs,
      lastArrivalMs: state.lastArrivalMs,
      decision: state.decision,
      expireAt: Timestamp.fromMillis(now + this.retentionMs),
    };
    if (state.status === 'open') doc['expiresAt'] = Timestamp.fromMillis(state.lastArrivalMs + sessionGap(state, radar) + radar.gapCloseDelayMs);
    if (state.status === 'closed' && exportNow) doc['exportAt'] = FieldValue.serverTimestamp();
    if (pendingPublish && state.decision) doc['pendingPublish'] = { [state.decision.passageId]: true };
    return doc;
  }
}

function fromDoc(d: DocumentData): PassageState {
  return {
    radarId: d['radarId'],
    vehicleId: d['vehicleId'],
    status: d['status'],
    obs: d['obs'] ?? {},
    firstSeenMs: d['firstSeenMs'],
    lastSeenMs: d['lastSeenMs'],
    lastArrivalMs: d['lastArrivalMs'],
    decision: d['decision'] ?? null,
  };
}
