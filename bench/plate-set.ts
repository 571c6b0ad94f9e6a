import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What both plate-set generators share: seeded random registrations and the set's files. The renderers stay apart. */

export type R = () => number;
export const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const L = 'ABCDEFGHJKLMNPRSTUVWXYZ';
export const letters = (r: R, n: number, alphabet = L) => Array.from({ length: n }, () => pick(r, [...alphabet])).join('');
export const digits = (r: R, n: number, first = '0123456789') =>
  pick(r, [...first]) + Array.from({ length: n - 1 }, () => pick(r, [...'0123456789'])).join('');

/**
 * Empties a set's folder of what a renderer draws (its photos and manifest.json), keeping what was written
 * about them (a person's reads, the licence), so redrawing a committed set never deletes its labels.
 */
export function clearSetFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (/\.(jpe?g|png)$/i.test(f) || f === 'manifest.json') rmSync(join(dir, f));
}

/** What a person read on each photo of a set (its person-reads.json), or undefined where nobody did. */
export function readPersonReads(dir: string): Record<string, string> | undefined {
  const file = join(dir, 'person-reads.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { reads: Record<string, string> }).reads : undefined;
}

/** A Lehmer (Park–Miller) generator: the same seed draws the same set. */
export function seededRandom(seed: number): R {
  return () => (seed = (seed * 48271) % 2147483647) / 2147483647;
}

/**
 * Draws `per` photos of every style into `out` (emptied first): `NNN-<country>.jpg` and manifest.json with each
 * photo's plate (letters and digits), country, formats preset, split and what the renderer says it drew.
 */
export async function writePlateSet<S extends { country: string; formats: string }>(o: {
  out: string;
  generator: string;
  seed: number;
  per: number;
  styles: readonly S[];
  photo: (style: S, r: R) => Promise<{ jpeg: Buffer; printed: string }>;
  split: (k: number, styleIndex: number) => string;
}): Promise<void> {
  const random = seededRandom(o.seed);
  clearSetFolder(o.out);
  const manifest: Record<string, unknown>[] = [];
  let i = 0;
  for (let k = 0; k < o.per; k++) {
    for (const [si, style] of o.styles.entries()) {
      const p = await o.photo(style, random);
      const file = `${String(i++).padStart(3, '0')}-${style.country.toLowerCase()}.jpg`;
      writeFileSync(join(o.out, file), p.jpeg);
      const { jpeg: _jpeg, ...rest } = p;
      manifest.push({
        file,
        plate: p.printed.replace(/[^A-Z0-9]/g, ''),
        country: style.country,
        formats: style.formats,
        split: o.split(k, si),
        ...rest,
      });
    }
  }
  writeFileSync(join(o.out, 'manifest.json'), JSON.stringify({ generator: o.generator, seed: o.seed, photos: manifest }, null, 1) + '\n');
  process.stderr.write(`${manifest.length} photos in ${o.out}\n`);
}
