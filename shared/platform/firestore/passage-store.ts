import { randomUUID } from 'node:crypto';
import { FieldValue, Timestamp, type DocumentData, type DocumentReference, type Transaction } from '@google-cloud/firestore';
import type { Radar } from '../../speed/radar.js';
import type { Observation } from '../../speed/observation.js';
import {
  applyObservations,
  closeIfExpired,
  passageKey,
  sessionGap,
  type ApplyResult,
  type ObservationOutcome,
  type PassageDecision,
  type PassageState,
} from '../../speed/passage.js';
import type {
  BatchOutcome,
  DecisionRef,
  ExportedPassage,
  LogCursor,
  LogEntry,
  LoggedObservation,
  PassageStore,
  SweepLease,
  SweptVehicle,
  VehicleBatches,
} from '../../speed/passage-store.js';
import { FirestoreStore, type FirestoreContext } from './store.js';

export interface PassageCollections {
  passages: string;
  archive: string;
  /** `<passageLog>/<radar>/passage_log_entries/<id>`: observations waiting for the radar's sweep */
  passageLog: string;
  /** one document per radar: the sweep lease and the log position */
  passageSweeps: string;
  /** one document per group of published decisions (the "publish done" marks) */
  published: string;
}

/** The log's documents live in this subcollection of their radar's document (one TTL policy for all radars). */
export const LOG_ENTRIES = 'passage_log_entries';
/** The sweep deletes an entry once it wrote its observations; this TTL is only a safety net. */
const LOG_RETENTION_MS = 7 * 86_400_000;

/**
 * Passage state in Firestore. One document per (radar, vehicle) holds its current passage; a closed
 * passage stays there (so late observations are recognised) until the vehicle's next passage displaces
 * it into the archive collection.
 *
 * Fields beyond the state:
 * - `expiresAt` (open passages only): processing time when the session gap expires; the flush queries it.
 * - `exportAt` (closed passages only): server commit time; the flush exports by watermark over it, so
 *   exporting costs no write per passage.
 * - `pendingPublish.{passageId}`: set when the decision is taken. Its publish is recorded apart, in the
 *   `published` collection, one document per group of decisions published together: a decision is
 *   unpublished while it is flagged here and absent there.
 * - `expireAt`: Firestore TTL.
 *
 * Observations that did not make a passage complete where they arrived (deliveries spread over
 * instances) go to the radar's log first (`appendLog`); one sweeper at a time per radar, under a lease,
 * applies them to these documents (`commitSweep`). See shared/speed/passage-sweep.ts.
 */
export class FirestorePassageStore extends FirestoreStore implements PassageStore {
  /** the same operations as `ops`, by what they were for (the load bench reports where the cost goes) */
  readonly opsByKind: Record<string, { reads: number; writes: number; deletes: number; transactions: number }> = {};

  constructor(
    ctx: FirestoreContext,
    private readonly collections: PassageCollections,
  ) {
    super(ctx);
  }

  private count(kind: string, op: 'reads' | 'writes' | 'deletes' | 'transactions', n = 1): void {
    this.ops[op] += n;
    (this.opsByKind[kind] ??= { reads: 0, writes: 0, deletes: 0, transactions: 0 })[op] += n;
  }

  private passageRef(radarId: string, vehicleId: string): DocumentReference {
    return this.db.collection(this.collections.passages).doc(passageKey(radarId, vehicleId));
  }
  private logOf(radarId: string) {
    return this.db.collection(this.collections.passageLog).doc(radarId).collection(LOG_ENTRIES);
  }
  private sweepRef(radarId: string): DocumentReference {
    return this.db.collection(this.collections.passageSweeps).doc(radarId);
  }

  async applyBatch(
    radar: Radar,
    vehicleId: string,
    batch: readonly Observation[],
    opts: { assumeNew?: boolean } = {},
  ): Promise<BatchOutcome> {
    const docId = passageKey(radar.id, vehicleId);
    const ref = this.passageRef(radar.id, vehicleId);
    if (opts.assumeNew) {
      // A whole passage in one batch (a seed burst that reached one instance): one create, no read.
      const now = this.clock.now();
      const alone = applyObservations(null, batch, radar, now);
      if (alone.state.status === 'closed' && alone.displaced.length === 0 && alone.decided.length === 1) {
        try {
          await ref.create(this.toDoc(alone.state, radar, now, true, true));
          this.count('passage_create', 'writes');
          return { ...alone, toPublish: [{ collection: this.collections.passages, docId, decision: alone.decided[0]! }], unconfirmed: [] };
        } catch (err) {
          if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS: the vehicle has a document; apply to it
        }
      }
    }
    return this.db.runTransaction(async (tx) => {
      this.count('vehicle_transaction', 'transactions');
      const snap = await tx.get(ref);
      this.count('vehicle_transaction', 'reads');
      const data = this.live(snap.exists ? snap.data()! : null);
      const result = applyObservations(data ? fromDoc(data) : null, batch, radar, this.clock.now());
      return { ...result, ...this.write(tx, radar, docId, data, result, 'vehicle_transaction') };
    });
  }

