import sharp, { type OverlayOptions } from 'sharp';
import { benchArgs } from './options.js';
import { digits, letters, pick, writePlateSet, type R } from './plate-set.js';

/**
 * Writes the old final plate set (test/fixtures/plates-final): photos drawn by a renderer that shares
 * nothing with the ones the OCR was tuned or calibrated on (bench/make-plate-eval-set.ts, cli/generators/
 * capture-photo.ts, both SVG through librsvg in DejaVu/Liberation fonts):
 * - text set by Pango (sharp's `text` input) in fonts those never use: FreeSans, Nimbus Sans (Narrow),
 *   Roboto (Condensed), URW Gothic, Nimbus Mono PS, FreeMono (Debian: fonts-freefont-ttf, fonts-urw-base35,
 *   fonts-roboto-unhinted), each stretched to its plate's box;
 * - the plate warped onto the scene by a homography (perspective: yaw up to ±35°, pitch up to ±15°), in JS;
 * - conditions: motion blur (a line kernel), night (dark, noisy), headlight glare (a bright spot over the
 *   plate), dirt (brown blotches), small plates (10–15 % of the photo's width), two-line plates (UK, France,
 *   Germany, Netherlands, Poland squares), a dealer's frame text and a sticker near the plate;
 * - 1280 × 720 or 1024 × 768 JPEGs at quality 55–85.
 * It was read once as held out (issue 19's first pass); its misses were then studied, so the set and this renderer are
 * tuning material now (`--dirt 0.8` draws dirtier tuning photos). Regenerate with
 * `npm run -s build && node dist/bench/make-plate-final-set.js` (needs those fonts installed).
 */

interface Style {
  country: string;
  formats: string;
  /** the plate as printed, one string per line */
  one: (r: R) => string[];
  /** a two-line (square) layout of the same registration, when the country issues one */
  two?: (r: R) => string[];
  bg: string[];
  ink: string;
  band?: string;
  caption?: string;
}

const STYLES: Style[] = [
  {
    country: 'US-NY',
    formats: 'us-ny',
    one: (r) => [`${letters(r, 3)}-${digits(r, 4)}`],
    bg: ['#f2c230', '#f4f1e6'],
    ink: '#1a2a6c',
    caption: 'NEW YORK',
  },
  {
    country: 'US-CA',
    formats: 'us-ca',
    one: (r) => [`${digits(r, 1, '123456789')}${letters(r, 3)}${digits(r, 3)}`],
    bg: ['#f7f7f2'],
    ink: '#1a2a6c',
    caption: 'California',
  },
  {
    country: 'US-TX',
    formats: 'us-tx',
    one: (r) => [`${letters(r, 3)} ${digits(r, 4)}`],
    bg: ['#f7f7f2'],
    ink: '#111111',
    caption: 'TEXAS',
  },
  {
    country: 'US-NJ',
    formats: 'us-nj',
    one: (r) => [`${letters(r, 1)}${digits(r, 2)} ${letters(r, 3)}`],
    bg: ['#efe3a8'],
    ink: '#111111',
    caption: 'New Jersey',
  },
  {
    country: 'UK',
    formats: 'uk',
    one: (r) => [`${letters(r, 2)}${digits(r, 2)} ${letters(r, 3)}`],
    two: (r) => [`${letters(r, 2)}${digits(r, 2)}`, letters(r, 3)],
    bg: ['#f5c400', '#f7f7f2'],
    ink: '#111111',
    band: 'UK',
  },
  { country: 'SE', formats: 'se', one: (r) => [`${letters(r, 3)} ${digits(r, 3)}`], bg: ['#f7f7f2'], ink: '#111111', band: 'S' },
  {
    country: 'DE',
    formats: 'de',
    one: (r) => [`${letters(r, 1, 'BDFHKMS')}-${letters(r, 2)} ${digits(r, 4, '123456789')}`],
    two: (r) => [`${letters(r, 2, 'BDFHKMS')}-${letters(r, 2)}`, digits(r, 3, '123456789')],
    bg: ['#f7f7f2'],
    ink: '#111111',
    band: 'D',
  },
  {
    country: 'ES',
    formats: 'es',
    one: (r) => [`${digits(r, 4)} ${letters(r, 3, 'BCDFGHJKLMNPRSTVWXYZ')}`],
    bg: ['#f7f7f2'],
    ink: '#111111',
    band: 'E',
  },
  {
    country: 'FR',
    formats: 'fr',
    one: (r) => [`${letters(r, 2)}-${digits(r, 3)}-${letters(r, 2)}`],
    two: (r) => [`${letters(r, 2)}-${digits(r, 3)}`, letters(r, 2)],
    bg: ['#f7f7f2'],
    ink: '#111111',
    band: 'F',
  },
  {
    country: 'IT',
    formats: 'it',
    one: (r) => [`${letters(r, 2)} ${digits(r, 3)}${letters(r, 2)}`],
    bg: ['#f7f7f2'],
    ink: '#111111',
    band: 'I',
  },
  {
    country: 'NL',
    formats: 'nl',
    one: (r) => [`${letters(r, 2, 'BDFGHJKLNPRSTVXZ')}-${digits(r, 3)}-${letters(r, 1, 'BDFGHJKLNPRSTVXZ')}`],
    two: (r) => [`${letters(r, 2, 'BDFGHJKLNPRSTVXZ')}-${digits(r, 3)}`, letters(r, 1, 'BDFGHJKLNPRSTVXZ')],
    bg: ['#f5c400'],
    ink: '#111111',
    band: 'NL',
  },
  {
    country: 'PL',
    formats: 'pl',
    one: (r) => [`${letters(r, 2)} ${digits(r, 5)}`],
    two: (r) => [letters(r, 2), digits(r, 5)],
    bg: ['#f7f7f2'],
    ink: '#111111',
    band: 'PL',
  },
];

