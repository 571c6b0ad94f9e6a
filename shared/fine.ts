import { z } from 'zod';
import type { Config } from './config.js';
import { Rejection, sha256 } from './dead-letter.js';
import { drawAnalysedPhoto } from './evidence-photo.js';
import { decodePng } from './image.js';
import type { Logger } from './logger.js';
import { gsUri, objectName, parseGsUri } from './object-names.js';
import { pickPlate, type PlateRead } from './plate.js';
import type { Clock, Faults, ObjectStore, Publisher, Row, TextDetector } from './ports.js';
import type { InboundMessage } from './pubsub-message.js';
import { sendToDeadLetters } from './speed-check.js';

export type FineReviewReason = 'photo_missing' | 'photo_unreadable' | 'ocr_error' | 'plate_not_read' | 'low_confidence' | 'plate_mismatch';

/** The fine as stored, notified and exported (seed 000's fined_vehicles columns and more). */
export interface FineRecord {
  fine_id: string;
  passage_id: string;
  radar_id: string;
  vehicle_id: string;
  avg_speed: number;
  speed_limit: number;
  coordinates: number[];
  license_plate: string | null;
  plate_confidence: number | null;
  review_reason: FineReviewReason | null;
  /** the analysed photo, for a person to open (authenticated URL in Google Cloud, file URL locally) */
  image_url: string | null;
  image_uri: string | null;
  image_sha256: string | null;
  capture_uri: string | null;
  first_seen: string;
  last_seen: string;
  issued_at: string;
  ocr_ms: number | null;
}

export interface StoredFine {
  record: FineRecord;
  pendingNotify: boolean;
}

export interface FineStore {
  get(fineId: string): Promise<StoredFine | null>;
  /** stores the record unless one exists; returns what is stored */
  createOnce(record: FineRecord): Promise<StoredFine>;
  markNotified(fineId: string): Promise<void>;
  scanForExport(fromMs: number, toMs: number, limit: number): Promise<(StoredFine & { exportAtMs: number })[]>;
}

export interface FineDeps {
  config: Config;
  fines: FineStore;
  objects: ObjectStore;
  ocr: TextDetector;
  publisher: Publisher;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}

/** What the speed check publishes on speeding-vehicles (see decisionMessage). */
const speedingMessage = z.object({
  passage_id: z.string().min(1).max(200),
  radar_id: z.string().min(1).max(64),
  vehicle_id: z.string().min(1).max(64),
  avg_speed: z.number().finite(),
  speed_limit: z.number().finite(),
  coordinates: z.tuple([z.number(), z.number()]),
  is_Ticketed: z.literal(true),
  license_plate: z.string().nullable(),
  image_uri: z.string().nullable(),
  first_seen: z.string(),
  last_seen: z.string(),
});

export function fineIdOf(passageId: string): string {
  return `F${sha256(`fine|${passageId}`).slice(0, 19).toUpperCase()}`;
}

/**
 * The fine function: photo → plate (OCR) → analysed photo in the evidence bucket → fine record →
 * fine-notifications. Every step is keyed by the fine id (derived from the passage), so a redelivery
 * or a retry after a crash at any step finds what was done and finishes it, with one fine and one
 * notification. A missing or unreadable photo, or an OCR failure, still gives a fine, flagged for review.
 */
export async function issueFine(deps: FineDeps, msg: InboundMessage): Promise<FineRecord | null> {
  const { config, logger } = deps;
  let parsed: z.infer<typeof speedingMessage>;
  try {
    parsed = speedingMessage.parse(JSON.parse(msg.data.toString('utf8')));
  } catch (err) {
    const detail = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : String(err);
    await sendToDeadLetters(deps, config.topics.speedingVehicles, msg, new Rejection('invalid_fields', `speeding message: ${detail}`));
    return null;
  }
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
    coordinates: [...parsed.coordinates],
    first_seen: parsed.first_seen,
    last_seen: parsed.last_seen,
    issued_at: new Date(deps.clock.now()).toISOString(),
    ...evidence,
  });
  deps.faults.check('fine.afterRecord');
  if (stored.pendingNotify) await notifyFine(deps, stored.record);
  logger.info('fine issued', { fine_id: fineId, passage_id: parsed.passage_id, license_plate: stored.record.license_plate, review_reason: stored.record.review_reason });
  return stored.record;
}

/** Publishes the fine notification, then marks it sent (the flush re-sends unmarked ones). */
export async function notifyFine(deps: Pick<FineDeps, 'config' | 'publisher' | 'faults'> & { fines: Pick<FineStore, 'markNotified'> }, record: FineRecord): Promise<void> {
  await deps.publisher.publish(deps.config.topics.fineNotifications, Buffer.from(JSON.stringify(fineNotification(record))), {
    fine_id: record.fine_id,
    passage_id: record.passage_id,
  });
  deps.faults.check('fine.afterPublish');
  await deps.fines.markNotified(record.fine_id);
}

