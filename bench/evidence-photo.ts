import { cpuUsage } from 'node:process';
import sharp from 'sharp';
import { renderCapturePhoto } from '../cli/generators/capture-photo.js';
import { plateForVehicle } from '../cli/generators/plates.js';
import { drawAnalysedPhoto, type Annotation } from '../shared/fines/evidence-photo.js';
import { seededRandom } from './plate-set.js';
import { benchArgs } from './options.js';

/**
 * The analysed photo's cost (the fine path's evidence PNG: the camera photo, the plate's box, the banner), by
 * zlib level, side by side on the same photos: CPU and wall time per photo, bytes, and whether the pixels are
 * the production level's. The photos are the traffic generator's (640 × 480 JPEG, as the demo's cars API serves).
 * `npm run -s build && node dist/bench/evidence-photo.js [--photos 40] [--levels 1,3,6]`
 */
const values = benchArgs({ photos: '40', levels: '1,3,6', seed: '2026' });
const random = seededRandom(Number(values.seed));
const photos: Buffer[] = [];
for (let i = 0; i < Number(values.photos); i++) photos.push((await renderCapturePhoto(plateForVehicle(`V${i}`), random, 'jpeg')).image);
const a: Annotation = {
  plate: 'KXT4821',
  plateConfidence: 0.97,
  plateBox: { x0: 230, y0: 330, x1: 410, y1: 380 },
  avgSpeedKmh: 71.4,
  speedLimitKmh: 50,
  radarName: 'NYC 5th Ave',
  observedAt: '2026-12-07T02:00:00.000Z',
  fineId: 'F0123456789ABCDEF',
};
const pixels = async (png: Buffer) => sharp(png).raw().toBuffer();
const reference = await Promise.all(photos.slice(0, 5).map(async (p) => pixels(await drawAnalysedPhoto(p, a))));
const rows: Record<string, unknown>[] = [];
const levels = values.levels.split(',').map(Number);
const runs = Object.fromEntries(levels.map((l) => [l, { cpuMs: 0, wallMs: 0, bytes: 0 }]));
// each photo drawn at every level in turn: the machine's load is alike for all of them
for (const p of photos)
  for (const level of levels) {
    const c0 = cpuUsage();
    const t0 = performance.now();
    const png = await drawAnalysedPhoto(p, a, { compressionLevel: level });
    runs[level]!.wallMs += performance.now() - t0;
    const c = cpuUsage(c0);
    runs[level]!.cpuMs += (c.user + c.system) / 1000;
    runs[level]!.bytes += png.length;
  }
for (const level of levels) {
  const same = (
    await Promise.all(
      photos
        .slice(0, 5)
        .map(async (p, i) => (await pixels(await drawAnalysedPhoto(p, a, { compressionLevel: level }))).equals(reference[i]!)),
    )
  ).every(Boolean);
  const r = runs[level]!;
  const n = photos.length;
  rows.push({
    level,
    cpu_ms_per_photo: +(r.cpuMs / n).toFixed(1),
    wall_ms_per_photo: +(r.wallMs / n).toFixed(1),
    kb_per_photo: Math.round(r.bytes / n / 1024),
    same_pixels_as_production: same,
  });
}
const base = rows.find((r) => r['level'] === 6);
for (const r of rows)
  if (base) r['cpu_vs_level_6'] = +((r['cpu_ms_per_photo'] as number) / (base['cpu_ms_per_photo'] as number)).toFixed(2);
console.log(JSON.stringify({ photos: photos.length, rows }, null, 1));
