import type { CoreSettings } from '../core/core-settings.js';
import type { ExportSettings } from '../export/settings.js';
import { speedingVehicleAccepted, type AcceptedSpeedingVehicle } from '../contracts/speeding-vehicle.js';
import { Rejection } from '../core/rejection.js';
import type { Effects } from '../core/effects.js';
import { decodeJsonObject } from '../core/payload.js';
import { sha256 } from '../core/hashing.js';
import { drawAnalysedPhoto } from './evidence-photo.js';
import { keepCapture } from './capture-copy.js';
import { gsUri, objectName } from './object-names.js';
import { fineAnnotation, findFinePhoto } from './fine-photo.js';
import { plateReview, rankPlates, type PlateRead } from './plate.js';
import type { ObjectStore, TextDetector } from './ports.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { sendToDeadLetters } from '../dead-letters/send.js';
import { fineIdOf, type FineRecord, type FineReviewReason, type FineStore, notifyFine } from './fine-record.js';
import type { FineSettings } from './settings.js';
import type { Topics } from '../contracts/topics.js';
import { iso } from '../core/clock.js';

/** What the fine function reads of the configuration (the runtime passes the whole Config). */
export type FineConfig = FineSettings &
  Pick<CoreSettings, 'maxMessageBytes'> &
  Pick<ExportSettings, 'exportGraceMs'> & {
    topics: Pick<Topics, 'speedingVehicles' | 'fineNotifications' | 'deadLetters'>;
    /** each radar's name and plate formats (shared/speed/radar.ts) */
    radars: ReadonlyMap<string, { name: string; plateFormats: readonly string[] }>;
    /** SPEEDCAM_REVIEW_EVERY_FINE (shared/review/settings.ts): every fine waits for a person */
    review: { everyFine: boolean };
  };

export interface FineDeps extends Effects {
  config: FineConfig;
  fines: FineStore;
  objects: ObjectStore;
  ocr: TextDetector;
}

/**
 * The fine function: photo → plate (OCR) → analysed photo in the evidence bucket → fine record →
 * fine-notifications. Every step is keyed by the fine id (derived from the passage), so a redelivery
 * or a retry after a crash at any step finds what was done and finishes it, with one fine and one
 * notification. A missing or unreadable photo, or an OCR failure, still gives a fine, flagged for review:
 * status `pending_review`, recorded but not notified until a person decides (shared/review/).
 */