export function fineNotification(r: FineRecord): Record<string, unknown> {
  return { ...r, is_Ticketed: true };
}

type Evidence = Pick<FineRecord, 'license_plate' | 'plate_confidence' | 'review_reason' | 'image_url' | 'image_uri' | 'image_sha256' | 'capture_uri' | 'ocr_ms'>;

async function buildEvidence(deps: FineDeps, m: z.infer<typeof speedingMessage>, fineId: string): Promise<Evidence> {
  const { config, objects, logger } = deps;
  const none: Evidence = { license_plate: null, plate_confidence: null, review_reason: null, image_url: null, image_uri: null, image_sha256: null, capture_uri: null, ocr_ms: null };
  const captureUri = m.image_uri ?? (await findCapture(objects, config.buckets.captures, m.radar_id, m.vehicle_id, Date.parse(m.first_seen), Date.parse(m.last_seen)));
  if (!captureUri) return { ...none, review_reason: 'photo_missing' };
  let photo: Buffer | null;
  try {
    photo = await objects.get(captureUri);
  } catch (err) {
    if (/not a gs:|unsafe object name/.test(String(err))) photo = null;
    else throw err; // storage unavailable: transient, retried
  }
  if (!photo) return { ...none, capture_uri: captureUri, review_reason: 'photo_missing' };
  try {
    decodePng(photo);
  } catch {
    return { ...none, capture_uri: captureUri, image_url: objects.viewUrl(captureUri), review_reason: 'photo_unreadable' };
  }

  let read: PlateRead | null = null;
  let review: FineReviewReason | null = null;
  const t0 = Date.now();
  try {
    read = pickPlate(await withRetries(() => deps.ocr.detect({ gcsUri: captureUri, bytes: photo })));
  } catch (err) {
    logger.warn('OCR failed; fine flagged for review', { fine_id: fineId, error: String(err) });
    review = 'ocr_error';
  }
  const ocrMs = Date.now() - t0;
  if (!review) {
    if (!read) review = 'plate_not_read';
    else if (read.confidence < config.plateReviewBelow) review = 'low_confidence';
    else if (m.license_plate && m.license_plate.replace(/[^A-Z0-9]/gi, '').toUpperCase() !== read.plate) review = 'plate_mismatch';
  }

  const radar = config.radars.get(m.radar_id);
  const analysed = drawAnalysedPhoto(photo, {
    plate: read?.plate ?? null,
    plateConfidence: read?.confidence ?? null,
    plateBox: read?.box ?? null,
    avgSpeedKmh: m.avg_speed,
    speedLimitKmh: m.speed_limit,
    radarName: radar?.name ?? m.radar_id,
    observedAt: m.last_seen,
    fineId,
  });
  const imageUri = gsUri(config.buckets.evidence, `${objectName(m.radar_id, fineId)}.png`);
  const digest = sha256(analysed);
  // Same name on a retry: the object is overwritten with the same picture, never duplicated.
  await objects.put(imageUri, analysed, { contentType: 'image/png', metadata: { sha256: digest, fine_id: fineId, passage_id: m.passage_id, capture_uri: captureUri } });
  return {
    license_plate: read?.plate ?? null,
    plate_confidence: read ? Math.round(read.confidence * 1000) / 1000 : null,
    review_reason: review,
    image_url: objects.viewUrl(imageUri),
    image_uri: imageUri,
    image_sha256: digest,
    capture_uri: captureUri,
    ocr_ms: ocrMs,
  };
}

/**
 * Seed-format observations carry no photo: the camera stores it by convention at
 * captures/<radar>/<vehicle>/<time ms>.png; the capture closest to the passage (within a minute) is it.
 */
export async function findCapture(objects: ObjectStore, bucket: string, radarId: string, vehicleId: string, firstMs: number, lastMs: number): Promise<string | null> {
  const prefix = gsUri(bucket, `${objectName(radarId, vehicleId)}/`);
  const uris = await objects.list(prefix);
  let best: { uri: string; d: number } | null = null;
  for (const uri of uris) {
    const t = Number(/\/(\d+)\.png$/.exec(parseGsUri(uri).name)?.[1]);
    if (!Number.isFinite(t)) continue;
    const d = t < firstMs ? firstMs - t : t > lastMs ? t - lastMs : 0;
    if (d <= 60_000 && (!best || d < best.d)) best = { uri, d };
  }
  return best?.uri ?? null;
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

/** A fined_vehicles row; row_id = fine_id. */
export function fineRow(r: FineRecord): Row {
  return { row_id: r.fine_id, ...r, is_Ticketed: true };
}