  /**
   * Writes what applying observations changed: displaced passages to the archive, the vehicle's document.
   * Returns the decisions taken now, and earlier ones a redelivery shows may never have been published.
   */
  private write(
    tx: Transaction,
    radar: Radar,
    docId: string,
    data: DocumentData | null,
    result: ApplyResult,
    kind: string,
  ): { toPublish: DecisionRef[]; unconfirmed: DecisionRef[] } {
    const now = this.clock.now();
    const pending = new Set(Object.keys((data?.['pendingPublish'] as Record<string, boolean> | undefined) ?? {}));
    const toPublish: DecisionRef[] = [];
    const unconfirmed: DecisionRef[] = [];
    const decidedNow = new Set(result.decided.map((d) => d.passageId));
    for (const d of result.displaced) {
      const id = d.decision!.passageId;
      tx.set(this.db.collection(this.collections.archive).doc(id), this.toDoc(d, radar, now, decidedNow.has(id) || pending.has(id), true));
      this.count(kind, 'writes');
      if (decidedNow.has(id)) toPublish.push({ collection: this.collections.archive, docId: id, decision: d.decision! });
    }
    if (result.changed) {
      const closedHere = result.state.status === 'closed' && decidedNow.has(result.state.decision!.passageId);
      tx.set(this.db.collection(this.collections.passages).doc(docId), this.toDoc(result.state, radar, now, closedHere, closedHere));
      this.count(kind, 'writes');
      if (closedHere) toPublish.push({ collection: this.collections.passages, docId, decision: result.state.decision! });
    } else if (result.state.status === 'closed' && pending.has(result.state.decision!.passageId)) {
      // A redelivery after a crash between commit and publish: the caller publishes it unless recorded.
      const dup = [...result.outcomes.values()].some((o) => o.kind === 'duplicate');
      if (dup) unconfirmed.push({ collection: this.collections.passages, docId, decision: result.state.decision! });
    }
    return { toPublish, unconfirmed };
  }

  /** Closes the passage in `docId` if its gap expired; returns the decision to publish, if any. */
  async closeIfExpired(docId: string, radarOf: (id: string) => Radar | undefined): Promise<DecisionRef | null> {
    const ref = this.db.collection(this.collections.passages).doc(docId);
    return this.db.runTransaction(async (tx) => {
      this.count('gap_close', 'transactions');
      const snap = await tx.get(ref);
      this.count('gap_close', 'reads');
      if (!snap.exists) return null;
      const state = fromDoc(snap.data()!);
      const radar = radarOf(state.radarId);
      if (!radar) return null;
      const now = this.clock.now();
      const closed = closeIfExpired(state, radar, now);
      if (!closed) return null;
      tx.set(ref, this.toDoc(closed, radar, now, true, true));
      this.count('gap_close', 'writes');
      return { collection: this.collections.passages, docId, decision: closed.decision! };
    });
  }

  async findExpiredOpen(limit: number): Promise<string[]> {
    const snap = await this.db
      .collection(this.collections.passages)
      .where('expiresAt', '<=', Timestamp.fromMillis(this.clock.now()))
      .limit(limit)
      .get();
    this.count('find_expired', 'reads', Math.max(1, snap.size));
    return snap.docs.map((d) => d.id);
  }

  async markPublished(...refs: DecisionRef[]): Promise<void> {
    if (refs.length === 0) return;
    // As long as the passages: a flag on an archived passage is checked against these marks. The ids name the
    // vehicle, so those of passages not fined go in a mark of their own that expires with them.
    const fined = refs.filter((r) => r.decision.isTicketed);
    const notFined = refs.filter((r) => !r.decision.isTicketed);
    for (const [group, expireAt] of [
      [fined, this.expireAt()],
      [notFined, this.expireAt(this.nonOffenderRetentionMs)],
    ] as const) {
      if (group.length === 0) continue;
      await this.db
        .collection(this.collections.published)
        .doc(randomUUID())
        .create({ ids: [...new Set(group.map((r) => r.decision.passageId))], createdAt: FieldValue.serverTimestamp(), expireAt });
      this.count('publish_mark', 'writes');
    }
  }

