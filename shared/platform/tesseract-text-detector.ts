import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createWorker, OEM, PSM, type Block, type Worker } from 'tesseract.js';
import { cropForOcr, estimateSkew, loadGray, locateTextRegions, refineToPlate, trimBand, type Gray } from '../fines/image.js';
import { NY_FORMATS, votePlate, type Box, type OcrPass, type PlateVote, type TextDetection } from '../fines/plate.js';
import type { TextDetector } from '../fines/ports.js';

const require = createRequire(import.meta.url);

/** The tesseract language data shipped in @tesseract.js-data/eng: no download, works offline. */
function langPath(): string {
  return join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

/** Plate characters: letters and digits. Tesseract then never answers a symbol (a bold J as "}"). */
const PLATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Preparations of one region: (crop height in pixels, binarise). The first two always run; when they
 * read different plates (or none), two more settle it, and the disagreement lowers the confidence.
 */
const FIRST: [number, boolean][] = [
  [80, false],
  [60, true],
];
const MORE: [number, boolean][] = [
  [110, true],
  [110, false],
];
/** A region's read at least this sure ends the search (the default review threshold). */
const SURE = 0.6;

/**
 * Local OCR. Tesseract reads a cropped text line far better than a whole scene, so the adapter first
 * finds candidate text regions (`locateTextRegions`), narrows each to the plate, then reads the crop
 * prepared in two (or four) ways, restricted to letters and digits; `votePlate` takes each reading's
 * symbols, drops the ones the engine invents (a glyph read twice, a speck, a band's edge) where that makes
 * a format fit, and votes. Detections come back in the photo's coordinates, like Vision's.
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
      // The crops are PNGs without a resolution: tell tesseract one (else it warns and guesses 70 dpi).
      await w.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK, tessedit_char_whitelist: PLATE_CHARS, user_defined_dpi: '300' });
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
    const out: TextDetection[] = [];
    let best: { vote: PlateVote; box: Box } | null = null;
    for (const band of await locateTextRegions(gray)) {
      const dark = isDarkPlate(gray, band);
      const region = dark ? refineToPlate(gray, band, dark) : trimBand(gray, refineToPlate(gray, band, dark));
      const skew = estimateSkew(gray, region, dark);
      const passes: OcrPass[] = [];
      const readAs = async ([height, binarize]: [number, boolean]) => {
        const crop = await cropForOcr(gray, region, height / Math.max(1, region.y1 - region.y0), binarize, dark, skew);
        const { data } = await worker.recognize(crop, {}, { blocks: true });
        passes.push(toPass(data.blocks ?? []));
      };
      for (const p of FIRST) await readAs(p);
      let vote = votePlate(passes, formats);
      if (!vote || vote.passes < passes.length) {
        for (const p of MORE) await readAs(p);
        vote = votePlate(passes, formats);
      }
      if (vote && (!best || vote.confidence > best.vote.confidence)) best = { vote, box: toPhoto(region) };
      // A sure plate ends the search; an unsure one (a badge's "MODEL3" bent into a format) lets the
      // other regions have their say, and the surest read wins.
      if (best && best.vote.confidence >= SURE) break;
      if (vote) continue;
      // No plate in this region: its lines as read, for pickPlate (a plate outside the formats, flagged).
      for (const line of passes[0]?.lines ?? []) {
        const text = line.words.map((w) => w.text).join(' ').trim();
        const symbols = line.words.flatMap((w) => w.symbols);
        if (text) out.push({ text, confidence: symbols.reduce((n, s) => n + s.confidence, 0) / Math.max(1, symbols.length) / 2, box: toPhoto(region) });
      }
    }
    if (best) return [{ text: best.vote.plate, confidence: best.vote.confidence, box: best.box }];
    // No region held a plate (the crop took in a headlight, say): read the whole photo as sparse text.
    await worker.setParameters({ tessedit_pageseg_mode: PSM.SPARSE_TEXT });
    const { data } = await worker.recognize(bytes, {}, { blocks: true }).finally(() => worker.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK }));
    for (const word of (data.blocks ?? []).flatMap((b) => b.paragraphs.flatMap((p) => p.lines.flatMap((l) => l.words)))) {
      const conf = word.symbols.reduce((n, s) => n + s.confidence, 0) / Math.max(1, word.symbols.length) / 100;
      out.push({ text: word.text, confidence: conf / 2, box: { x0: word.bbox.x0, y0: word.bbox.y0, x1: word.bbox.x1, y1: word.bbox.y1 } });
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

/** Tesseract's blocks as the plate reader takes them: lines of words of symbols, confidences 0–1. */
function toPass(blocks: readonly Block[]): OcrPass {
  const box = (b: { x0: number; y0: number; x1: number; y1: number }) => ({ x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1 });
  return {
    lines: blocks.flatMap((b) =>
      b.paragraphs.flatMap((p) =>
        p.lines.map((l) => ({
          words: l.words.map((w) => ({ text: w.text, box: box(w.bbox), symbols: w.symbols.map((s) => ({ text: s.text, confidence: s.confidence / 100, box: box(s.bbox) })) })),
        })),
      ),
    ),
  };
}
