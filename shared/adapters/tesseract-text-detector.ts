import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { cropForOcr, decodePng, locateTextRegions, refineToPlate, toGray } from '../image.js';
import { fitPlateSyntax, type TextDetection } from '../plate.js';
import type { TextDetector } from '../ports.js';

const require = createRequire(import.meta.url);

/** The tesseract language data shipped in @tesseract.js-data/eng: no download, works offline. */
function langPath(): string {
  return join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

/**
 * Reads of one region: (scale, binarise, page segmentation). Further passes run only while no read is
 * sure; the single-line ones catch characters (a J after a Y, say) that block mode sometimes drops.
 */
const PASSES: [number, boolean, PSM][] = [
  [3, true, PSM.SINGLE_BLOCK],
  [2, false, PSM.SINGLE_BLOCK],
  [4, true, PSM.SINGLE_BLOCK],
  [3, true, PSM.SINGLE_LINE],
  [2, false, PSM.SINGLE_LINE],
];
const SURE = 0.85;

/**
 * Local OCR. Tesseract reads a cropped text line far better than a whole scene, so the adapter first
 * finds candidate text regions (`locateTextRegions`), then reads each crop in up to three ways and
 * votes. Detections come back in the photo's coordinates, like Vision's.
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
      // fitPlateSyntax maps look-alikes back to plate characters.
      await w.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK });
      return w;
    })().catch((err: unknown) => {
      this.worker = null;
      throw new Error(`tesseract could not start: ${String(err)}`);
    });
    return this.worker;
  }

  async detect(image: { bytes: Buffer }): Promise<TextDetection[]> {
    // One worker, one image at a time: requests queue here rather than inside tesseract.
    const run = this.queue.then(() => this.read(image.bytes));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(bytes: Buffer): Promise<TextDetection[]> {
    const gray = toGray(decodePng(bytes));
    const worker = await this.getWorker();
    const regions = locateTextRegions(gray).map((r) => refineToPlate(gray, r));
    const out: TextDetection[] = [];
    for (const region of regions) {
      const votes = new Map<string, { confidence: number; n: number }>();
      const raw: TextDetection[] = [];
      for (const [i, [scale, binarize, psm]] of PASSES.entries()) {
        if (psm !== PSM.SINGLE_BLOCK && [...votes.keys()].some((t) => fitPlateSyntax(t))) break; // block mode already found a plate
        if (psm !== PSM.SINGLE_BLOCK) await worker.setParameters({ tessedit_pageseg_mode: psm });
        const { data } = await worker
          .recognize(cropForOcr(gray, region, scale, binarize), {}, { blocks: true })
          .finally(() => (psm !== PSM.SINGLE_BLOCK ? worker.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK }) : undefined));
        for (const line of (data.blocks ?? []).flatMap((b) => b.paragraphs.flatMap((p) => p.lines))) {
          const texts = [line.words.map((w) => w.text).join(''), ...line.words.map((w) => w.text)];
          const confs = [line.confidence, ...line.words.map((w) => w.confidence)];
          const seen = new Set<string>();
          texts.forEach((t, k) => {
            const fit = fitPlateSyntax(t);
            const key = fit?.plate ?? t;
            if (seen.has(key) || key.length === 0) return;
            seen.add(key);
            const v = votes.get(key) ?? { confidence: 0, n: 0 };
            // A read that needed O/0-style swaps counts for less, as in pickPlate.
            const weight = fit?.corrected ? 0.75 : 1;
            votes.set(key, { confidence: v.confidence + (confs[k]! / 100) * weight, n: v.n + 1 });
          });
          if (i === 0) raw.push({ text: line.text.trim(), confidence: line.confidence / 100, box: region });
        }
        const best = [...votes.entries()].filter(([t]) => fitPlateSyntax(t)).sort((a, b) => b[1].confidence - a[1].confidence)[0];
        if (i === 0 && best && best[1].confidence >= SURE) break;
      }
      const ranked = [...votes.entries()].filter(([t]) => fitPlateSyntax(t)).sort((a, b) => b[1].confidence - a[1].confidence);
      if (ranked.length > 0) {
        const [text, v] = ranked[0]!;
        // The plate is found; the other regions are the car.
        return [{ text, confidence: Math.min(1, v.confidence / v.n), box: region }];
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
