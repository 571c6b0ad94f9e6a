import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { readPersonReads } from './plate-set.js';
import { createCanvas, loadImage } from '@napi-rs/canvas';

/**
 * Contact sheets for a person to read a plate set by eye (no OCR of any kind): each photo's plate region,
 * cropped from the manifest's four corners with a margin and scaled so its characters are ~40 px high, 12
 * tiles a sheet, each labelled with the photo's number only (never the registration). The person types
 * what they read into the set's person-reads.json.
 * `npm run -s build && node dist/bench/plate-sheets.js [--set test/fixtures/plates-camera] [--out .speedcam/sheets]`
 * Once the person's reads are written (and committed), `--compare` prints how many they read exactly (a photo is
 * legible if the person read it exactly) and each photo they did not, with its conditions.
 */

const { values: args } = parseArgs({
  options: {
    set: { type: 'string', default: 'test/fixtures/plates-camera' },
    out: { type: 'string', default: join('.speedcam', 'sheets') },
    compare: { type: 'boolean', default: false },
  },
});

interface Photo {
  file: string;
  plate: string;
  conditions?: string[];
  light?: string;
  corners: [number, number][];
  /** set 5's manifest has it; a set drawn by another renderer (read from whole photos) may not */
  charHeightPx?: number;
}

const TILE_W = 460;
const TILE_H = 230;
const LABEL = 28;
const COLS = 3;
const PER_SHEET = 12;
const CHAR_PX = 40;

/** The person's reads against the manifest: exact count, and the photos read otherwise. */
function compare(photos: Photo[]): void {
  const reads = readPersonReads(args.set);
  if (!reads) throw new Error(`${args.set}: no person-reads.json`);
  const missed = photos.filter((p) => reads[p.file] !== p.plate);
  process.stdout.write(`person read ${photos.length - missed.length} of ${photos.length} exactly\n`);
  for (const p of missed)
    process.stdout.write(
      `${p.file}: read ${reads[p.file] ?? '(none)'}, plate ${p.plate}${p.charHeightPx ? `, ${p.charHeightPx} px` : ''}, ${(p.conditions ?? []).join(' ')}\n`,
    );
}

async function main() {
  if (args.compare) return compare((JSON.parse(readFileSync(join(args.set, 'manifest.json'), 'utf8')) as { photos: Photo[] }).photos);
  const manifest = JSON.parse(readFileSync(join(args.set, 'manifest.json'), 'utf8')) as { photos: Photo[] };
  const out = join(args.out, basename(args.set));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const rows = Math.ceil(PER_SHEET / COLS);
  for (let first = 0; first < manifest.photos.length; first += PER_SHEET) {
    const sheet = createCanvas(COLS * TILE_W, rows * (TILE_H + LABEL));
    const ctx = sheet.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, sheet.width, sheet.height);
    for (const [k, p] of manifest.photos.slice(first, first + PER_SHEET).entries()) {
      const image = await loadImage(join(args.set, p.file));
      const xs = p.corners.map((c) => c[0]);
      const ys = p.corners.map((c) => c[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      const mx = (x1 - x0) * 0.25;
      const my = (y1 - y0) * 0.45;
      const sx = Math.max(0, x0 - mx);
      const sy = Math.max(0, y0 - my);
      const sw = Math.min(image.width, x1 + mx) - sx;
      const sh = Math.min(image.height, y1 + my) - sy;
      const scale = Math.min(CHAR_PX / (p.charHeightPx ?? CHAR_PX), TILE_W / sw, TILE_H / sh);
      const tx = (k % COLS) * TILE_W;
      const ty = Math.floor(k / COLS) * (TILE_H + LABEL);
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(image, sx, sy, sw, sh, tx + (TILE_W - sw * scale) / 2, ty + (TILE_H - sh * scale) / 2, sw * scale, sh * scale);
      ctx.strokeStyle = '#999999';
      ctx.strokeRect(tx + 0.5, ty + 0.5, TILE_W - 1, TILE_H + LABEL - 1);
      ctx.fillStyle = '#000000';
      ctx.font = 'bold 20px sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(`photo ${p.file.slice(0, 3)}`, tx + TILE_W / 2, ty + TILE_H + 21);
    }
    const name = join(out, `sheet-${String(first / PER_SHEET + 1).padStart(2, '0')}.png`);
    writeFileSync(name, sheet.toBuffer('image/png'));
    process.stderr.write(`${name}\n`);
  }
}

await main();
