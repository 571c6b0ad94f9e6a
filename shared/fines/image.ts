import sharp, { type Metadata, type Sharp } from 'sharp';
import { ensureFonts } from './fonts.js';
import type { Box } from './plate.js';

/** Photo formats the fine path reads (what cameras and the seed's cars API serve). */
export const PHOTO_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type PhotoFormat = (typeof PHOTO_FORMATS)[number];
export const PHOTO_CONTENT_TYPES: Record<PhotoFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** Refuses decompression bombs: a camera photo is a few megapixels. */
const MAX_PIXELS = 50_000_000;

/** Bytes that are not a JPEG, PNG or WebP photo sharp can decode. */
export class UnreadablePhoto extends Error {
  override name = 'UnreadablePhoto';
}

export interface PhotoInfo {
  format: PhotoFormat;
  width: number;
  height: number;
}

/** The photo's format and size (after its EXIF orientation); throws UnreadablePhoto for anything else. */
export async function inspectPhoto(bytes: Buffer): Promise<PhotoInfo> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: MAX_PIXELS }).metadata();
  } catch (err) {
    throw new UnreadablePhoto(`not an image: ${(err as Error).message}`);
  }
  const format = meta.format as string;
  if (!(PHOTO_FORMATS as readonly string[]).includes(format)) throw new UnreadablePhoto(`unsupported image format ${format}; read: ${PHOTO_FORMATS.join(', ')}`);
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  if (!width || !height) throw new UnreadablePhoto('image without dimensions');
  // Decoding is what proves the bytes are a photo (a truncated JPEG has valid headers).
  try {
    await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'truncated' }).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    throw new UnreadablePhoto(`undecodable ${format}: ${(err as Error).message}`);
  }
  return { format: format as PhotoFormat, width, height };
}

/** SVG to PNG (text with the fonts from ensureFonts). */
export async function renderSvg(svg: string): Promise<Buffer> {
  ensureFonts();
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export interface Gray {
  width: number;
  height: number;
  /** luminance 0–255, row-major */
  data: Uint8Array;
}

/**
 * The photo in grey, upright (EXIF), at most `maxSide` pixels on its long side: the plate finder's
 * thresholds are tuned for camera photos of that size. `scale` maps its coordinates back to the photo's.
 */
export async function loadGray(bytes: Buffer, maxSide = 1024): Promise<{ gray: Gray; scale: number }> {
  const img = sharp(bytes, { limitInputPixels: MAX_PIXELS }).rotate().greyscale();
  const { width: w0, height: h0 } = await inspectPhoto(bytes);
  const k = Math.min(1, maxSide / Math.max(w0, h0));
  const { data, info } = await (k < 1 ? img.resize(Math.round(w0 * k), Math.round(h0 * k)) : img).raw().toBuffer({ resolveWithObject: true });
  return { gray: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }, scale: 1 / k };
}

const rawGray = (g: Gray) => sharp(Buffer.from(g.data.buffer, g.data.byteOffset, g.data.length), { raw: { width: g.width, height: g.height, channels: 1 } });

