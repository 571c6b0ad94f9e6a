/**
 * Text boxes from a DB (Differentiable Binarization) probability map, as PaddleOCR's DBPostProcess finds
 * them: threshold the map, take each connected region, its minimum-area rectangle, keep it when the mean
 * probability inside is high enough, and grow it by `area × unclipRatio / perimeter` on every side (the
 * model is trained to predict a shrunk text kernel).
 */

export type Point = readonly [number, number];
/** Four corners: top-left, top-right, bottom-right, bottom-left (of the text's reading direction). */
export type Quad = readonly [Point, Point, Point, Point];

export interface DbOptions {
  /** pixels with probability above this are text (PaddleOCR's det_db_thresh) */
  threshold: number;
  /** a region whose mean probability is below this is dropped (det_db_box_thresh) */
  boxThreshold: number;
  /** how far the kernel is grown back (det_db_unclip_ratio) */
  unclipRatio: number;
  /** regions with a shorter side than this (map pixels) are dropped */
  minSize: number;
  maxBoxes: number;
}

export const DB_DEFAULTS: DbOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3, maxBoxes: 100 };

export interface DbBox {
  quad: Quad;
  /** mean probability over the region's pixels */
  score: number;
}

/** Boxes in the map's coordinates, largest first. `prob` is row-major, `width × height`. */
export function dbBoxes(prob: Float32Array, width: number, height: number, opts: DbOptions = DB_DEFAULTS): DbBox[] {
  const label = new Int32Array(width * height);
  const out: (DbBox & { area: number })[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < prob.length; start++) {
    if (label[start] !== 0 || prob[start]! <= opts.threshold) continue;
    next++;
    label[start] = next;
    stack.push(start);
    const pixels: number[] = [];
    let sum = 0;
    while (stack.length) {
      const p = stack.pop()!;
      pixels.push(p);
      sum += prob[p]!;
      const x = p % width;
      const y = (p - x) / width;
      for (const [dx, dy] of NEIGHBOURS) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if (label[q] === 0 && prob[q]! > opts.threshold) {
          label[q] = next;
          stack.push(q);
        }
      }
    }
    if (pixels.length < opts.minSize * opts.minSize) continue;
    const score = sum / pixels.length;
    if (score < opts.boxThreshold) continue;
    // Only each row's outermost pixels can be on the hull.
    const rows = new Map<number, [number, number]>();
    for (const p of pixels) {
      const x = p % width;
      const y = (p - x) / width;
      const r = rows.get(y);
      if (!r) rows.set(y, [x, x]);
      else if (x < r[0]) r[0] = x;
      else if (x > r[1]) r[1] = x;
    }
    const edge = [...rows].flatMap(([y, [x0, x1]]) => [...pixelCorners(x0, y), ...pixelCorners(x1, y)]);
    const rect = minAreaRect(hull(edge));
    if (Math.min(rect.w, rect.h) < opts.minSize) continue;
    const grow = (rect.w * rect.h * opts.unclipRatio) / (2 * (rect.w + rect.h));
    const grown = { ...rect, w: rect.w + 2 * grow, h: rect.h + 2 * grow };
    if (Math.min(grown.w, grown.h) < opts.minSize + 2) continue;
    out.push({ quad: clampQuad(rectQuad(grown), width, height), score, area: grown.w * grown.h });
  }
  return out
    .sort((a, b) => b.area - a.area)
    .slice(0, opts.maxBoxes)
    .map(({ quad, score }) => ({ quad, score }));
}

const NEIGHBOURS = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
] as const;

/** A pixel's outline corners, so a one-pixel-high region still has an area. */
const pixelCorners = (x: number, y: number): Point[] => [
  [x, y],
  [x + 1, y],
  [x + 1, y + 1],
  [x, y + 1],
];

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates. */
export function hull(points: readonly Point[]): Point[] {
  const ps = [...new Map(points.map((p) => [`${p[0]},${p[1]}`, p])).values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (ps.length < 3) return ps;
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of ps) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (const p of [...ps].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

interface Rect {
  cx: number;
  cy: number;
  /** along the angle's direction */
  w: number;
  h: number;
  /** radians, of the w side, in (-π/4, π/4] after normalising so w is the "horizontal" side */
  angle: number;
}

/** The smallest rectangle around a convex polygon (one of its sides lies on a hull edge). */
export function minAreaRect(poly: readonly Point[]): Rect {
  let best: Rect | null = null;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of poly) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    }
    const w = maxU - minU;
    const h = maxV - minV;
    if (!best || w * h < best.w * best.h) {
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, w, h, angle: Math.atan2(uy, ux) };
    }
  }
  if (!best) {
    const xs = poly.map((p) => p[0]);
    const ys = poly.map((p) => p[1]);
    const x0 = Math.min(...xs, 0);
    const y0 = Math.min(...ys, 0);
    const x1 = Math.max(...xs, 0);
    const y1 = Math.max(...ys, 0);
    return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, w: x1 - x0, h: y1 - y0, angle: 0 };
  }
  // Turn the angle into (-π/4, π/4]: a rectangle turned by 90° is the same one with w and h swapped.
  let { w, h, angle } = best;
  while (angle > Math.PI / 4) [angle, w, h] = [angle - Math.PI / 2, h, w];
  while (angle <= -Math.PI / 4) [angle, w, h] = [angle + Math.PI / 2, h, w];
  return { ...best, w, h, angle };
}

function rectQuad(r: Rect): Quad {
  const ux = Math.cos(r.angle);
  const uy = Math.sin(r.angle);
  const at = (su: number, sv: number): Point => [
    r.cx + (su * r.w * ux) / 2 - (sv * r.h * uy) / 2,
    r.cy + (su * r.w * uy) / 2 + (sv * r.h * ux) / 2,
  ];
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

const clampQuad = (q: Quad, width: number, height: number): Quad =>
  q.map(([x, y]) => [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y))] as const) as unknown as Quad;
