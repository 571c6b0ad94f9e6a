import { DEPLOYED_ENV, runChildScript } from './child-process.js';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchArgs } from './options.js';
import { FUNCTIONS } from '../functions/catalog.js';

/**
 * What the fines function costs with each OCR, as Google Cloud would run it: a fresh node process per run
 * (a cold instance) with the production configuration and SPEEDCAM_OCR=model or vision. It imports the
 * deployed entry (dist/functions/index.js), builds the fines handler, then creates the OCR as the first
 * request does; with the model it reads `--photos` photos of test/fixtures/plates one after the other, asking as
 * the fine path does (`enough`: it matters only if the reader's first look is turned on; it is off by default).
 * Reported: memory (RSS after start, after the model loads, peak VmHWM), cold start (import + handler +
 * OCR ready, wall and CPU), time and CPU per photo (p50/p95), and $ per 1,000 fines of OCR at list prices
 * (request-based billing: $0.000024 per vCPU-second, $0.0000025 per GiB-second, as bench/system-load.ts;
 * Cloud Vision TEXT_DETECTION $1.50 per 1,000 images after the first 1,000 a month). Vision's own latency
 * (a network call) cannot be measured offline: the figure for it counts only the API's price.
 * `npm run -s build && node dist/bench/ocr-footprint.js [--runs 3] [--photos 40]`
 */
const values = benchArgs({ runs: '3', photos: '40' });
const here = dirname(fileURLToPath(import.meta.url));
const entry = pathToFileURL(join(here, '..', 'functions', 'index.js')).href;
const runtimeModule = pathToFileURL(join(here, '..', 'shared', 'runtime.js')).href;
const detectorModule = pathToFileURL(join(here, '..', 'shared', 'platform', 'ocr', 'paddle-text-detector.js')).href;
const plateModule = pathToFileURL(join(here, '..', 'shared', 'fines', 'plate.js')).href;
const settingsModule = pathToFileURL(join(here, '..', 'shared', 'fines', 'settings.js')).href;
const fixtures = resolve('test/fixtures/plates');
const PRICE = { vcpuSecond: 0.000024, gibSecond: 0.0000025, visionPer1000: 1.5 };

