import { z } from 'zod';
import {
  amount,
  atLeast,
  commaList,
  ConfigError,
  type GroupValues,
  isTrue,
  setting,
  settingsGroup,
  trueOrFalse,
} from '../core/settings.js';
import { PLATE_FORMAT_PRESETS, resolvePlateFormats } from './plate.js';
import type { FetchPolicy } from './safe-fetch.js';

/**
 * Plate reads less confident than this are flagged for a person (SPEEDCAM_PLATE_REVIEW_BELOW overrides).
 * The model reader's confidence is its least sure plate character's probability. 0.8 was chosen on the
 * calibration set (test/fixtures/plates): the highest threshold that keeps at least 97.5 % of its right
 * reads unflagged, with no wrong read unflagged; sets not used for the choice are measured in docs/ocr.md.
 * Vision's confidences are its own scale, not measured here: its default stays at 0.6.
 */
export const PLATE_REVIEW_BELOW = { model: 0.8, vision: 0.6 } as const;

/** Validates plate formats (preset names or templates), naming the setting when one is wrong. */
export function checkPlateFormats(where: string, formats: string[]): string[] {
  try {
    resolvePlateFormats(formats);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}; or a preset: ${Object.keys(PLATE_FORMAT_PRESETS).join(', ')}`);
  }
  return formats;
}

const bucketName = (fallback: string) =>
  z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'a Cloud Storage bucket name')
    .default(fallback);

/** The fines' settings: the photos (where they come from, where they are kept), the OCR and its review threshold. */
export const fineSettings = settingsGroup(
  'shared/fines/settings.ts',
  {
    // model: PaddleOCR PP-OCRv4 run on the function's CPU (shared/platform/ocr/, no network); vision: Cloud Vision
    // TEXT_DETECTION. docs/ocr.md has the accuracy, time, memory and cost of each.
    ocr: setting(
      'SPEEDCAM_OCR',
      z.enum(['model', 'vision']).default('model'),
      'OCR adapter: `model` (PP-OCRv4 on the CPU) or `vision` (Cloud Vision); see ocr.md',
    ),
    plateReviewBelow: setting(
      'SPEEDCAM_PLATE_REVIEW_BELOW',
      atLeast(0).optional(),
      'plate reads less confident than this are flagged `low_confidence`',
      {
        default: Object.entries(PLATE_REVIEW_BELOW)
          .map(([ocr, v]) => `${v} with \`${ocr}\``)
          .join(', '),
      },
    ),
    objects: setting('SPEEDCAM_OBJECTS', z.enum(['gcs', 'local']).default('gcs'), 'object store: Cloud Storage, or a directory', {
      local: '`local`',
    }),
    objectsDir: setting(
      'SPEEDCAM_OBJECTS_DIR',
      z.string().min(1).default('.speedcam/objects'),
      'the directory, with `local`: `gs://bucket/name` is `<dir>/bucket/name`',
      { local: '`<data-dir>/objects`' },
    ),
    captures: setting('SPEEDCAM_CAPTURES_BUCKET', bucketName('speedcam-captures'), 'where cameras store their captures'),
    evidence: setting('SPEEDCAM_EVIDENCE_BUCKET', bucketName('speedcam-evidence'), 'where the analysed photos are created once'),
    carsApi: setting(
      'SPEEDCAM_CARS_API',
      z
        .string()
        .url('an http(s) URL, e.g. https://example.com/cars-api')
        .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL')
        .optional()
        .or(z.literal('')),
      'seed 001\'s cars API: `GET <url>?vehicle_id=…&radar_id=…` → `{"image_url"}`, the last photo source',
      { default: 'none', local: "the stack's own, unless set" },
    ),
    allowedHosts: setting(
      'SPEEDCAM_PHOTO_HOSTS',
      z.string().default('storage.googleapis.com'),
      "hosts an http(s) photo may come from (`host`, `*.domain`, `host:port`); the cars API's host is added",
      { to: commaList },
    ),
    allowLoopback: setting('SPEEDCAM_PHOTO_ALLOW_LOOPBACK', trueOrFalse(), 'whether photos may come from 127.0.0.0/8 or ::1 (see below)', {
      local: '`true` (unless set)',
      to: isTrue,
    }),
    maxBytes: amount(
      'SPEEDCAM_PHOTO_MAX_BYTES',
      { min: 1024, default: 10 * 1024 * 1024 },
      'size limit of a photo fetch (declared or streamed)',
    ),
    timeoutMs: amount('SPEEDCAM_PHOTO_TIMEOUT_MS', { min: 100, default: 10_000 }, 'time limit of a photo fetch, the whole exchange'),
  },
  ({ ocr, plateReviewBelow, objects, objectsDir, captures, evidence, carsApi, ...fetch }) => {
    const store: { kind: 'local'; dir: string } | { kind: 'gcs' } =
      objects === 'local' ? { kind: 'local', dir: objectsDir } : { kind: 'gcs' };
    const policy: FetchPolicy = { ...fetch, maxRedirects: 3 };
    return {
      ocr,
      /** a plate read with less confidence is still issued, but flagged for manual review */
      plateReviewBelow: plateReviewBelow ?? PLATE_REVIEW_BELOW[ocr],
      objects: store,
      buckets: { captures, evidence },
      /** where fines get photos beyond the observation's image_uri and the captures bucket */
      photos: { carsApi: carsApi || null, fetch: policy },
    };
  },
);

/** The fines' configuration (the runtime passes the whole Config). */
export type FineSettings = GroupValues<typeof fineSettings>;
