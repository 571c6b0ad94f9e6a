import { benchArgs } from './options.js';
import { digits, letters, pick, writePlateSet, type R } from './plate-set.js';
import sharp from 'sharp';
import { ensureFonts } from '../shared/fines/fonts.js';

/**
 * Writes the plate evaluation set (test/fixtures/plates/*.jpg + manifest.json): photos of plates of
 * several countries that the traffic generator's renderer (cli/generators/capture-photo.ts) did not draw, so the
 * OCR is measured on pictures it was not tuned to. Each photo varies font, plate colours and layout
 * (US states with their state name and slogan, UK, EU plates with the blue band, Sweden's "CCC 444",
 * Germany's "B-MW 1234", Spain's "0000 BBB", …), tilt (±5°), scale, blur, sensor noise and JPEG quality
 * (60–90). The model reader's calibration set (both halves, "tune" and "holdout", named for the earlier
 * tesseract reader's tuning): docs/ocr.md says how each set is used.
 *
 * Run once; the files are committed (`npm run -s build && node dist/bench/make-plate-eval-set.js`).
 * A second held-out set, drawn with another seed after the tuning was done and never used for it:
 * `node dist/bench/make-plate-eval-set.js --out test/fixtures/plates-holdout2 --seed 90210 --per 10 --split holdout`.
 * A tuning set with yet another seed need not be committed (`--out /tmp/plates-tune2 --seed 7001 --split tune`).
 */

interface Style {
  country: string;
  /** plate format preset a radar there would list */
  formats: string;
  /** makes a plate as printed (with its spaces and dashes) */
  make: (r: R) => string;
  /** width ÷ height of the plate */
  aspect: number;
  colours: { bg: string; ink: string; name: string }[];
  band?: string;
  top?: string;
  bottom?: string;
}

/** Germany's "B-MW 1234": at most 8 letters and digits in all (the digits give way), as the registration rules say. */
function germanPlate(r: R): string {
  const district = letters(r, 1 + Math.floor(r() * 3), 'ABDEFGHKLMNRSW');
  const middle = letters(r, 1 + Math.floor(r() * 2));
  const number = digits(r, 1 + Math.floor(r() * 4), '123456789');
  return `${district}-${middle} ${number.slice(0, 8 - district.length - middle.length)}`;
}

const WHITE = { bg: '#f7f7f2', ink: '#111111', name: 'black on white' };
const YELLOW = { bg: '#f5c400', ink: '#111111', name: 'black on yellow' };
const DARK = { bg: '#1d1f24', ink: '#e8e8e8', name: 'white on dark' };
const NAVY = { bg: '#f4f1e6', ink: '#1a2a6c', name: 'navy on white' };

const STYLES: Style[] = [
  {
    country: 'US-NY',
    formats: 'us-ny',
    make: (r) => `${letters(r, 3)}-${digits(r, 4)}`,
    aspect: 2,
    colours: [NAVY, { bg: '#f2c230', ink: '#1a2a6c', name: 'navy on gold' }],
    top: 'NEW YORK',
    bottom: 'EMPIRE STATE',
  },
  {
    country: 'US-CA',
    formats: 'us-ca',
    make: (r) => `${digits(r, 1, '123456789')}${letters(r, 3)}${digits(r, 3)}`,
    aspect: 2,
    colours: [NAVY, WHITE],
    top: 'California',
    bottom: 'dmv.ca.gov',
  },
  {
    country: 'US-TX',
    formats: 'us-tx',
    make: (r) => `${letters(r, 3)}-${digits(r, 4)}`,
    aspect: 2,
    colours: [WHITE, DARK],
    top: 'TEXAS',
    bottom: 'THE LONE STAR STATE',
  },
  {
    country: 'US-NJ',
    formats: 'us-nj',
    make: (r) => `${letters(r, 1)}${digits(r, 2)}-${letters(r, 3)}`,
    aspect: 2,
    colours: [{ bg: '#f3e9b5', ink: '#111111', name: 'black on cream' }],
    bottom: 'GARDEN STATE',
  },
  {
    country: 'UK',
    formats: 'uk',
    make: (r) => `${letters(r, 2)}${digits(r, 2)} ${letters(r, 3, 'ABCDEFGHJKLMNOPRSTUVWXYZ')}`,
    aspect: 4.7,
    colours: [YELLOW, WHITE, DARK],
    band: 'UK',
  },
  {
    country: 'SE',
    formats: 'se',
    make: (r) => `${letters(r, 3)} ${r() < 0.7 ? digits(r, 3) : digits(r, 2) + letters(r, 1)}`,
    aspect: 4.7,
    colours: [WHITE],
    band: 'S',
  },
  { country: 'DE', formats: 'de', make: germanPlate, aspect: 4.7, colours: [WHITE], band: 'D' },
  {
    country: 'ES',
    formats: 'es',
    make: (r) => `${digits(r, 4)} ${letters(r, 3, 'BCDFGHJKLMNPRSTVWXYZ')}`,
    aspect: 4.7,
    colours: [WHITE],
    band: 'E',
  },
  {
    country: 'FR',
    formats: 'fr',
    make: (r) => `${letters(r, 2)}-${digits(r, 3)}-${letters(r, 2)}`,
    aspect: 4.7,
    colours: [WHITE],
    band: 'F',
  },
  {
    country: 'IT',
    formats: 'it',
    make: (r) => `${letters(r, 2)} ${digits(r, 3)}${letters(r, 2)}`,
    aspect: 4.7,
    colours: [WHITE],
    band: 'I',
  },
  {
    country: 'NL',
    formats: 'nl',
    make: (r) => `${digits(r, 2)}-${letters(r, 3, 'BDFGHJKLNPRSTVXZ')}-${digits(r, 1)}`,
    aspect: 4.7,
    colours: [YELLOW],
    band: 'NL',
  },
  { country: 'PL', formats: 'pl', make: (r) => `${letters(r, 2)} ${digits(r, 5)}`, aspect: 4.7, colours: [WHITE], band: 'PL' },
];

