import type { TextDetection } from '../shared/fines/plate.js';
import type { TextDetector } from '../shared/fines/ports.js';

interface GutenyeLine {
  text: string;
  mean: number;
  box?: number[][];
}
interface GutenyeOcr {
  detect(image: Buffer | string): Promise<GutenyeLine[]>;
}

/**
 * The candidate the project did not keep (docs/ocr.md): the same PP-OCRv4 models run by the
 * `@gutenye/ocr-node` library. Only bench:ocr uses it, to compare. It gives a line's mean character
 * probability, no per-character ones, and joins the words of a line with spaces.
 */
export class GutenyeTextDetector implements TextDetector {
  private constructor(private readonly ocr: GutenyeOcr) {}

  static async create(): Promise<GutenyeTextDetector> {
    // Not a dependency of the project (it was measured and not kept): `npm i --no-save @gutenye/ocr-node@1.4.8` to compare again.
    const name = '@gutenye/ocr-node';
    const lib = (await import(name).catch(() => {
      throw new Error(`${name} is not installed: npm i --no-save @gutenye/ocr-node@1.4.8`);
    })) as { default: { create(o?: object): Promise<GutenyeOcr> } };
    return new GutenyeTextDetector(await lib.default.create());
  }

  async detect(image: { bytes: Buffer }): Promise<TextDetection[]> {
    const lines = await this.ocr.detect(image.bytes);
    return lines.map((l) => {
      const xs = (l.box ?? []).map((p) => p[0] ?? 0);
      const ys = (l.box ?? []).map((p) => p[1] ?? 0);
      const box = xs.length
        ? { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) }
        : { x0: 0, y0: 0, x1: 0, y1: 0 };
      return { text: l.text, confidence: l.mean, box };
    });
  }

  async close(): Promise<void> {}
}