  /** A document whose expireAt has passed is treated as gone (Firestore's TTL deletes it up to a day later). */
  private live(data: DocumentData | null): DocumentData | null {
    const at = data?.['expireAt'] as Timestamp | undefined;
    return data && at && at.toMillis() <= this.clock.now() ? null : data;
  }

  async deleteExpired(fromMs: number, toMs: number, limit: number): Promise<{ scanned: number; deleted: number; next: number }> {
    const now = this.clock.now();
    let scanned = 0;
    let deleted = 0;
    let next = toMs;
    // Not a query on expireAt: TTL fields have no index (resources.json), exportAt has one.
    for (const name of [this.collections.passages, this.collections.archive]) {
      const page = await this.scanByExportAt(name, fromMs, toMs, limit);
      const expired = page.filter((d) => {
        const at = d.data['expireAt'] as Timestamp | undefined;
        return at !== undefined && at.toMillis() <= now;
      });
      await this.inBatches(expired, (wb, d) => wb.delete(this.db.collection(name).doc(d.id)), 'deletes');
      const kind = (this.opsByKind['retention_delete'] ??= { reads: 0, writes: 0, deletes: 0, transactions: 0 });
      kind.reads += Math.max(1, page.length);
      kind.deletes += expired.length;
      scanned += page.length;
      deleted += expired.length;
      // A full page: the next call starts at its last commit time (or just after, if the whole page shares it).
      const last = page[page.length - 1]?.exportAtMs ?? toMs;
      if (page.length >= limit) next = Math.min(next, last > fromMs ? last : fromMs + 1);
    }
    return { scanned, deleted, next };
  }

  async isPublished(passageId: string): Promise<boolean> {
    const snap = await this.db.collection(this.collections.published).where('ids', 'array-contains', passageId).limit(1).get();
    this.count('publish_mark_lookup', 'reads');
    return !snap.empty;
  }