const FONTS = [
  'FreeSans Bold',
  'Nimbus Sans Bold',
  'Nimbus Sans Narrow Bold',
  'Roboto Bold',
  'Roboto Condensed Bold',
  'URW Gothic Demi',
  'Nimbus Mono PS Bold',
  'FreeMono Bold',
];
// `--dirt 0.8` draws tuning photos with more dirty plates (the committed set: 0.3)
const values = benchArgs({ out: 'test/fixtures/plates-final', per: '10', seed: '314159', dirt: '0.3' });
const DIRT = Number(values.dirt);
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A line of text set by Pango, stretched to w × h. */
async function textImage(text: string, font: string, colour: string, w: number, h: number): Promise<Buffer> {
  const t = await sharp({ text: { text: `<span foreground="${colour}">${esc(text)}</span>`, font, rgba: true, dpi: 600 } })
    .trim({ threshold: 1 })
    .png()
    .toBuffer();
  return sharp(t)
    .resize(Math.max(1, Math.round(w)), Math.max(1, Math.round(h)), { fit: 'fill' })
    .png()
    .toBuffer();
}

/** The plate, flat, as RGBA pixels. */
async function plateImage(s: Style, lines: string[], bg: string, font: string, height: number) {
  const twoLine = lines.length === 2;
  const aspect = s.band ? (twoLine ? 1.6 : 4.6) : twoLine ? 1.6 : 2;
  const H = Math.round(height);
  const W = Math.round(H * aspect);
  const bandW = s.band ? Math.round(H * (twoLine ? 0.22 : 0.42)) : 0;
  const layers: OverlayOptions[] = [];
  const frame = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect x="1" y="1" width="${W - 2}" height="${H - 2}" rx="${H * 0.07}" fill="${bg}" stroke="${s.ink}" stroke-width="${Math.max(1, H * 0.02)}"/>${bandW ? `<rect x="${H * 0.03}" y="${H * 0.03}" width="${bandW}" height="${H * 0.94}" rx="${H * 0.04}" fill="#1f3f9c"/>` : ''}</svg>`;
  if (bandW)
    layers.push({
      input: await textImage(s.band!, 'FreeSans Bold', '#ffffff', bandW * 0.6, H * (twoLine ? 0.12 : 0.22)),
      left: Math.round(H * 0.03 + bandW * 0.2),
      top: Math.round(H * (twoLine ? 0.8 : 0.68)),
    });
  const room = W - bandW - H * 0.12;
  const left = bandW + H * 0.06;
  if (twoLine) {
    for (const [i, line] of lines.entries()) {
      const lw = Math.min(room, H * 0.34 * line.length * 0.62);
      layers.push({
        input: await textImage(line, font, s.ink, lw, H * 0.36),
        left: Math.round(left + (room - lw) / 2),
        top: Math.round(H * (0.08 + i * 0.47)),
      });
    }
  } else {
    const top = s.caption ? H * 0.3 : H * 0.18;
    const th = s.caption ? H * 0.5 : H * 0.64;
    layers.push({ input: await textImage(lines[0]!, font, s.ink, room, th), left: Math.round(left), top: Math.round(top) });
    if (s.caption)
      layers.push({
        input: await textImage(s.caption, 'Nimbus Sans', s.ink, W * 0.4, H * 0.14),
        left: Math.round(W * 0.3),
        top: Math.round(H * 0.07),
      });
  }
  const { data, info } = await sharp(Buffer.from(frame)).composite(layers).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The homography taking the unit square's corners (0,0) (1,0) (1,1) (0,1) to the quad. */
function squareToQuad(q: [number, number][]): number[] {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q as [[number, number], [number, number], [number, number], [number, number]];
  const dx1 = x1 - x2;
  const dx2 = x3 - x2;
  const dy1 = y1 - y2;
  const dy2 = y3 - y2;
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  const den = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / den;
  const h = (dx1 * sy - sx * dy1) / den;
  return [x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h, 1];
}

function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

/** Draws the plate onto the scene (RGB) inside the quad, with bilinear sampling and its alpha. */
function warpOnto(scene: Buffer, SW: number, SH: number, plate: { data: Buffer; width: number; height: number }, quad: [number, number][]) {
  const inv = invert3(squareToQuad(quad));
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  for (let y = Math.max(0, Math.floor(Math.min(...ys))); y < Math.min(SH, Math.ceil(Math.max(...ys))); y++)
    for (let x = Math.max(0, Math.floor(Math.min(...xs))); x < Math.min(SW, Math.ceil(Math.max(...xs))); x++) {
      const w = inv[6]! * x + inv[7]! * y + inv[8]!;
      const u = ((inv[0]! * x + inv[1]! * y + inv[2]!) / w) * plate.width - 0.5;
      const v = ((inv[3]! * x + inv[4]! * y + inv[5]!) / w) * plate.height - 0.5;
      if (u < -0.5 || v < -0.5 || u > plate.width - 0.5 || v > plate.height - 0.5) continue;
      const u0 = Math.max(0, Math.min(plate.width - 1, Math.floor(u)));
      const v0 = Math.max(0, Math.min(plate.height - 1, Math.floor(v)));
      const u1 = Math.min(plate.width - 1, u0 + 1);
      const v1 = Math.min(plate.height - 1, v0 + 1);
      const fu = Math.max(0, Math.min(1, u - u0));
      const fv = Math.max(0, Math.min(1, v - v0));
      const px = (c: number) => {
        const at = (uu: number, vv: number) => plate.data[(vv * plate.width + uu) * 4 + c]!;
        return (at(u0, v0) * (1 - fu) + at(u1, v0) * fu) * (1 - fv) + (at(u0, v1) * (1 - fu) + at(u1, v1) * fu) * fv;
      };
      const a = px(3) / 255;
      for (let c = 0; c < 3; c++) scene[(y * SW + x) * 3 + c] = Math.round(scene[(y * SW + x) * 3 + c]! * (1 - a) + px(c) * a);
    }
}

async function photo(s: Style, r: R) {
  const twoLine = !!s.two && r() < 0.45;
  const lines = twoLine ? s.two!(r) : s.one(r);
  const font = pick(r, FONTS);
  const [SW, SH] = pick(r, [
    [1280, 720],
    [1024, 768],
  ] as const);
  const small = r() < 0.3;
  const conditions: string[] = [];
  if (twoLine) conditions.push('two-line');
  if (small) conditions.push('small');
  // the plate's width in the photo: 10–15 % (small), else 18–40 %
  const plateW = SW * (small ? 0.1 + r() * 0.05 : 0.18 + r() * 0.22);
  const aspect = s.band ? (twoLine ? 1.6 : 4.6) : twoLine ? 1.6 : 2;
  const flat = await plateImage(s, lines, pick(r, s.bg), font, Math.max(60, Math.min(360, (plateW / aspect) * 3)));
  // Perspective: the plate's corners as a camera off the lane's axis sees them.
  const yaw = (r() - 0.5) * 70 * (Math.PI / 180);
  const pitch = (r() - 0.5) * 30 * (Math.PI / 180);
  const roll = (r() - 0.5) * 8 * (Math.PI / 180);
  if (Math.abs(yaw) > 0.35 || Math.abs(pitch) > 0.15) conditions.push('perspective');
  const pw = plateW;
  const ph = plateW / aspect;
  const cx = SW * (0.3 + r() * 0.4);
  const cy = SH * (0.45 + r() * 0.3);
  const f = SW * 1.2;
  const quad = (
    [
      [-1, -1],
      [1, -1],
      [1, 1],
      [-1, 1],
    ] as const
  ).map(([a, b]) => {
    let X = (a * pw) / 2;
    let Y = (b * ph) / 2;
    let Z = 0;
    [X, Z] = [X * Math.cos(yaw), X * Math.sin(yaw)];
    [Y, Z] = [Y * Math.cos(pitch) - Z * Math.sin(pitch), Y * Math.sin(pitch) + Z * Math.cos(pitch)];
    [X, Y] = [X * Math.cos(roll) - Y * Math.sin(roll), X * Math.sin(roll) + Y * Math.cos(roll)];
    const k = f / (f + Z);
    return [cx + X * k, cy + Y * k] as [number, number];
  });

  // The scene: a road, a car's rear (polygons), a dealer's frame line under the plate, maybe a sticker.
  const car = pick(r, ['#7b1e1e', '#203a7a', '#2b2b2b', '#8a8a8a', '#e4e4e4', '#39593a', '#5a3c6e', '#b07a2a']);
  const bw = pw * (3 + r());
  const scene = `<svg xmlns="http://www.w3.org/2000/svg" width="${SW}" height="${SH}">
  <rect width="${SW}" height="${SH}" fill="${pick(r, ['#6f7a84', '#a9a295', '#4b5560', '#87917e'])}"/>
  <polygon points="0,${SH} ${SW},${SH} ${SW * 0.62},${SH * 0.35} ${SW * 0.38},${SH * 0.35}" fill="#3a3a3a"/>
  <path d="M${cx - bw / 2},${cy + ph * 1.6} L${cx - bw / 2},${cy - ph * 2.2} Q${cx},${cy - ph * 4.4} ${cx + bw / 2},${cy - ph * 2.2} L${cx + bw / 2},${cy + ph * 1.6} Z" fill="${car}"/>
  <rect x="${cx - bw * 0.45}" y="${cy - ph * 1.5}" width="${bw * 0.2}" height="${ph * 0.6}" fill="#b3121a"/>
  <rect x="${cx + bw * 0.25}" y="${cy - ph * 1.5}" width="${bw * 0.2}" height="${ph * 0.6}" fill="#b3121a"/>
  <rect x="${cx - bw / 2}" y="${cy + ph * 0.9}" width="${bw}" height="${ph * 0.5}" fill="#161616"/>
</svg>`;
  const extras: OverlayOptions[] = [];
  if (r() < 0.5) {
    const dealer = pick(r, ['AUTOHAUS MÜLLER', 'www.carsdirect.example', 'BEST DEALS 24/7', 'Garage Dupont']);
    const dw = pw * 0.8;
    extras.push({
      input: await textImage(dealer, 'Nimbus Sans', '#d8d8d8', dw, ph * 0.14),
      left: Math.round(cx - dw / 2),
      top: Math.round(cy + ph * 0.62),
    });
  }
  if (r() < 0.3) {
    const sticker = pick(r, ['HYBRID', 'BABY ON BOARD', 'V8', '4x4']);
    extras.push({
      input: await textImage(sticker, 'Roboto Bold', '#f0f0f0', pw * 0.35, ph * 0.22),
      left: Math.round(cx + bw * 0.1),
      top: Math.round(cy - ph * 2.4),
    });
  }
  const { data: sceneRgb } = await sharp(Buffer.from(scene)).composite(extras).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  warpOnto(sceneRgb, SW, SH, flat, quad);
  // Dirt: brown blotches over the plate.
  let img = sharp(sceneRgb, { raw: { width: SW, height: SH, channels: 3 } });
  const overlays: OverlayOptions[] = [];
  if (r() < DIRT) {
    conditions.push('dirt');
    const blobs = Array.from({ length: 4 + Math.floor(r() * 6) }, () => {
      const [qx, qy] = quad[Math.floor(r() * 4)]!;
      const bx = cx + (qx - cx) * r();
      const by = cy + (qy - cy) * r();
      return `<ellipse cx="${bx}" cy="${by}" rx="${pw * (0.03 + r() * 0.08)}" ry="${ph * (0.05 + r() * 0.12)}" fill="#5b4630" fill-opacity="${0.25 + r() * 0.35}"/>`;
    }).join('');
    overlays.push({
      input: Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${SW}" height="${SH}"><filter id="b"><feGaussianBlur stdDeviation="${Math.max(1, pw * 0.01)}"/></filter><g filter="url(#b)">${blobs}</g></svg>`,
      ),
    });
  }
  const night = r() < 0.25;
  const glare = r() < 0.25;
  if (glare) {
    conditions.push('glare');
    const gx = cx + (r() - 0.5) * pw;
    const gy = cy + (r() - 0.5) * ph;
    overlays.push({
      input: Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${SW}" height="${SH}"><defs><radialGradient id="g"><stop offset="0" stop-color="#ffffff" stop-opacity="${0.5 + r() * 0.3}"/><stop offset="1" stop-color="#ffffff" stop-opacity="0"/></radialGradient></defs><ellipse cx="${gx}" cy="${gy}" rx="${pw * (0.2 + r() * 0.3)}" ry="${ph * (0.5 + r() * 0.5)}" fill="url(#g)"/></svg>`,
      ),
      blend: 'screen',
    });
  }
  if (overlays.length) img = sharp(await img.composite(overlays).png({ compressionLevel: 0 }).toBuffer());
  if (night) {
    conditions.push('night');
    img = sharp(
      await img
        .linear(0.35 + r() * 0.15, 4)
        .png({ compressionLevel: 0 })
        .toBuffer(),
    );
  }
  if (r() < 0.3) {
    conditions.push('motion-blur');
    const len = 3 + 2 * Math.floor(r() * (small ? 2 : 5));
    img = img.convolve({ width: len, height: 3, kernel: Array.from({ length: 3 * len }, (_, j) => (Math.floor(j / len) === 1 ? 1 : 0)) });
  }
  const noise = night ? 10 + r() * 14 : r() * 10;
  const base = await img.png({ compressionLevel: 0 }).toBuffer();
  const noisy = sharp(base).composite([
    {
      input: {
        create: { width: SW, height: SH, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: noise } },
      },
      blend: 'soft-light',
    },
  ]);
  const quality = 55 + Math.floor(r() * 31);
  const jpeg = await noisy.jpeg({ quality }).toBuffer();
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    jpeg,
    printed: lines.join(' / '),
    font,
    width: SW,
    height: SH,
    plateWidthPct: round((pw / SW) * 100),
    yawDeg: round((yaw * 180) / Math.PI),
    pitchDeg: round((pitch * 180) / Math.PI),
    quality,
    conditions,
    quad: quad.map(([x, y]) => [Math.round(x), Math.round(y)]),
  };
}

await writePlateSet({
  out: values.out,
  generator: 'bench/make-plate-final-set.ts',
  seed: Number(values.seed),
  per: Number(values.per),
  styles: STYLES,
  photo,
  split: () => 'final',
});