async function toGray(img: Sharp): Promise<Gray> {
  const { data, info } = await img.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Candidate text regions, best first: rows dense in strong vertical edges form bands (a line of
 * characters has many, a car's outline few), and within a band the densest run of columns is the text.
 * Used to find the plate before OCR, which reads a cropped line far better than a whole scene.
 */
export async function locateTextRegions(g0: Gray, max = 3): Promise<Box[]> {
  const g = await toGray(rawGray(g0).blur(0.8));
  const { width: w, height: h } = g;
  const strong = 40;
  const edge = new Uint8Array(w * h);
  const rowCount = new Int32Array(h);
  // Counted per edge (a run of edge pixels), not per pixel: a blurred outline of a tail light is one
  // edge however wide its ramp, while a line of characters crosses dozens.
  for (let y = 0; y < h; y++) {
    let c = 0;
    for (let x = 3; x < w; x++) {
      const i = y * w + x;
      if (Math.abs(g.data[i]! - g.data[i - 1]!) > strong / 2 && Math.abs(g.data[i]! - g.data[i - 3]!) > strong) {
        edge[i] = 1;
        if (!edge[i - 1]) c++;
      }
    }
    rowCount[y] = c;
  }
  let peak = 0;
  for (let y = 0; y < h; y++) peak = Math.max(peak, rowCount[y]!);
  const rowMin = Math.max(8, Math.round(peak * 0.3));
  const bands: { y0: number; y1: number; sum: number }[] = [];
  let start = -1;
  for (let y = 0; y <= h; y++) {
    const on = y < h && rowCount[y]! >= rowMin;
    if (on && start < 0) start = y;
    if (!on && start >= 0) {
      let sum = 0;
      for (let k = start; k < y; k++) sum += rowCount[k]!;
      if (y - start >= 6) bands.push({ y0: start, y1: y, sum });
      start = -1;
    }
  }
  bands.sort((a, b) => b.sum - a.sum);
  const boxes: Box[] = [];
  for (const band of bands.slice(0, max)) {
    const colCount = new Int32Array(w);
    for (let y = band.y0; y < band.y1; y++) for (let x = 0; x < w; x++) colCount[x]! += edge[y * w + x]!;
    const bh = band.y1 - band.y0;
    // Words of one plate ("CT56 SKK", "SW 849DV") are one span: gaps up to about a character height.
    const gap = Math.max(4, Math.round(bh * 1.2));
    const spans: [number, number][] = [];
    let s = -1;
    let last = -1e9;
    for (let x = 0; x < w; x++) {
      if (colCount[x]! === 0) continue;
      if (s < 0 || x - last > gap) {
        if (s >= 0) spans.push([s, last]);
        s = x;
      }
      last = x;
    }
    if (s >= 0) spans.push([s, last]);
    const score = ([a, b]: [number, number]) => {
      let t = 0;
      for (let x = a; x <= b; x++) t += colCount[x]!;
      return t;
    };
    const best = spans.sort((a, b) => score(b) - score(a))[0];
    if (!best) continue;
    const mx = Math.round(bh * 0.15);
    const my = Math.round(bh * 0.2);
    // More room below the line than above: descenders (a J's hook) have few vertical edges.
    const below = Math.round(bh * 0.35);
    boxes.push({ x0: Math.max(0, best[0] - mx), y0: Math.max(0, band.y0 - my), x1: Math.min(w, best[1] + 1 + mx), y1: Math.min(h, band.y1 + below) });
  }
  return boxes;
}

/** Otsu's threshold of a set of luminances (sharp's threshold takes a fixed level). */
function otsu(vals: ArrayLike<number>): number {
  const hist = new Array<number>(256).fill(0);
  for (let i = 0; i < vals.length; i++) hist[Math.max(0, Math.min(255, vals[i]! | 0))]!++;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * hist[i]!;
  let sB = 0;
  let wB = 0;
  let max = 0;
  let th = 128;
  for (let i = 0; i < 256; i++) {
    wB += hist[i]!;
    if (!wB) continue;
    const wF = vals.length - wB;
    if (!wF) break;
    sB += i * hist[i]!;
    const between = wB * wF * (sB / wB - (sum - sB) / wF) ** 2;
    if (between > max) {
      max = between;
      th = i;
    }
  }
  return th;
}

/**
 * A region cut out, scaled up (cubic), contrast-stretched and, optionally, binarised with Otsu's
 * threshold; dark text on light ground whatever the plate's colours (`invert` for light-on-dark plates).
 * A PNG for OCR.
 */
export async function cropForOcr(g: Gray, b: Box, scale: number, binarize: boolean, invert = false, skewDeg = 0): Promise<Buffer> {
  const left = Math.max(0, Math.floor(b.x0));
  const top = Math.max(0, Math.floor(b.y0));
  const width = Math.max(1, Math.min(g.width - left, Math.ceil(b.x1 - b.x0)));
  const height = Math.max(1, Math.min(g.height - top, Math.ceil(b.y1 - b.y0)));
  let img = rawGray(g)
    .extract({ left, top, width, height })
    .resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), { kernel: 'cubic' })
    .normalise();
  if (invert) img = img.negate();
  // A tilted plate (a camera off-axis, a bent bracket) read level: tesseract wants horizontal lines.
  if (Math.abs(skewDeg) >= 0.75) img = sharp(await img.png().toBuffer()).rotate(-skewDeg, { background: { r: 255, g: 255, b: 255 } }).greyscale();
  // A margin of ground around the text: tesseract misreads characters that touch the crop's edge.
  const pad = Math.round(Math.max(1, height * scale) * 0.15);
  const scaled = await toGray(img);
  const framed = (i: Sharp) => i.extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r: 255, g: 255, b: 255 } });
  if (binarize) return framed(rawGray(scaled).threshold(Math.max(1, otsu(scaled.data)))).png().toBuffer();
  return framed(rawGray(scaled)).png().toBuffer();
}

/**
 * The tilt of the text in a region, in degrees (positive: the line falls to the right): the angle at
 * which the ink's rows line up best (projection profile). Plate-specific: one line of large characters.
 */
export function estimateSkew(g: Gray, b: Box, dark = false, maxDeg = 7, stepDeg = 0.5): number {
  const x0 = Math.max(0, Math.round(b.x0));
  const y0 = Math.max(0, Math.round(b.y0));
  const x1 = Math.min(g.width, Math.round(b.x1));
  const y1 = Math.min(g.height, Math.round(b.y1));
  if (x1 - x0 < 8 || y1 - y0 < 8) return 0;
  const vals: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) vals.push(g.data[y * g.width + x]!);
  const th = otsu(vals);
  const ink: [number, number][] = [];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const v = g.data[y * g.width + x]!;
      if (dark ? v > th : v <= th) ink.push([x - x0, y - y0]);
    }
  if (ink.length < 20) return 0;
  const h = y1 - y0;
  const w = x1 - x0;
  let best = { deg: 0, score: -1 };
  for (let deg = -maxDeg; deg <= maxDeg + 1e-9; deg += stepDeg) {
    const t = Math.tan((deg * Math.PI) / 180);
    const off = Math.ceil(Math.abs(t) * w);
    const bins = new Float64Array(h + 2 * off + 2);
    for (const [x, y] of ink) bins[Math.round(y - x * t) + off]!++;
    let score = 0;
    for (const c of bins) score += c * c;
    // Ties (a level line) go to the smaller angle.
    if (score > best.score * 1.0005 || (Math.abs(score - best.score) <= best.score * 0.0005 && Math.abs(deg) < Math.abs(best.deg))) best = { deg, score };
  }
  return best.deg;
}

