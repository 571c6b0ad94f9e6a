import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { benchArgs } from './options.js';

/**
 * Viewing sheets for reading a photo set's plates by eye (test/fixtures/plates-html2/person-reads.json).
 * Reads only the JPEGs (never a manifest) and writes PNG sheets, each tile labelled with its file name only:
 * - `--mode overview`: small thumbnails of every photo, to see where the car and plate are;
 * - `--mode crop`: a crop of each photo (fractions of its width and height, `--crop x0,y0,x1,y1`) at native
 *   scale (or `--scale`), `--cols` tiles across, `--per` tiles a sheet;
 * - `--normalise`: stretch each tile's contrast (sharp's normalise), so dark night photos can be seen;
 * - `--files a.jpg,b.jpg@x0,y0,x1,y1`: only these photos, each with its own crop if given (a close look at one
 *   plate), `--width` resizing every tile to that width.
 * Usage: node <compiled>/bench/photo-sheets.js --dir test/fixtures/plates-html2 --out /tmp/sheets --mode crop
 */
const values = benchArgs({
  dir: 'test/fixtures/plates-html2',
  out: '/tmp/photo-sheets',
  mode: 'crop',
  crop: '0.25,0.35,0.75,0.85',
  scale: '1',
  cols: '2',
  per: '4',
  thumb: '150',
  files: undefined,
  prefix: 'sheet',
  normalise: false,
  width: undefined,
});

const LABEL_HEIGHT = 22;

function label(text: string, width: number): Buffer {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${LABEL_HEIGHT}">` +
    `<rect width="100%" height="100%" fill="#ff00ff"/>` +
    `<text x="4" y="16" font-family="sans-serif" font-size="15" fill="#000">${text}</text></svg>`;
  return Buffer.from(svg);
}

async function tile(path: string, crop: number[], scale: number, thumb?: number): Promise<Buffer> {
  const image = sharp(path);
  const { width = 0, height = 0 } = await image.metadata();
  const [x0, y0, x1, y1] = crop as [number, number, number, number];
  const left = Math.round(x0 * width);
  const top = Math.round(y0 * height);
  const region = { left, top, width: Math.round(x1 * width) - left, height: Math.round(y1 * height) - top };
  let pipeline = sharp(path).extract(region);
  if (values.normalise) pipeline = pipeline.normalise();
  if (thumb) pipeline = pipeline.resize({ width: thumb });
  else if (values.width) pipeline = pipeline.resize({ width: Number(values.width) });
  else if (scale !== 1) pipeline = pipeline.resize({ width: Math.round(region.width * scale) });
  return pipeline.png().toBuffer();
}

async function main(): Promise<void> {
  const dir = values.dir;
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort();
  const files = values.files ? values.files.split(/,(?=[^,@]*\.jpg)/) : all;
  const overview = values.mode === 'overview';
  const crop = overview ? [0, 0, 1, 1] : values.crop.split(',').map(Number);
  const cols = overview ? 8 : Number(values.cols);
  const per = overview ? 72 : Number(values.per);
  const scale = Number(values.scale);
  mkdirSync(values.out, { recursive: true });
  for (let start = 0, sheet = 0; start < files.length; start += per, sheet++) {
    const batch = files.slice(start, start + per);
    const tiles = await Promise.all(
      batch.map(async (spec) => {
        const [f = '', own] = spec.split('@');
        const buf = await tile(join(dir, f), own ? own.split(',').map(Number) : crop, scale, overview ? Number(values.thumb) : undefined);
        const meta = await sharp(buf).metadata();
        return { f, buf, width: meta.width ?? 0, height: meta.height ?? 0 };
      }),
    );
    const cellW = Math.max(...tiles.map((t) => t.width)) + 4;
    const cellH = Math.max(...tiles.map((t) => t.height)) + LABEL_HEIGHT + 4;
    const rows = Math.ceil(tiles.length / cols);
    const composites: OverlayOptions[] = [];
    tiles.forEach((t, i) => {
      const x = (i % cols) * cellW;
      const y = Math.floor(i / cols) * cellH;
      composites.push({ input: label(t.f, t.width), left: x, top: y });
      composites.push({ input: t.buf, left: x, top: y + LABEL_HEIGHT });
    });
    const name = join(values.out, `${values.prefix}-${String(sheet).padStart(2, '0')}.png`);
    await sharp({ create: { width: cellW * cols, height: cellH * rows, channels: 3, background: '#ffffff' } })
      .composite(composites)
      .png()
      .toFile(name);
    console.log(name, batch.map((spec) => spec.split('@')[0]).join(' '));
  }
}

await main();
