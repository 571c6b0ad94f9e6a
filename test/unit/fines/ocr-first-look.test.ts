import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { TextDetection } from '../../../shared/fines/plate.js';
import { PaddleTextDetector } from '../../../shared/platform/ocr/paddle-text-detector.js';

/**
 * The reader's first, cheaper look (the detector's input at most 480 pixels long): it stands when the caller
 * says what it found is enough, and otherwise the photo is looked at again at the full size, from scratch.
 */
const glancing = new PaddleTextDetector({ firstLookSide: 480 });
const plain = new PaddleTextDetector({ firstLookSide: 0 });
afterAll(() => Promise.all([glancing.close(), plain.close()]));

// 1024 × 768, a New York plate
const bytes = readFileSync('test/fixtures/plates/000-us-ny.jpg');
const texts = (d: TextDetection[]) => d.map((x) => x.text);

/** The sizes the detector's input was given, one per look. */
function watchLooks(reader: PaddleTextDetector): { sides: number[]; restore(): void } {
  const sides: number[] = [];
  const inner = reader as unknown as { look(m: unknown, p: unknown, side: number): Promise<TextDetection[]> };
  const original = inner.look.bind(inner);
  const spy = vi.spyOn(inner, 'look').mockImplementation((m, p, side) => {
    sides.push(side);
    return original(m, p, side);
  });
  return { sides, restore: () => spy.mockRestore() };
}

describe("the reader's first look", () => {
  it('stands when it is enough: one look, at the first size', async () => {
    const looks = watchLooks(glancing);
    const seen: string[][] = [];
    const found = await glancing.detect({ bytes, formats: ['us-ny'], enough: (d) => (seen.push(texts(d)), true) });
    looks.restore();
    expect(looks.sides).toEqual([480]);
    expect(seen).toEqual([texts(found)]);
    expect(found.length).toBeGreaterThan(0);
  });

  it('is looked at again at the full size when it is not, and only the second look counts', async () => {
    const looks = watchLooks(glancing);
    let asked = 0;
    const found = await glancing.detect({ bytes, formats: ['us-ny'], enough: () => (asked++, false) });
    looks.restore();
    expect(looks.sides).toEqual([480, 960]);
    expect(asked).toBe(1);
    const full = await plain.detect({ bytes, formats: ['us-ny'] });
    expect(texts(found)).toEqual(texts(full));
    expect(found.map((d) => d.box)).toEqual(full.map((d) => d.box));
  });

  it('is not taken when the caller cannot say what is enough (a bench, another port user)', async () => {
    const looks = watchLooks(glancing);
    await glancing.detect({ bytes, formats: ['us-ny'] });
    looks.restore();
    expect(looks.sides).toEqual([960]);
  });

  it('is not taken on a photo already smaller than the first look', async () => {
    const small = await (await import('sharp')).default(bytes).resize(400).jpeg().toBuffer();
    const looks = watchLooks(glancing);
    await glancing.detect({ bytes: small, formats: ['us-ny'], enough: () => false });
    looks.restore();
    expect(looks.sides).toEqual([960]);
  });
});
