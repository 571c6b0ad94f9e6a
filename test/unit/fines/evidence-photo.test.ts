import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { drawAnalysedPhoto, type Annotation } from '../../../shared/fines/evidence-photo.js';

const annotation: Annotation = {
  plate: 'KXT4821',
  plateConfidence: 0.97,
  plateBox: { x0: 200, y0: 300, x1: 380, y1: 350 },
  avgSpeedKmh: 71.4,
  speedLimitKmh: 50,
  radarName: 'NYC 5th Ave',
  observedAt: '2026-12-07T02:00:00.000Z',
  fineId: 'F0123456789ABCDEF',
};

/** A photo of noise (nothing compresses it away), as JPEG. */
async function photo(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The analysed photo's top rows, above the plate's box and its label, against the camera photo's. */
async function sameTopRows(original: Buffer, analysed: Buffer, rows: number): Promise<boolean> {
  const a = await sharp(original).extract({ left: 0, top: 0, width: 160, height: rows }).removeAlpha().raw().toBuffer();
  const b = await sharp(analysed).extract({ left: 0, top: 0, width: 160, height: rows }).removeAlpha().raw().toBuffer();
  return a.equals(b);
}

describe('the analysed photo', () => {
  it('keeps the camera photo lossless under a banner, drawn from raw pixels', async () => {
    const original = await photo(640, 480);
    const png = await drawAnalysedPhoto(original, annotation);
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 640, height: 480 + 56 });
    expect(await sameTopRows(original, png, 200)).toBe(true);
  });

  it('a photo over 12 megapixels is drawn the same way, through a fast PNG instead of raw pixels', async () => {
    const original = await photo(4100, 3000);
    const png = await drawAnalysedPhoto(original, annotation);
    const meta = await sharp(png).metadata();
    expect(meta.width).toBe(4100);
    expect(meta.height).toBe(3000 + Math.round(56 * (4100 / 640)));
    expect(await sameTopRows(original, png, 200)).toBe(true);
  });
});