export async function issueFine(deps: FineDeps, msg: InboundMessage): Promise<FineRecord | null> {
  const { config, logger } = deps;
  const json = decodeJsonObject(msg, config.maxMessageBytes);
  const checked = json instanceof Rejection ? null : speedingVehicleAccepted.safeParse(json);
  if (!checked?.success) {
    const rejection =
      json instanceof Rejection
        ? json
        : new Rejection(
            'invalid_fields',
            `speeding message: ${checked!.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          );
    await sendToDeadLetters(deps, config.topics.speedingVehicles, msg, rejection);
    return null;
  }
  const parsed = checked.data;
  const fineId = fineIdOf(parsed.passage_id);
  const existing = await deps.fines.get(fineId);
  if (existing) {
    if (existing.pendingNotify) await notifyFine(deps, existing.record);
    return existing.record;
  }

  const evidence = await buildEvidence(deps, parsed, fineId);
  deps.faults.check('fine.beforeRecord');
  const stored = await deps.fines.createOnce({
    fine_id: fineId,
    passage_id: parsed.passage_id,
    radar_id: parsed.radar_id,
    vehicle_id: parsed.vehicle_id,
    avg_speed: parsed.avg_speed,
    speed_limit: parsed.speed_limit,
    speed_threshold: parsed.speed_threshold ?? parsed.speed_limit,
    tolerance: parsed.tolerance ?? null,
    coordinates: [...parsed.coordinates],
    first_seen: parsed.first_seen,
    last_seen: parsed.last_seen,
    issued_at: iso(deps.clock.now()),
    ...evidence,
    // Held for a person when the read is doubtful, or always where the city has every plate read by a person.
    status: evidence.review_reason || config.review.everyFine ? 'pending_review' : 'issued',
    captures: (parsed.photos ?? []).map((p) => ({ camera: p.camera, uri: p.uri, at: p.at })),
  });
  deps.faults.check('fine.afterRecord');
  if (stored.pendingNotify) await notifyFine(deps, stored.record);
  logger.info('fine issued', {
    fine_id: fineId,
    passage_id: parsed.passage_id,
    license_plate: stored.record.license_plate,
    review_reason: stored.record.review_reason,
  });
  return stored.record;
}

type Evidence = Pick<
  FineRecord,
  | 'license_plate'
  | 'plate_confidence'
  | 'review_reason'
  | 'image_url'
  | 'image_uri'
  | 'image_sha256'
  | 'capture_uri'
  | 'ocr_ms'
  | 'ocr_wait_ms'
  | 'photo_source'
  | 'capture_copy_uri'
  | 'plate_box'
  | 'plate_alternatives'
>;

async function buildEvidence(deps: FineDeps, m: AcceptedSpeedingVehicle, fineId: string): Promise<Evidence> {
  const { config, objects, logger } = deps;
  const none: Evidence = {
    license_plate: null,
    plate_confidence: null,
    review_reason: null,
    image_url: null,
    image_uri: null,
    image_sha256: null,
    capture_uri: null,
    capture_copy_uri: null,
    ocr_ms: null,
    ocr_wait_ms: null,
    photo_source: null,
    plate_box: null,
    plate_alternatives: [],
  };
  const radar = config.radars.get(m.radar_id);
  const found = await findFinePhoto(objects, config, m, m.image_uri);
  if (!found.photo) {
    // Permanent: retrying would find the same. The fine stands; a person looks at it.
    logger.warn('no photo for the fine; flagged for review', { fine_id: fineId, review_reason: found.problem, detail: found.detail });
    const gs = found.uri?.startsWith('gs://') ? found.uri : null;
    return {
      ...none,
      capture_uri: found.uri,
      image_url: found.problem === 'photo_unreadable' && gs ? objects.viewUrl(gs) : null,
      review_reason: found.problem,
    };
  }
  const photo = found.photo;
  // Before the captures bucket's lifecycle deletes it: the original, as analysed, kept with the fine's evidence.
  const captureCopy = await keepCapture(objects, config.buckets.evidence, m.radar_id, fineId, photo);

  let read: PlateRead | null = null;
  let reads: PlateRead[] = [];
  let review: FineReviewReason | null = null;
  const formats = radar?.plateFormats ?? [];
  const t0 = Date.now();
  let started = t0;
  const onStart = () => void (started = Date.now());
  // A reader that can look again more closely stops at a read that needs no person.
  const enough = (detections: Parameters<typeof rankPlates>[0]) =>
    plateReview(rankPlates(detections, formats)[0] ?? null, config.plateReviewBelow, m.license_plate) === null;
  try {
    // The bytes already downloaded go to the OCR (Vision too): no second read from storage.
    reads = rankPlates(await withRetries(() => deps.ocr.detect({ bytes: photo.bytes, formats, onStart, enough })), formats);
    read = reads[0] ?? null;
  } catch (err) {
    logger.warn('OCR failed; fine flagged for review', { fine_id: fineId, error: String(err) });
    review = 'ocr_error';
  }
  // The wait behind the instance's other photos and the reading itself, apart (a failed attempt that was retried counts as waiting).
  const ocrMs = Date.now() - started;
  const ocrWaitMs = started - t0;
  review ??= plateReview(read, config.plateReviewBelow, m.license_plate);

  const analysed = await drawAnalysedPhoto(
    photo.bytes,
    fineAnnotation(config, m, fineId, { plate: read?.plate ?? null, confidence: read?.confidence ?? null, box: read?.box ?? null }),
  );
  const imageUri = gsUri(config.buckets.evidence, `${objectName(m.radar_id, fineId)}.png`);
  let digest = sha256(analysed);
  // Created once: the evidence bucket keeps objects under a retention policy, so a retry (after a crash
  // between this upload and the fine record) must not rewrite one. The same picture there is success.
  const created = await objects.create(imageUri, analysed, {
    contentType: 'image/png',
    metadata: { sha256: digest, fine_id: fineId, passage_id: m.passage_id, photo_uri: photo.uri.slice(0, 1024) },
  });
  if (created === 'exists') {
    const stored = await objects.get(imageUri);
    const storedDigest = stored ? sha256(stored) : null;
    if (storedDigest !== digest) {
      // A different picture from an earlier attempt (another photo from the cars API, another OCR read):
      // the stored one is the evidence the record points at, and a person checks the plate.
      logger.error('evidence photo already stored with different content; fine flagged for review', {
        fine_id: fineId,
        image_uri: imageUri,
        sha256_stored: storedDigest,
        sha256_now: digest,
      });
      if (storedDigest) digest = storedDigest;
      review = 'evidence_conflict';
    }
  }
  return {
    license_plate: read?.plate ?? null,
    plate_confidence: read ? Math.round(read.confidence * 1000) / 1000 : null,
    review_reason: review,
    image_url: objects.viewUrl(imageUri),
    image_uri: imageUri,
    image_sha256: digest,
    capture_uri: photo.uri,
    capture_copy_uri: captureCopy,
    ocr_ms: ocrMs,
    ocr_wait_ms: ocrWaitMs,
    photo_source: photo.source,
    plate_box: read?.box ?? null,
    plate_alternatives: reads.slice(0, 5).map((r) => ({ plate: r.plate, confidence: Math.round(r.confidence * 1000) / 1000 })),
  };
}

async function withRetries<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i * (0.5 + Math.random())));
    }
  }
}
