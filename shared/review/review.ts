import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FineConfig } from '../fines/fine.js';
import type { ReviewSettings } from './settings.js';
import type { Effects } from '../core/effects.js';
import { sha256 } from '../core/hashing.js';
import { notifyFine, statusOf, type FineRecord, type FineStore } from '../fines/fine-record.js';
import { gsUri, objectName } from '../fines/object-names.js';
import { fineAnnotation, findFinePhoto } from '../fines/fine-photo.js';
import type { ObjectStore } from '../fines/ports.js';
import type { Claim, ClaimResult, DecideResult, Decision, ReviewStore } from './review-store.js';
import { iso } from '../core/clock.js';

export interface ReviewDeps extends Effects {
  config: Pick<FineConfig, 'topics' | 'buckets' | 'radars' | 'photos'> & ReviewSettings;
  reviews: ReviewStore;
  fines: Pick<FineStore, 'markNotified'>;
  objects: ObjectStore;
  /** draws the analysed photo (shared/fines/evidence-photo.ts, loaded on first use: sharp is heavy) */
  draw: typeof import('../fines/evidence-photo.js').drawAnalysedPhoto;
  newId?: () => string;
}

/** An HTTP answer: JSON bodies are objects, photos and the page are bytes or text with their type. */
export interface Answer {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

const json = (status: number, body: unknown): Answer => ({ status, body });

/** What the queue lists for each held fine. */
export function summary(r: FineRecord, claim: Claim | null = null) {
  return {
    fine_id: r.fine_id,
    passage_id: r.passage_id,
    radar_id: r.radar_id,
    vehicle_id: r.vehicle_id,
    license_plate: r.license_plate,
    plate_confidence: r.plate_confidence,
    review_reason: r.review_reason,
    status: statusOf(r),
    image_url: r.image_url,
    avg_speed: r.avg_speed,
    speed_limit: r.speed_limit,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    issued_at: r.issued_at,
    claimed_by: claim?.by ?? null,
    claimed_until: claim ? iso(claim.untilMs) : null,
  };
}

/** A fine stored before alternatives were kept: its read alone. */
const readAlone = (r: FineRecord) =>
  r.license_plate && r.plate_confidence !== null ? [{ plate: r.license_plate, confidence: r.plate_confidence }] : [];

/**
 * The photos a reviewer sees, in order: the analysed photo, then each camera photo (entry, exit). The photo the
 * OCR read, as the camera took it, is marked `source`: the page zooms on its plate region without the read's
 * overlay, so a person reads the plate itself. It is the copy kept in the evidence bucket when there is one
 * (the captures bucket deletes photos after the non-offender retention, and a fine may wait longer).
 */
export function photosOf(r: FineRecord): { kind: 'analysed' | 'capture'; label: string; uri: string; source: boolean }[] {
  const out: { kind: 'analysed' | 'capture'; label: string; uri: string; source: boolean }[] = [];
  const label = r.reviewed_at ? 'analysed (re-drawn after review)' : 'analysed';
  if (r.image_uri) out.push({ kind: 'analysed', label, uri: r.image_uri, source: false });
  const captures = r.captures ?? [];
  const analysed = r.capture_copy_uri ?? r.capture_uri;
  for (const c of captures) {
    const isSource = c.uri === r.capture_uri;
    const uri = isSource && r.capture_copy_uri ? r.capture_copy_uri : c.uri;
    out.push({ kind: 'capture', label: `${c.camera ?? 'camera'}${c.at ? ` · ${c.at}` : ''}`, uri, source: isSource });
  }
  if (analysed && !captures.some((c) => c.uri === r.capture_uri)) {
    out.push({ kind: 'capture', label: `photo analysed (${r.photo_source ?? 'capture'})`, uri: analysed, source: true });
  }
  return out;
}

export async function listReviews(deps: ReviewDeps, query: Record<string, unknown>): Promise<Answer> {
  const status = query['status'] ?? 'pending';
  if (status !== 'pending') return json(400, { error: 'invalid_query', field: 'status', message: 'status: only "pending" is listed' });
  const limit = Math.min(500, Math.max(1, Number(query['limit'] ?? 100) || 100));
  const pending = await deps.reviews.pending(limit);
  return json(200, { reviews: pending.map((r) => summary(r)) });
}

export async function reviewDetail(deps: ReviewDeps, fineId: string): Promise<Answer> {
  const stored = await deps.reviews.get(fineId);
  if (!stored) return notFound(fineId);
  const r = stored.record;
  const radar = deps.config.radars.get(r.radar_id);
  return json(200, {
    ...summary(r, stored.claim),
    radar_name: radar?.name ?? r.radar_id,
    coordinates: r.coordinates,
    plate_box: r.plate_box ?? null,
    plate_alternatives: r.plate_alternatives ?? readAlone(r),
    read_plate: r.read_plate ?? null,
    reviewed_by: r.reviewed_by ?? null,
    reviewed_at: r.reviewed_at ?? null,
    review_note: r.review_note ?? null,
    photos: photosOf(r).map((p, n) => ({
      kind: p.kind,
      label: p.label,
      source: p.source,
      url: `reviews/${encodeURIComponent(r.fine_id)}/photos/${n}`,
    })),
  });
}

export async function reviewPhoto(deps: ReviewDeps, fineId: string, n: number): Promise<Answer> {
  const stored = await deps.reviews.get(fineId);
  if (!stored) return notFound(fineId);
  const photo = photosOf(stored.record)[n];
  if (!photo) return json(404, { error: 'not_found', message: `fine ${fineId} has no photo ${n}` });
  // Served from storage through the function: a gs:// object (or a file locally) does not load in a page.
  if (!photo.uri.startsWith('gs://')) {
    return json(404, { error: 'not_stored', message: `photo ${n} is not in Cloud Storage: ${photo.uri.slice(0, 200)}` });
  }
  const bytes = await deps.objects.get(photo.uri);
  if (!bytes) return json(404, { error: 'not_found', message: `${photo.uri} does not exist` });
  return { status: 200, body: bytes, contentType: contentTypeOf(bytes), headers: { 'cache-control': 'private, max-age=300' } };
}

export async function claimReview(deps: ReviewDeps, fineId: string, reviewer: string): Promise<Answer> {
  const r = await deps.reviews.claim(fineId, reviewer, deps.clock.now(), deps.config.review.claimMs);
  if (r.kind !== 'claimed') return refused(fineId, r);
  return json(200, { fine_id: fineId, claimed_by: r.claim.by, claimed_until: iso(r.claim.untilMs) });
}

/** A plate as a reviewer types it: letters, digits, spaces and dashes; stored normalised (upper case, no separators). */
const typedPlate = z
  .string()
  .trim()
  .transform((p) => p.toUpperCase().replace(/[\s-]/g, ''))
  .pipe(z.string().regex(/^[A-Z0-9]{2,10}$/, '2 to 10 letters or digits'));

const decisionBody = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('confirm') }).strict(),
  z.object({ decision: z.literal('correct'), plate: typedPlate }).strict(),
  z.object({ decision: z.literal('reject'), reason: z.string().trim().min(3, 'a reason of at least 3 characters').max(500) }).strict(),
]);

