import type { FineRecord, StoredFine } from '../fines/fine-record.js';

/** What a reviewer decides on a held fine. */
export type Decision = 'confirm' | 'correct' | 'reject';

/** One decision, as appended to fine_reviews (one row per decision, never overwritten). */
export interface FineReview {
  review_id: string;
  fine_id: string;
  passage_id: string;
  radar_id: string;
  decision: Decision;
  status: 'confirmed' | 'corrected' | 'rejected';
  review_reason: string | null;
  plate_before: string | null;
  plate_after: string | null;
  reviewer: string;
  reviewed_at: string;
  reason: string | null;
  image_uri: string | null;
  issued_at: string;
}

/** A reviewer's hold on a fine while the page shows it to them. */
export interface Claim {
  by: string;
  untilMs: number;
}

export interface DecisionInput {
  reviewId: string;
  decision: Decision;
  /** the plate the notice carries (confirm: the read; correct: the reviewer's) */
  plate: string | null;
  reason: string | null;
  reviewer: string;
  atMs: number;
  /** the analysed photo re-drawn with the confirmed plate (confirm, correct) */
  image: { image_uri: string; image_url: string; image_sha256: string } | null;
}

export type DecideResult =
  | { kind: 'decided'; record: FineRecord; review: FineReview; pendingNotify: boolean }
  | { kind: 'not_found' }
  | { kind: 'already_decided'; record: FineRecord }
  | { kind: 'claimed'; claim: Claim };

export type ClaimResult =
  | { kind: 'claimed'; claim: Claim }
  | { kind: 'not_found' }
  | { kind: 'already_decided'; record: FineRecord }
  | { kind: 'claimed_by_other'; claim: Claim };

export interface QueueStats {
  pending: number;
  oldestIssuedAtMs: number | null;
  decisionsLastHour: number;
}

/** The review queue over the fines (Firestore: shared/platform/firestore/firestore-review-store.ts). */
export interface ReviewStore {
  get(fineId: string): Promise<(StoredFine & { claim: Claim | null }) | null>;
  /** held fines, oldest first, at most `limit` */
  pending(limit: number): Promise<FineRecord[]>;
  /** claims the fine for `forMs` unless another reviewer holds an unexpired claim (re-claiming one's own extends it) */
  claim(fineId: string, reviewer: string, nowMs: number, forMs: number): Promise<ClaimResult>;
  /**
   * In one transaction: the fine still pending and not claimed by another → its new state (and, for confirm
   * and correct, a pending notification) and the decision's fine_reviews document, created once.
   */
  decide(fineId: string, input: DecisionInput): Promise<DecideResult>;
  queueStats(nowMs: number): Promise<QueueStats>;
  scanReviewsForExport(fromMs: number, toMs: number, limit: number): Promise<(FineReview & { exportAtMs: number })[]>;
}
