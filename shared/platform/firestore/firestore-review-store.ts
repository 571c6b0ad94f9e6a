import { FieldValue, type DocumentData, type DocumentReference, type Transaction } from '@google-cloud/firestore';
import { statusOf, type FineRecord } from '../../fines/fine-record.js';
import type { Claim, ClaimResult, DecideResult, DecisionInput, FineReview, QueueStats, ReviewStore } from '../../review/review-store.js';
import { toStored } from './firestore-fine-store.js';
import { FirestoreStore, type FirestoreContext } from './store.js';
import { iso } from '../../core/clock.js';

/** The field only held fines carry: when they started waiting (ms). The queue is its index. */
export const HELD_SINCE = 'held_since_ms';

/**
 * The review queue over the fines collection (held fines: status `pending_review`) and the append-only
 * decisions collection (one document per decision, created in the decision's transaction, exported to
 * fine_reviews). Claims and decisions are transactions on the fine's document: two reviewers never decide
 * one fine twice.
 */
export class FirestoreReviewStore extends FirestoreStore implements ReviewStore {
  constructor(
    ctx: FirestoreContext,
    private readonly fines: string,
    private readonly reviews: string,
  ) {
    super(ctx);
  }

  async get(fineId: string) {
    const snap = await this.db.collection(this.fines).doc(fineId).get();
    this.ops.reads++;
    if (!snap.exists) return null;
    return { ...toStored(snap.data()!), claim: claimOf(snap.data()!) };
  }

  async pending(limit: number): Promise<FineRecord[]> {
    // Only held fines carry held_since_ms (firestore-fine-store.ts sets it, a decision removes it): ordering by it
    // lists exactly the queue, oldest first, on its single-field index.
    const snap = await this.db.collection(this.fines).orderBy(HELD_SINCE).limit(limit).get();
    this.ops.reads += Math.max(1, snap.size);
    return snap.docs.map((d) => toStored(d.data()).record);
  }

  async claim(fineId: string, reviewer: string, nowMs: number, forMs: number): Promise<ClaimResult> {
    const ref = this.db.collection(this.fines).doc(fineId);
    return this.db.runTransaction(async (tx) => {
      const open = await this.openFine(tx, ref, reviewer, nowMs);
      if (open.kind === 'claimed') return { kind: 'claimed_by_other', claim: open.claim };
      if (open.kind !== 'open') return open;
      const claim: Claim = { by: reviewer, untilMs: nowMs + forMs };
      tx.update(ref, { claimed_by: claim.by, claim_until_ms: claim.untilMs });
      this.ops.writes++;
      return { kind: 'claimed', claim };
    });
  }

  async decide(fineId: string, input: DecisionInput): Promise<DecideResult> {
    const ref = this.db.collection(this.fines).doc(fineId);
    const reviewRef = this.db.collection(this.reviews).doc(input.reviewId);
    return this.db.runTransaction(async (tx) => {
      const open = await this.openFine(tx, ref, input.reviewer, input.atMs);
      if (open.kind !== 'open') return open;
      const { record } = open;
      const at = iso(input.atMs);
      const status = input.decision === 'confirm' ? 'confirmed' : input.decision === 'correct' ? 'corrected' : 'rejected';
      const notify = status !== 'rejected';
      const changes: Partial<FineRecord> = {
        status,
        reviewed_by: input.reviewer,
        reviewed_at: at,
        review_note: input.reason,
        ...(input.decision === 'correct' ? { license_plate: input.plate, read_plate: record.license_plate } : {}),
        ...(input.image ?? {}),
      };
      const review: FineReview = {
        review_id: input.reviewId,
        fine_id: record.fine_id,
        passage_id: record.passage_id,
        radar_id: record.radar_id,
        decision: input.decision,
        status,
        review_reason: record.review_reason,
        plate_before: record.license_plate,
        plate_after: notify ? input.plate : null,
        reviewer: input.reviewer,
        reviewed_at: at,
        reason: input.reason,
        image_uri: input.image?.image_uri ?? null,
        issued_at: record.issued_at,
      };
      tx.update(ref, {
        ...changes,
        ...(notify ? { pendingNotify: true } : {}),
        claimed_by: FieldValue.delete(),
        claim_until_ms: FieldValue.delete(),
        [HELD_SINCE]: FieldValue.delete(),
        // A new commit time: the flush exports the decided row (and re-sends the notice if it is left unsent).
        exportAt: FieldValue.serverTimestamp(),
        expireAt: this.expireAt(),
      });
      // create(): a decision's document is never overwritten.
      tx.create(reviewRef, { ...review, reviewed_at_ms: input.atMs, exportAt: FieldValue.serverTimestamp(), expireAt: this.expireAt() });
      this.ops.writes += 2;
      return { kind: 'decided', record: { ...record, ...changes }, review, pendingNotify: notify };
    });
  }

  /** In a claim's or a decision's transaction: the fine, if it is still held and not claimed by another reviewer. */
  private async openFine(tx: Transaction, ref: DocumentReference, reviewer: string, nowMs: number) {
    this.ops.transactions++;
    const snap = await tx.get(ref);
    this.ops.reads++;
    if (!snap.exists) return { kind: 'not_found' } as const;
    const { record } = toStored(snap.data()!);
    if (statusOf(record) !== 'pending_review') return { kind: 'already_decided', record } as const;
    const held = claimOf(snap.data()!);
    if (held && held.by !== reviewer && held.untilMs > nowMs) return { kind: 'claimed', claim: held } as const;
    return { kind: 'open', record } as const;
  }

  async queueStats(nowMs: number): Promise<QueueStats> {
    // Plain queries reading one field (a held fine's wait start; nothing of a decision), one after the other:
    // one read per held fine and per decision of the last hour, each flush run. Aggregation queries (count())
    // would read less, but an aggregation cut short by the client closing (the local stack stopping mid-run)
    // surfaced as an error outside any handler ("Exception from a finished function"); plain reads do not.
    const held = await this.db.collection(this.fines).orderBy(HELD_SINCE).select(HELD_SINCE).get();
    const decided = await this.db
      .collection(this.reviews)
      .where('reviewed_at_ms', '>=', nowMs - 3_600_000)
      .select()
      .get();
    this.ops.reads += Math.max(1, held.size) + Math.max(1, decided.size);
    const first = held.docs[0]?.get(HELD_SINCE) as number | undefined;
    return { pending: held.size, oldestIssuedAtMs: first ?? null, decisionsLastHour: decided.size };
  }

  async scanReviewsForExport(fromMs: number, toMs: number, limit: number) {
    return (await this.scanByExportAt(this.reviews, fromMs, toMs, limit)).map(({ data, exportAtMs }) => {
      const { exportAt: _e, expireAt: _x, reviewed_at_ms: _m, ...review } = data;
      return { ...(review as FineReview), exportAtMs };
    });
  }
}

function claimOf(d: DocumentData): Claim | null {
  const by: unknown = d['claimed_by'];
  const until: unknown = d['claim_until_ms'];
  return typeof by === 'string' && typeof until === 'number' ? { by, untilMs: until } : null;
}