const CHILD = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);
const hwmMb = () => Math.round(Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const t0 = performance.now();
await import(${JSON.stringify(entry)});
const { runtime } = await import(${JSON.stringify(runtimeModule)});
runtime().fines;
const handlerMs = performance.now() - t0; const handlerCpu = cpu(); const handlerRss = rssMb();
const out = { handlerMs, handlerCpu, handlerRss };
if (process.env.SPEEDCAM_OCR === 'model') {
  const { PaddleTextDetector } = await import(${JSON.stringify(detectorModule)});
  const { plateReview, rankPlates } = await import(${JSON.stringify(plateModule)});
  const { PLATE_REVIEW_BELOW } = await import(${JSON.stringify(settingsModule)});
  const d = new PaddleTextDetector();
  await d.warm();
  out.readyMs = performance.now() - t0; out.readyCpu = cpu(); out.modelRss = rssMb();
  const m = JSON.parse(readFileSync(${JSON.stringify(join(fixtures, 'manifest.json'))}, 'utf8'));
  const ms = []; const cpuMs = [];
  for (const p of m.photos.slice(0, Number(process.env.PHOTOS))) {
    const bytes = readFileSync(${JSON.stringify(fixtures)} + '/' + p.file);
    const a = performance.now(); const c = cpu();
    // as the fine path asks (with the first look off, as deployed, the reader does not call it)
    const formats = [p.formats].flat();
    const enough = (found) => plateReview(rankPlates(found, formats)[0] ?? null, PLATE_REVIEW_BELOW.model) === null;
    await d.detect({ bytes, formats, enough });
    ms.push(performance.now() - a); cpuMs.push(cpu() - c);
  }
  out.firstPhotoMs = ms[0]; out.photoMs = ms; out.photoCpuMs = cpuMs; out.afterRss = rssMb();
} else {
  const require = createRequire(${JSON.stringify(runtimeModule)});
  const { ImageAnnotatorClient } = require('@google-cloud/vision');
  new ImageAnnotatorClient({ projectId: 'demo-footprint' });
  out.readyMs = performance.now() - t0; out.readyCpu = cpu(); out.afterRss = rssMb();
}
out.peakRss = hwmMb();
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

interface Run {
  handlerMs: number;
  handlerCpu: number;
  handlerRss: number;
  readyMs: number;
  readyCpu: number;
  modelRss?: number;
  firstPhotoMs?: number;
  photoMs?: number[];
  photoCpuMs?: number[];
  afterRss: number;
  peakRss: number;
}

function run(ocr: 'model' | 'vision'): Promise<Run> {
  const env = {
    FUNCTION_TARGET: 'fines',
    GOOGLE_CLOUD_PROJECT: 'demo-footprint',
    ...DEPLOYED_ENV,
    SPEEDCAM_OCR: ocr,
    PHOTOS: values.photos,
  };
  return runChildScript<Run>(ocr, CHILD, env);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const r0 = (x: number) => Math.round(x);

const fines = FUNCTIONS.find((f) => f.name === 'fines')!;
const gib = Number(fines.memory.replace('Gi', '')) || Number(fines.memory.replace('Mi', '')) / 1024;
const vcpu = Number(fines.cpu);
const report: Record<string, unknown> = {
  load_before: loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
  fines_function: { memory: fines.memory, cpu: fines.cpu, concurrency: fines.concurrency },
};
for (const ocr of ['model', 'vision'] as const) {
  const runs: Run[] = [];
  for (let i = 0; i < Number(values.runs); i++) runs.push(await run(ocr));
  const photoMs = runs.flatMap((r) => r.photoMs?.slice(1) ?? []);
  const photoCpu = runs.flatMap((r) => r.photoCpuMs?.slice(1) ?? []);
  const row: Record<string, unknown> = {
    runs: runs.length,
    cold_start_ms: {
      handler: r0(median(runs.map((r) => r.handlerMs))),
      ocr_ready: r0(median(runs.map((r) => r.readyMs))),
      ready_cpu: r0(median(runs.map((r) => r.readyCpu))),
    },
    rss_mb: {
      handler: median(runs.map((r) => r.handlerRss)),
      ...(ocr === 'model' ? { model_loaded: median(runs.map((r) => r.modelRss!)) } : {}),
      after: median(runs.map((r) => r.afterRss)),
      peak: Math.max(...runs.map((r) => r.peakRss)),
    },
  };
  if (ocr === 'model') {
    const p50 = pct(photoMs, 0.5);
    // Billed while the request runs: the photo's OCR time on the function's vCPU and memory (one photo at a time per instance).
    const perFine = (ms: number) => (ms / 1000) * (vcpu * PRICE.vcpuSecond + gib * PRICE.gibSecond);
    row['first_photo_ms'] = r0(median(runs.map((r) => r.firstPhotoMs!)));
    row['photo_ms'] = { p50: r0(p50), p95: r0(pct(photoMs, 0.95)), cpu_p50: r0(pct(photoCpu, 0.5)) };
    row['usd_per_1000_fines'] = {
      ocr_at_p50: Math.round(perFine(p50) * 1000 * 10000) / 10000,
      ocr_at_p95: Math.round(perFine(pct(photoMs, 0.95)) * 1000 * 10000) / 10000,
    };
  } else {
    row['usd_per_1000_fines'] = {
      vision_api: PRICE.visionPer1000,
      plus: "the function's instance time while it waits for Vision (not measurable offline)",
    };
  }
  report[ocr] = row;
}
report['load_after'] = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
console.log(JSON.stringify(report, null, 1));
