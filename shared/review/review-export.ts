import type { ReviewSettings } from './settings.js';
import type { Clock } from '../core/clock.js';
import { CLOCK_SKEW_LAG_MS, type Exporter } from '../export/exporter.js';
import type { Row, TableDeclaration } from '../export/warehouse.js';
import type { FineReview, ReviewStore } from './review-store.js';

/** Every review decision, appended: day-partitioned by decision time, clustered by radar and decision. */
export const FINE_REVIEWS: TableDeclaration = { name: 'fine_reviews', time: 'reviewed_at', cluster: ['radar_id', 'decision'] };

/** A fine_reviews row: row_id = review_id, one per decision (never the fine's id: rows are never overwritten). */
export function reviewRow(r: FineReview): Row {
  return { row_id: r.review_id, ...r };
}

/** fine_reviews: each decision once, by its own id. */
export function reviewsExporter(deps: { reviews: Pick<ReviewStore, 'scanReviewsForExport'> }): Exporter<FineReview> {
  return {
    name: 'fine_reviews',
    table: FINE_REVIEWS.name,
    // Written in the decision's transaction: nothing to wait for but clock skew.
    lagMs: CLOCK_SKEW_LAG_MS,
    scan: (from, to, limit) => deps.reviews.scanReviewsForExport(from, to, limit),
    toRow: reviewRow,
  };
}

/**
 * The review queue as the flush logs it each run ("review queue": the dashboard's queue depth, age of the
 * oldest held fine and decisions in the last hour come from this line; the alert fires on the age).
 */
export async function reviewQueueReport(deps: {
  reviews: Pick<ReviewStore, 'queueStats'>;
  clock: Clock;
  config: ReviewSettings;
}): Promise<Record<string, unknown>> {
  const now = deps.clock.now();
  const q = await deps.reviews.queueStats(now);
  const oldestAgeS = q.oldestIssuedAtMs === null ? 0 : Math.max(0, Math.round((now - q.oldestIssuedAtMs) / 1000));
  return {
    pending: q.pending,
    oldest_pending_age_s: oldestAgeS,
    oldest_pending_over_alert: oldestAgeS > deps.config.review.alertAfterH * 3600,
    decisions_last_hour: q.decisionsLastHour,
  };
}
