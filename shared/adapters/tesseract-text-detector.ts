import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { cropForOcr, estimateSkew, loadGray, locateTextRegions, refineToPlate, trimBand, type Gray } from '../image.js';
import { fitPlate, NY_FORMATS, type Box, type TextDetection } from '../plate.js';
import type { TextDetector } from '../ports.js';

const require = createRequire(import.meta.url);

/** The tesseract language data shipped in @tesseract.js-data/eng: no download, works offline. */
function langPath(): string {
  return join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

/**
 * Reads of one region: (crop height in pixels, binarise, page segmentation). Further passes run only
 * while no read is sure; the single-line ones catch characters that block mode sometimes drops.
 */
const PASSES: [number, boolean, PSM][] = [
  [110, true, PSM.SINGLE_BLOCK],
  [80, false, PSM.SINGLE_BLOCK],
  [150, true, PSM.SINGLE_BLOCK],
  [110, true, PSM.SINGLE_LINE],
  [80, false, PSM.SINGLE_LINE],
];
const SURE = 0.85;

/**
 * Local OCR. Tesseract reads a cropped text line far better than a whole scene, so the adapter first
 * finds candidate text regions (`locateTextRegions`), narrows each to the plate, then reads the crop in
 * up to five ways and votes. Detections come back in the photo's coordinates, like Vision's.
 */
export class TesseractTextDetector implements TextDetector {
  private worker: Promise<Worker> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private getWorker(): Promise<Worker> {
    this.worker ??= (async () => {
      const w = await createWorker('eng', OEM.LSTM_ONLY, {
        langPath: langPath(),
        gzip: true,
        cacheMethod: 'none',
        errorHandler: () => undefined, // load errors surface as rejections below, not as uncaught exceptions
      });
      // No character whitelist: it deletes what it cannot map (a bold J read as '}'), while
      // fitPlate maps look-alikes back to plate characters.
      await w.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK });
      return w;
    })().catch((err: unknown) => {
      this.worker = null;
      throw new Error(`tesseract could not start: ${String(err)}`);
    });
    return this.worker;
  }

  async detect(image: { bytes: Buffer; formats?: readonly string[] }): Promise<TextDetection[]> {
    // One worker, one image at a time: requests queue here rather than inside tesseract.
    const run = this.queue.then(() => this.read(image.bytes, image.formats ?? NY_FORMATS));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(bytes: Buffer, formats: readonly string[]): Promise<TextDetection[]> {
    const { gray, scale } = await loadGray(bytes);
    const worker = await this.getWorker();
    const toPhoto = (b: Box): Box => ({ x0: b.x0 * scale, y0: b.y0 * scale, x1: b.x1 * scale, y1: b.y1 * scale });
    // A plate's text is the main thing its region holds: a read is plate-like when it fits a format.
    const plateLike = (t: string) => {
      const f = fitPlate(t, formats);
      return f !== null && f.formatMatch && /[A-Z]/.test(f.plate) && /[0-9]/.test(f.plate);
    };
    const out: TextDetection[] = [];
    for (const band of await locateTextRegions(gray)) {
      const dark = isDarkPlate(gray, band);
      const region = dark ? refineToPlate(gray, band, dark) : trimBand(gray, refineToPlate(gray, band, dark));
      const skew = estimateSkew(gray, region, dark);
      const votes = new Map<string, { confidence: number; n: number }>();
      const raw: TextDetection[] = [];
      let passes = 0;
      for (const [i, [height, binarize, psm]] of PASSES.entries()) {
        if (psm !== PSM.SINGLE_BLOCK && [...votes.keys()].some(plateLike)) break; // block mode already found a plate
        passes++;
        if (psm !== PSM.SINGLE_BLOCK) await worker.setParameters({ tessedit_pageseg_mode: psm });
        const crop = await cropForOcr(gray, region, height / Math.max(1, region.y1 - region.y0), binarize, dark, skew);
        const { data } = await worker
          .recognize(crop, {}, { blocks: true })
          .finally(() => (psm !== PSM.SINGLE_BLOCK ? worker.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK }) : undefined));
        for (const line of (data.blocks ?? []).flatMap((b) => b.paragraphs.flatMap((p) => p.lines))) {
          // The plate's characters are the line's tallest: an EU band's country letter, a state name
          // or a frame's text beside them are smaller, and are left out of the joined read.
          const tallest = Math.max(1, ...line.words.map((w) => w.bbox.y1 - w.bbox.y0));
          const main = line.words.filter((w) => w.bbox.y1 - w.bbox.y0 >= tallest * 0.65);
          // Candidates: every run of neighbouring main words ("WSS-UE 531" without a stray "J" before
          // it), weighted by the share of the line's characters they cover, so that a part of the plate
          // that happens to fit a format ("LEG-G" as LEG6) loses to the whole.
          const chars = (ws: typeof main) => ws.reduce((n, w) => n + w.text.replace(/[^A-Za-z0-9]/g, '').length, 0);
          const total = Math.max(1, chars(main));
          const seen = new Map<string, number>();
          for (let a = 0; a < main.length; a++)
            for (let z = a; z < main.length; z++) {
              const run = main.slice(a, z + 1);
              const text = run.map((w) => w.text).join('');
              const fit = fitPlate(text, formats, { repairExtra: true });
              const key = fit?.plate ?? text;
              if (key.length === 0) continue;
              // A read that needed O/0-style swaps counts for less, as in pickPlate.
              const weight = (fit?.corrected ? 0.75 : 1) * (chars(run) / total) * (Math.min(...run.map((w) => w.confidence)) / 100);
              seen.set(key, Math.max(seen.get(key) ?? 0, weight));
            }
          for (const [key, weight] of seen) {
            const v = votes.get(key) ?? { confidence: 0, n: 0 };
            votes.set(key, { confidence: v.confidence + weight, n: v.n + 1 });
          }
          if (i === 0) raw.push({ text: line.text.trim(), confidence: line.confidence / 100, box: toPhoto(region) });
        }
        // Two differently prepared crops reading the same plate, surely: done.
        const best = [...votes.entries()].filter(([t]) => plateLike(t)).sort((a, b) => b[1].confidence - a[1].confidence)[0];
        if (i === 1 && best && best[1].n >= 2 && best[1].confidence / passes >= SURE) break;
      }
      const ranked = [...votes.entries()].filter(([t]) => plateLike(t)).sort((a, b) => b[1].confidence - a[1].confidence);
      if (ranked.length > 0) {
        const [text, v] = ranked[0]!;
        // Confidence is agreement too: a read that only some passes gave counts for less.
        return [{ text, confidence: Math.min(1, v.confidence / Math.max(passes, v.n)), box: toPhoto(region) }];
      }
      out.push(...raw);
    }
    // No region held a plate (the crop took in a headlight, say): read the whole photo as sparse text.
    await worker.setParameters({ tessedit_pageseg_mode: PSM.SPARSE_TEXT });
    const { data } = await worker.recognize(bytes, {}, { blocks: true }).finally(() => worker.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK }));
    for (const word of (data.blocks ?? []).flatMap((b) => b.paragraphs.flatMap((p) => p.lines.flatMap((l) => l.words)))) {
      out.push({ text: word.text, confidence: word.confidence / 100, box: { x0: word.bbox.x0, y0: word.bbox.y0, x1: word.bbox.x1, y1: word.bbox.y1 } });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.worker) await (await this.worker.catch(() => null))?.terminate();
    this.worker = null;
  }
}

/** Light text on a dark plate (white-on-black, white-on-blue): the median of the region is dark. */
function isDarkPlate(g: Gray, b: Box): boolean {
  const hist = new Array<number>(256).fill(0);
  let n = 0;
  for (let y = Math.round(b.y0); y < Math.round(b.y1); y++)
    for (let x = Math.round(b.x0); x < Math.round(b.x1); x++) {
      hist[g.data[y * g.width + x]!]!++;
      n++;
    }
  let acc = 0;
  for (let v = 0; v < 256; v++) if ((acc += hist[v]!) >= n / 2) return v < 90;
  return false;
}