/**
 * A reviewer's decision. Checked first (the fine exists, is still held, is not claimed by someone else), the
 * photo re-drawn with the confirmed plate (a new object, created once), then in one transaction the fine's new
 * state with a pending notification and the decision's fine_reviews document; then the notification is
 * published and marked. A crash after the transaction leaves the mark: the flush sends the notice. A second
 * decision (concurrent or later) finds the fine decided: 409, nothing changes.
 */
export async function decideReview(deps: ReviewDeps, fineId: string, rawBody: unknown, reviewer: string): Promise<Answer> {
  const parsed = decisionBody.safeParse(rawBody);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : 'decision';
    return json(400, { error: 'invalid_body', field, message: `${field}: ${issue.message}` });
  }
  const body = parsed.data;
  const stored = await deps.reviews.get(fineId);
  if (!stored) return notFound(fineId);
  const r = stored.record;
  if (statusOf(r) !== 'pending_review') return decided(r);
  const now = deps.clock.now();
  if (stored.claim && stored.claim.by !== reviewer && stored.claim.untilMs > now) {
    return claimedBy(stored.claim);
  }
  const decision: Decision = body.decision;
  const plate = body.decision === 'correct' ? body.plate : body.decision === 'confirm' ? r.license_plate : null;
  if (body.decision === 'confirm' && !plate) {
    const message = 'decision: no plate was read; correct it with the plate the photo shows, or reject it';
    return json(400, { error: 'invalid_body', field: 'decision', message });
  }
  const reviewId = `${fineId}-${(deps.newId ?? (() => randomUUID().replace(/-/g, '').slice(0, 12)))()}`;
  const image = plate ? await redraw(deps, r, plate, reviewId) : null;
  const reason = body.decision === 'reject' ? body.reason : null;
  const result = await deps.reviews.decide(fineId, { reviewId, decision, plate, reason, reviewer, atMs: now, image });
  if (result.kind !== 'decided') return refused(fineId, result);
  deps.faults.check('review.afterDecision');
  if (result.pendingNotify) await notifyFine(deps, result.record);
  const rec = result.record;
  deps.logger.info('fine reviewed', {
    fine_id: fineId,
    review_id: reviewId,
    decision,
    status: rec.status,
    reviewer,
    plate_before: r.license_plate,
    plate_after: plate,
    review_reason: r.review_reason,
    queue_s: Math.round((now - Date.parse(r.issued_at)) / 1000),
  });
  return json(200, {
    outcome: {
      fine_id: fineId,
      review_id: reviewId,
      decision,
      status: rec.status,
      license_plate: rec.license_plate,
      reviewed_by: reviewer,
      reviewed_at: rec.reviewed_at,
      reason: rec.review_note ?? null,
      image_url: rec.image_url,
      notified: result.pendingNotify,
    },
  });
}