const FONTS = ['DejaVu Sans', 'DejaVu Sans Condensed', 'Liberation Sans', 'Liberation Sans Narrow', 'DejaVu Sans Mono', 'Liberation Mono'];
const FONT_WIDTH: Record<string, number> = {
  'DejaVu Sans': 0.72,
  'DejaVu Sans Condensed': 0.65,
  'Liberation Sans': 0.7,
  'Liberation Sans Narrow': 0.58,
  'DejaVu Sans Mono': 0.62,
  'Liberation Mono': 0.62,
};
const CAR = ['#8b1a1a', '#1a3a8b', '#222222', '#6d6d6d', '#d9d9d9', '#2f6b2f', '#b8b8b8', '#4a2a6a', '#f0f0f0', '#7a5230'];
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function plateSvg(s: Style, printed: string, colour: Style['colours'][number], font: string, h: number): { svg: string; w: number } {
  const w = Math.round(h * s.aspect);
  const bandW = s.band ? Math.round(h * (s.aspect > 3 ? 0.42 : 0)) : 0;
  const us = s.aspect < 3;
  // librsvg ignores textLength: fit the size to the room, with each font's width of a bold capital.
  const em = FONT_WIDTH[font] ?? 0.7;
  const room = (w - bandW) * (us ? 0.86 : 0.9);
  const mainSize = Math.min(us ? h * 0.5 : h * 0.74, room / (printed.length * em));
  const textX = bandW + (w - bandW) / 2;
  const textY = us ? h * 0.66 : h * 0.76;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <rect x="1" y="1" width="${w - 2}" height="${h - 2}" rx="${h * 0.08}" fill="${colour.bg}" stroke="${colour.ink}" stroke-width="${Math.max(1, h * 0.025)}"/>
  ${
    bandW
      ? `<rect x="${h * 0.03}" y="${h * 0.03}" width="${bandW}" height="${h * 0.94}" rx="${h * 0.05}" fill="#1f3f9c"/>
  <circle cx="${h * 0.03 + bandW / 2}" cy="${h * 0.32}" r="${h * 0.14}" fill="none" stroke="#ffcc00" stroke-width="${h * 0.04}" stroke-dasharray="${h * 0.03} ${h * 0.05}"/>
  <text x="${h * 0.03 + bandW / 2}" y="${h * 0.84}" font-family="DejaVu Sans" font-weight="bold" font-size="${h * (s.band!.length > 1 ? 0.22 : 0.3)}" fill="#ffffff" text-anchor="middle">${esc(s.band!)}</text>`
      : ''
  }
  ${s.top ? `<text x="${w / 2}" y="${h * 0.2}" font-family="${s.top === 'California' ? 'DejaVu Serif' : 'DejaVu Sans'}" font-style="${s.top === 'California' ? 'italic' : 'normal'}" font-size="${h * 0.15}" fill="${s.top === 'California' ? '#b01c1c' : colour.ink}" text-anchor="middle">${esc(s.top)}</text>` : ''}
  <text x="${textX}" y="${textY}" font-family="${font}" font-weight="bold" font-size="${mainSize}" fill="${colour.ink}" text-anchor="middle">${esc(printed)}</text>
  ${s.bottom ? `<text x="${w / 2}" y="${h * 0.92}" font-family="DejaVu Sans" font-size="${h * 0.11}" fill="${colour.ink}" text-anchor="middle">${esc(s.bottom)}</text>` : ''}
</svg>`;
  return { svg, w };
}

async function photo(s: Style, r: R) {
  const printed = s.make(r);
  const colour = pick(r, s.colours);
  const font = pick(r, FONTS);
  const W = pick(r, [640, 800, 1024]);
  const H = Math.round(W * 0.75);
  // plate height in the photo: small to large (the plate's width is what a camera's framing fixes)
  const plateW = Math.round(W * (0.22 + r() * 0.28));
  const plateH = Math.round(plateW / s.aspect);
  const tilt = (r() - 0.5) * 10;
  const blur = r() < 0.3 ? 0 : 0.3 + r() * 1.0;
  const noise = r() * 22;
  const quality = 60 + Math.floor(r() * 31);
  const plate = plateSvg(s, printed, colour, font, plateH);
  const plateImg = await sharp(Buffer.from(plate.svg))
    .rotate(tilt, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer({ resolveWithObject: true });
  const car = pick(r, CAR);
  const cx = W / 2 + (r() - 0.5) * W * 0.25;
  const cy = H * (0.62 + (r() - 0.5) * 0.12);
  const bodyW = plateW * (2.6 + r() * 0.8);
  const sky = pick(r, ['#9fb3c8', '#c9c2b8', '#5d6a75', '#8e9a8a']);
  const scene = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${sky}"/><stop offset="1" stop-color="#3b3b3b"/></linearGradient></defs>
  <rect width="${W}" height="${H}" fill="url(#g)"/>
  <rect x="0" y="${H * 0.85}" width="${W}" height="${H * 0.15}" fill="#2a2a2a"/>
  <rect x="${cx - bodyW / 2}" y="${cy - plateH * 3.2}" width="${bodyW}" height="${plateH * 4.6}" rx="${plateH * 0.8}" fill="${car}"/>
  <rect x="${cx - bodyW * 0.38}" y="${cy - plateH * 3}" width="${bodyW * 0.76}" height="${plateH * 1.3}" rx="${plateH * 0.3}" fill="#20282f"/>
  <rect x="${cx - bodyW * 0.47}" y="${cy - plateH * 1.2}" width="${bodyW * 0.16}" height="${plateH * 0.7}" rx="${plateH * 0.15}" fill="#c0141c"/>
  <rect x="${cx + bodyW * 0.31}" y="${cy - plateH * 1.2}" width="${bodyW * 0.16}" height="${plateH * 0.7}" rx="${plateH * 0.15}" fill="#c0141c"/>
  <rect x="${cx - bodyW * 0.5}" y="${cy + plateH * 0.9}" width="${bodyW}" height="${plateH * 0.45}" fill="#1a1a1a"/>
  ${r() < 0.4 ? `<text x="${cx}" y="${cy - plateH * 1.6}" font-family="Liberation Sans" font-size="${plateH * 0.35}" fill="#cfcfcf" text-anchor="middle">${pick(r, ['HYBRID', 'GOLF', 'Corolla', 'A4 TDI', 'MODEL 3'])}</text>` : ''}
</svg>`;
  const left = Math.round(cx - plateImg.info.width / 2);
  const top = Math.round(cy - plateImg.info.height / 2);
  ensureFonts();
  let img = sharp(
    await sharp(Buffer.from(scene))
      .composite([{ input: plateImg.data, left, top }])
      .png()
      .toBuffer(),
  );
  if (blur > 0.3) img = img.blur(blur);
  const base = await img.removeAlpha().png({ compressionLevel: 0 }).toBuffer();
  const withNoise =
    noise > 1
      ? sharp(base).composite([
          {
            input: {
              create: { width: W, height: H, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: noise } },
            },
            blend: 'soft-light',
          },
        ])
      : sharp(base);
  const jpeg = await withNoise.jpeg({ quality }).toBuffer();
  const plateBox = { x0: left, y0: top, x1: left + plateImg.info.width, y1: top + plateImg.info.height };
  return {
    jpeg,
    printed,
    colour: colour.name,
    font,
    width: W,
    height: H,
    plateWidthPx: plateW,
    tilt: Math.round(tilt * 10) / 10,
    blur: Math.round(blur * 100) / 100,
    noise: Math.round(noise * 10) / 10,
    quality,
    plateBox,
  };
}

// --split alternate: half tune, half held out (the first set); tune or holdout: the whole set is one of them
const values = benchArgs({ out: 'test/fixtures/plates', per: '20', seed: '4242', split: 'alternate' });
if (!['alternate', 'tune', 'holdout'].includes(values.split)) throw new Error(`--split: alternate, tune or holdout, not ${values.split}`);
await writePlateSet({
  out: values.out,
  generator: 'bench/make-plate-eval-set.ts',
  seed: Number(values.seed),
  per: Number(values.per),
  styles: STYLES,
  photo,
  split: (k, si) => (values.split === 'alternate' ? ((k + si) % 2 === 0 ? 'tune' : 'holdout') : values.split),
});
