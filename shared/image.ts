import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import type { Box } from './plate.js';

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
/** Fonts ship in the package (dejavu-fonts-ttf): rendering is the same on every machine. */
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf'].map((f) => join(FONT_DIR, f));

export function renderSvg(svg: string): Buffer {
  return renderSvgImage(svg).asPng();
}

/** The rendered image, for callers that work on its RGBA pixels before encoding. */
export function renderSvgImage(svg: string) {
  return new Resvg(svg, { font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' } }).render();
}

export interface Gray {
  width: number;
  height: number;
  /** luminance 0–255, row-major */
  data: Float32Array;
}

export function decodePng(bytes: Buffer): PNG {
  return PNG.sync.read(bytes);
}

export function toGray(png: PNG): Gray {
  const data = new Float32Array(png.width * png.height);
  for (let i = 0; i < data.length; i++) data[i] = 0.299 * png.data[4 * i]! + 0.587 * png.data[4 * i + 1]! + 0.114 * png.data[4 * i + 2]!;
  return { width: png.width, height: png.height, data };
}

function boxBlur(g: Gray): Gray {
  const { width: w, height: h } = g;
  const out = new Float32Array(g.data.length);
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += g.data[(y + dy) * w + x + dx]!;
      out[y * w + x] = s / 9;
    }
  return { width: w, height: h, data: out };
}

/**
 * Candidate text regions, best first: rows dense in strong vertical edges form bands (a line of
 * characters has many, a car's outline few), and within a band the densest run of columns is the text.
 * Used to find the plate before OCR, which reads a cropped line far better than a whole scene.
 */
export function locateTextRegions(g0: Gray, max = 3): Box[] {
  const g = boxBlur(g0);
  const { width: w, height: h } = g;
  const strong = 40;
  const edge = new Uint8Array(w * h);
  const rowCount = new Int32Array(h);
  for (let y = 0; y < h; y++) {
    let c = 0;
    for (let x = 3; x < w; x++) {
      const i = y * w + x;
      if (Math.abs(g.data[i]! - g.data[i - 1]!) > strong / 2 && Math.abs(g.data[i]! - g.data[i - 3]!) > strong) {
        edge[i] = 1;
        c++;
      }
    }
    rowCount[y] = c;
  }
  const bands: { y0: number; y1: number; sum: number }[] = [];
  let start = -1;
  for (let y = 0; y <= h; y++) {
    const on = y < h && rowCount[y]! >= 10;
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
    const gap = Math.max(4, Math.round(bh * 0.35));
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
    boxes.push({ x0: Math.max(0, best[0] - mx), y0: Math.max(0, band.y0 - my), x1: Math.min(w, best[1] + 1 + mx), y1: Math.min(h, band.y1 + my) });
  }
  return boxes;
}

/** Otsu's threshold of a set of luminances. */
function otsu(vals: Float32Array): number {
  const hist = new Array<number>(256).fill(0);
  for (const v of vals) hist[Math.max(0, Math.min(255, v | 0))]!++;
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

/** A region scaled up (bilinear) and, optionally, binarised with Otsu's threshold, as a PNG for OCR. */
export function cropForOcr(g: Gray, b: Box, scale: number, binarize: boolean): Buffer {
  const W = Math.max(1, Math.round((b.x1 - b.x0) * scale));
  const H = Math.max(1, Math.round((b.y1 - b.y0) * scale));
  const vals = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const fx = Math.max(0, b.x0 + (x + 0.5) / scale - 0.5);
      const fy = Math.max(0, b.y0 + (y + 0.5) / scale - 0.5);
      const x0 = Math.min(g.width - 1, Math.floor(fx));
      const y0 = Math.min(g.height - 1, Math.floor(fy));
      const x1 = Math.min(g.width - 1, x0 + 1);
      const y1 = Math.min(g.height - 1, y0 + 1);
      const ax = fx - x0;
      const ay = fy - y0;
      const at = (xx: number, yy: number) => g.data[yy * g.width + xx]!;
      vals[y * W + x] = (at(x0, y0) * (1 - ax) + at(x1, y0) * ax) * (1 - ay) + (at(x0, y1) * (1 - ax) + at(x1, y1) * ax) * ay;
    }
  const th = binarize ? otsu(vals) : 0;
  const out = new PNG({ width: W, height: H });
  for (let i = 0; i < W * H; i++) {
    const v = binarize ? (vals[i]! > th ? 255 : 0) : Math.max(0, Math.min(255, vals[i]!));
    out.data[4 * i] = out.data[4 * i + 1] = out.data[4 * i + 2] = v;
    out.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(out);
}

/**
 * Narrows a text region to the plate around the text: within the region (binarised), the largest
 * bright connected component is the plate's background; its bounds, inset past the plate's border,
 * leave out headlights and bodywork that the band took in.
 */
export function refineToPlate(g: Gray, b: Box): Box {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  if (w < 8 || h < 8) return b;
  const vals = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) vals[y * w + x] = g.data[(b.y0 + y) * g.width + b.x0 + x]!;
  const th = otsu(vals);
  const label = new Int32Array(w * h).fill(-1);
  let best = { size: 0, x0: 0, y0: 0, x1: w, y1: h };
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (label[start] !== -1 || vals[start]! <= th) continue;
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
        if (j >= 0 && label[j] === -1 && vals[j]! > th) {
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