/**
 * The analysed photo re-drawn with the confirmed plate, as a new object beside the first (the evidence bucket
 * keeps objects under retention: never rewritten). Named by the decision, so a decision that loses the race
 * leaves an unreferenced object, never a wrong one. Null when the camera photo cannot be had again.
 */
type Redrawn = { image_uri: string; image_url: string; image_sha256: string };

async function redraw(deps: ReviewDeps, r: FineRecord, plate: string, reviewId: string): Promise<Redrawn | null> {
  const { config, objects, logger } = deps;
  // The copy kept with the evidence first: the captures bucket deletes photos after the non-offender retention.
  const found = await findFinePhoto(objects, config, r, r.capture_copy_uri ?? r.capture_uri);
  if (!found.photo) {
    logger.warn('review: no camera photo to re-draw; the notice keeps the analysed photo', { fine_id: r.fine_id, detail: found.detail });
    return null;
  }
  const png = await deps.draw(
    found.photo.bytes,
    fineAnnotation(config, r, r.fine_id, { plate, confidence: null, box: r.plate_box ?? null }),
  );
  const uri = gsUri(config.buckets.evidence, `${objectName(r.radar_id, `${r.fine_id}-reviewed-${reviewId.slice(-12)}`)}.png`);
  const digest = sha256(png);
  const metadata = { sha256: digest, fine_id: r.fine_id, review_id: reviewId, plate };
  const created = await objects.create(uri, png, { contentType: 'image/png', metadata });
  if (created === 'exists') {
    const stored = await objects.get(uri);
    return { image_uri: uri, image_url: objects.viewUrl(uri), image_sha256: stored ? sha256(stored) : digest };
  }
  return { image_uri: uri, image_url: objects.viewUrl(uri), image_sha256: digest };
}

/** The answer to a claim or a decision the store refused (a decision's 'claimed' is another reviewer's claim). */
function refused(fineId: string, r: Exclude<ClaimResult, { kind: 'claimed' }> | Exclude<DecideResult, { kind: 'decided' }>): Answer {
  switch (r.kind) {
    case 'not_found':
      return notFound(fineId);
    case 'already_decided':
      return decided(r.record);
    case 'claimed_by_other':
    case 'claimed':
      return claimedBy(r.claim);
  }
}

const claimedBy = (c: Claim) =>
  json(409, {
    error: 'claimed',
    message: `${c.by} is reviewing this fine`,
    claimed_by: c.by,
    claimed_until: iso(c.untilMs),
  });

const notFound = (fineId: string) => json(404, { error: 'not_found', message: `no fine ${fineId.slice(0, 100)}` });

const decided = (r: FineRecord) =>
  json(409, {
    error: 'already_decided',
    message:
      statusOf(r) === 'issued'
        ? 'this fine was not held for review'
        : `decided already: ${statusOf(r)}${r.reviewed_by ? ` by ${r.reviewed_by}` : ''}`,
    status: statusOf(r),
    reviewed_by: r.reviewed_by ?? null,
    reviewed_at: r.reviewed_at ?? null,
  });

function contentTypeOf(b: Buffer): string {
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return 'application/octet-stream';
}