/**
 * Narrows a text region to the plate around the text: within the region (binarised), the largest
 * bright connected component is the plate's background; its bounds, inset past the plate's border,
 * leave out headlights and bodywork that the band took in. `dark` looks for a dark plate instead.
 */
export function refineToPlate(g: Gray, b: Box, dark = false): Box {
  const w = Math.round(b.x1 - b.x0);
  const h = Math.round(b.y1 - b.y0);
  if (w < 8 || h < 8) return b;
  const vals = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) vals[y * w + x] = g.data[(Math.round(b.y0) + y) * g.width + Math.round(b.x0) + x]!;
  const th = otsu(vals);
  const on = (i: number) => (dark ? vals[i]! <= th : vals[i]! > th);
  const label = new Int32Array(w * h).fill(-1);
  let best = { size: 0, x0: 0, y0: 0, x1: w, y1: h };
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (label[start] !== -1 || !on(start)) continue;
    let size = 0;
    let x0 = w;
    let y0 = h;
    let x1 = 0;
    let y1 = 0;
    label[start] = start;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w;
      const y = (i / w) | 0;
      size++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1]) {
        if (j >= 0 && label[j] === -1 && on(j)) {
          label[j] = start;
          stack.push(j);
        }
      }
    }
    if (size > best.size) best = { size, x0, y0, x1: x1 + 1, y1: y1 + 1 };
  }
  // Too small to be the plate around the text: keep the band's box.
  if (best.size < w * h * 0.2) return b;
  const inset = Math.max(1, Math.round((best.y1 - best.y0) * 0.04));
  return { x0: b.x0 + best.x0 + inset, y0: b.y0 + best.y0 + inset, x1: b.x0 + best.x1 - inset, y1: b.y0 + best.y1 - inset };
}

/**
 * An EU plate's blue band (or any solid dark strip) at the left of a light plate region, cut off: its
 * country letter would otherwise be read as the plate's first character. A strip is a run of columns
 * dark over 85 % of the region's middle rows (a character's stem is shorter than the region).
 */
export function trimBand(g: Gray, b: Box): Box {
  const x0 = Math.max(0, Math.round(b.x0));
  const x1 = Math.min(g.width, Math.round(b.x1));
  const y0 = Math.max(0, Math.round(b.y0 + (b.y1 - b.y0) * 0.1));
  const y1 = Math.min(g.height, Math.round(b.y1 - (b.y1 - b.y0) * 0.1));
  const h = y1 - y0;
  if (x1 - x0 < 16 || h < 6) return b;
  const vals: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) vals.push(g.data[y * g.width + x]!);
  const th = otsu(vals);
  const darkShare = (x: number) => {
    let n = 0;
    for (let y = y0; y < y1; y++) if (g.data[y * g.width + x]! <= th) n++;
    return n / h;
  };
  const limit = x0 + Math.round((x1 - x0) * 0.35);
  let x = x0;
  while (x < limit && darkShare(x) < 0.85) x++;
  const start = x;
  while (x < limit && darkShare(x) >= 0.85) x++;
  const run = x - start;
  // The band is at the plate's left edge and about a third of its height wide; a border line is a few
  // pixels, a character's stem narrower and further in.
  if (run < h * 0.25 || start - x0 > (x1 - x0) * 0.1 || x >= limit) return b;
  // The band's letter and stars sit inside it: skip to the first light column past its dark edge.
  while (x < limit && darkShare(x) >= 0.3) x++;
  return { ...b, x0: x };
}

/**
 * Zero-mean sensor noise of the given amplitude over an image, drawn from `random` (so a seeded
 * generator gives the same photo), blended by sharp.
 */
export async function withSensorNoise(img: Sharp, width: number, height: number, amplitude: number, random: () => number): Promise<Sharp> {
  const noise = Buffer.alloc(width * height);
  let seed = Math.floor(random() * 2 ** 31) | 1;
  for (let i = 0; i < noise.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    noise[i] = Math.max(0, Math.min(255, 128 + ((seed >>> 0) / 2 ** 32 - 0.5) * amplitude));
  }
  // Hard light of a mid-grey layer is the identity; its deviations brighten or darken each pixel.
  const base = await img.removeAlpha().png({ compressionLevel: 0 }).toBuffer();
  return sharp(base).composite([{ input: noise, raw: { width, height, channels: 1 }, blend: 'hard-light' }]);
}
