import sharp from 'sharp';
import { ensureFonts } from './fonts.js';
import type { Box } from './plate.js';

export interface Annotation {
  plate: string | null;
  plateConfidence: number | null;
  plateBox: Box | null;
  avgSpeedKmh: number;
  speedLimitKmh: number;
  radarName: string;
  observedAt: string;
  fineId: string;
}

/** Photos up to this many pixels are drawn on from raw pixels (12 MP: 36–48 MB each). */
const RAW_PIXELS_MAX = 12_000_000;

/** Box stroke colour: tests look for it where the plate is. */
export const PLATE_BOX_COLOUR: readonly [number, number, number] = [255, 23, 68];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The analysed photo kept as evidence (PNG): the camera photo (JPEG, PNG or WebP, turned upright), a
 * box around the plate that was read, and a banner with the measured speed, the limit, the radar and
 * the time. Sizes follow the photo's width, so a 4000-pixel photo gets a readable banner too.
 */
export async function drawAnalysedPhoto(photo: Buffer, a: Annotation, opts: { compressionLevel?: number } = {}): Promise<Buffer> {
  ensureFonts();
  // Decoded once, turned upright, kept as pixels (no intermediate encoding); a photo larger than RAW_PIXELS_MAX
  // (up to MAX_PIXELS, 4 deliveries at once beside the model) is kept as a fast PNG instead, to bound memory.
  const meta = await sharp(photo).metadata();
  const raw = (meta.width ?? 0) * (meta.height ?? 0) <= RAW_PIXELS_MAX;
  const turned = sharp(photo).rotate();
  const upright = await (raw ? turned.raw() : turned.png({ compressionLevel: 1 })).toBuffer({ resolveWithObject: true });
  const { width: W, height: H, channels } = upright.info;
  const k = Math.max(1, W / 640);
  const banner = Math.round(56 * k);
  const [r, g, b] = PLATE_BOX_COLOUR;
  const box = a.plateBox;
  const label = a.plate
    ? `${a.plate}${a.plateConfidence !== null ? ` (${Math.round(a.plateConfidence * 100)} %)` : ''}`
    : 'plate not read: manual review';
  const px = (n: number) => Math.round(n * k);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + banner}">
  ${
    box
      ? `<rect x="${box.x0 - px(4)}" y="${box.y0 - px(4)}" width="${box.x1 - box.x0 + px(8)}" height="${box.y1 - box.y0 + px(8)}" fill="none" stroke="rgb(${r},${g},${b})" stroke-width="${px(4)}"/>
  <rect x="${box.x0 - px(6)}" y="${Math.max(0, box.y0 - px(34))}" width="${Math.max(px(120), label.length * px(11))}" height="${px(26)}" fill="rgb(${r},${g},${b})"/>
  <text x="${box.x0}" y="${Math.max(0, box.y0 - px(34)) + px(19)}" font-family="DejaVu Sans Mono" font-weight="bold" font-size="${px(17)}" fill="#ffffff">${esc(label)}</text>`
      : ''
  }
  <rect x="0" y="${H}" width="${W}" height="${banner}" fill="#111111"/>
  <text x="${px(12)}" y="${H + px(23)}" font-family="DejaVu Sans" font-weight="bold" font-size="${px(18)}" fill="#ffffff">${a.avgSpeedKmh.toFixed(1)} km/h average · limit ${a.speedLimitKmh} km/h${box ? '' : ` · ${esc(label)}`}</text>
  <text x="${px(12)}" y="${H + px(45)}" font-family="DejaVu Sans" font-size="${px(12)}" fill="#cccccc">${esc(a.radarName)} · ${esc(a.observedAt.replace(/\.\d+Z$/, 'Z'))} · fine ${esc(a.fineId)}</text>
</svg>`;
  return (
    sharp(upright.data, raw ? { raw: { width: W, height: H, channels } } : {})
      .extend({ bottom: banner, background: '#111111' })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      // zlib level 3, not sharp's 6: the same pixels, ~8 % more bytes, less than half the CPU (bench/evidence-photo.ts)
      .png({ compressionLevel: opts.compressionLevel ?? 3 })
      .toBuffer()
  );
}