  /** Which of these passage ids have a publish mark (array-contains-any takes 30 values at a time). */
  private async publishedAmong(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 30) {
      const chunk = ids.slice(i, i + 30);
      const snap = await this.db.collection(this.collections.published).where('ids', 'array-contains-any', chunk).get();
      this.count('publish_mark_lookup', 'reads', Math.max(1, snap.size));
      for (const d of snap.docs) for (const id of d.data()['ids'] as string[]) if (chunk.includes(id)) found.add(id);
    }
    return found;
  }

  /** Closed passages whose exportAt lies in [fromMs, toMs), oldest first. */
  async scanForExport(collection: 'passages' | 'archive', fromMs: number, toMs: number, limit: number): Promise<ExportedPassage[]> {
    const name = this.collections[collection];
    const page: { id: string; decision: PassageDecision; flagged: boolean; exportAtMs: number }[] = [];
    for (const { id, data, exportAtMs } of await this.scanByExportAt(name, fromMs, toMs, limit)) {
      const state = fromDoc(data);
      if (!state.decision) continue;
      const pending = (data['pendingPublish'] as Record<string, boolean> | undefined) ?? {};
      page.push({ id, decision: state.decision, flagged: state.decision.passageId in pending, exportAtMs });
    }
    const published = await this.publishedAmong(page.filter((p) => p.flagged).map((p) => p.decision.passageId));
    return page.map((p) => ({
      ref: { collection: name, docId: p.id, decision: p.decision },
      pendingPublish: p.flagged && !published.has(p.decision.passageId),
      exportAtMs: p.exportAtMs,
    }));
  }

  async appendLog(radarId: string, items: readonly LoggedObservation[]): Promise<void> {
    await this.logOf(radarId)
      .doc()
      .create({
        // One string field: one index entry however many observations the entry holds.
        items: JSON.stringify(
          items.map(({ obs, msg }) => ({
            o: obs,
            m: { d: msg.data.toString('base64'), a: msg.attributes, id: msg.messageId, pt: msg.publishTimeMs },
          })),
        ),
        createdAt: FieldValue.serverTimestamp(),
        expireAt: this.expireAt(Math.min(LOG_RETENTION_MS, this.nonOffenderRetentionMs)),
      });
    this.count('log_append', 'writes');
  }

  async sweepLease(radarId: string): Promise<SweepLease> {
    const snap = await this.sweepRef(radarId).get();
    this.count('lease_read', 'reads');
    const d = snap.data();
    const live = d && typeof d['owner'] === 'string' && (d['untilMs'] as number) > this.clock.now();
    return {
      holder: live ? (d['owner'] as string) : null,
      version: snap.updateTime ? `${snap.updateTime.seconds}:${snap.updateTime.nanoseconds}` : null,
    };
  }

  async acquireSweep(radarId: string, owner: string, leaseMs: number, seen: SweepLease): Promise<boolean> {
    if (seen.holder !== null && seen.holder !== owner) return false;
    const ref = this.sweepRef(radarId);
    const lease = { owner, untilMs: this.clock.now() + leaseMs };
    try {
      if (seen.version === null) await ref.create(lease);
      else {
        const [seconds, nanos] = seen.version.split(':').map(Number);
        await ref.update(lease, { lastUpdateTime: new Timestamp(seconds!, nanos!) });
      }
      this.count('lease_acquire', 'writes');
      return true;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 6 || code === 9) return false; // ALREADY_EXISTS, FAILED_PRECONDITION: another instance took it first
      throw err;
    }
  }

  async readLog(radarId: string, after: LogCursor | null, limit: number): Promise<{ entries: LogEntry[]; last: LogCursor | null }> {
    let q = this.logOf(radarId).orderBy('createdAt');
    if (after) q = q.where('createdAt', '>', new Timestamp(after.seconds, after.nanos));
    const snap = await q.limit(limit).get();
    this.count('log_read', 'reads', Math.max(1, snap.size));
    const entries = snap.docs.map((doc) => {
      const raw = JSON.parse(doc.data()['items'] as string) as {
        o: Observation;
        m: { d: string; a: Record<string, string>; id: string; pt: number };
      }[];
      return {
        id: doc.id,
        createdAtMs: (doc.data()['createdAt'] as Timestamp).toMillis(),
        items: raw.map(({ o, m }) => ({
          obs: o,
          msg: { data: Buffer.from(m.d, 'base64'), attributes: m.a, messageId: m.id, publishTimeMs: m.pt },
        })),
      };
    });
    const lastDoc = snap.docs[snap.docs.length - 1];
    const at = lastDoc ? (lastDoc.data()['createdAt'] as Timestamp) : null;
    return { entries, last: at ? { seconds: at.seconds, nanos: at.nanoseconds } : null };
  }

  async commitSweep(
    radar: Radar,
    owner: string,
    vehicles: readonly VehicleBatches[],
    then: { deleteEntries: readonly string[]; leaseMs: number; release: boolean },
    beforeCommit: (swept: readonly SweptVehicle[]) => Promise<void>,
  ): Promise<SweptVehicle[] | null> {
    const leaseRef = this.sweepRef(radar.id);
    const refs = vehicles.map((v) => this.passageRef(radar.id, v.vehicleId));
    return this.db.runTransaction(async (tx) => {
      this.count('sweep_commit', 'transactions');
      const [lease, ...snaps] = await tx.getAll(leaseRef, ...refs);
      this.count('sweep_commit', 'reads', 1 + snaps.length);
      if (lease!.data()?.['owner'] !== owner) return null; // fenced: another sweeper took over
      const now = this.clock.now();
      const swept: SweptVehicle[] = vehicles.map((v, i) => {
        const data = this.live(snaps[i]!.exists ? snaps[i]!.data()! : null);
        let state = data ? fromDoc(data) : null;
        const merged: ApplyResult = {
          state: state!,
          changed: false,
          decided: [],
          displaced: [],
          outcomes: new Map<string, ObservationOutcome>(),
        };
        for (const batch of v.batches) {
          const r = applyObservations(state, batch, radar, now);
          state = r.state;
          merged.state = r.state;
          merged.changed ||= r.changed;
          merged.decided.push(...r.decided);
          merged.displaced.push(...r.displaced);
          for (const [id, o] of r.outcomes) if (!merged.outcomes.has(id)) merged.outcomes.set(id, o);
        }
        const { toPublish, unconfirmed } = this.write(tx, radar, passageKey(radar.id, v.vehicleId), data, merged, 'sweep_commit');
        return { vehicleId: v.vehicleId, state: merged.state, outcomes: merged.outcomes, toPublish, unconfirmed };
      });
      await beforeCommit(swept);
      for (const id of then.deleteEntries) tx.delete(this.logOf(radar.id).doc(id));
      this.count('log_delete', 'deletes', then.deleteEntries.length);
      tx.set(leaseRef, { owner: then.release ? null : owner, untilMs: then.release ? 0 : now + then.leaseMs });
      this.count('sweep_commit', 'writes');
      return swept;
    });
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
      // A passage that was not fined keeps its vehicle's identity for the non-offender retention after its decision.
      expireAt: Timestamp.fromMillis(
        state.decision && !state.decision.isTicketed ? state.decision.decidedAtMs + this.nonOffenderRetentionMs : now + this.retentionMs,
      ),
    };
    if (state.status === 'open')
      doc['expiresAt'] = Timestamp.fromMillis(state.lastArrivalMs + sessionGap(state, radar) + radar.gapCloseDelayMs);
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
