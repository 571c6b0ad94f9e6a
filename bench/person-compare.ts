import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Compares a person's reads of a photo set (person-reads.json, written by eye from bench/photo-sheets.ts sheets and
 * committed before this ran) with the set's truth (manifest.json's `plate`): exact count, reads with a `?` (the
 * person could not make out every character), and per miss the file, the read, the truth and the photo's conditions.
 * Usage: node <compiled>/bench/person-compare.js [dir], dir defaulting to test/fixtures/plates-html2.
 */
interface Photo {
  file: string;
  plate: string;
  conditions: string[];
}

const dir = process.argv[2] ?? 'test/fixtures/plates-html2';
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { photos: Photo[] };
const person = JSON.parse(readFileSync(join(dir, 'person-reads.json'), 'utf8')) as { reads: Record<string, string> };
const clean = (text: string): string => text.toUpperCase().replace(/[^A-Z0-9?]/g, '');

let exact = 0;
let unsure = 0;
const misses: string[] = [];
for (const photo of manifest.photos) {
  const read = person.reads[photo.file];
  const truth = clean(photo.plate);
  if (read === undefined) throw new Error(`no read for ${photo.file}`);
  if (read.includes('?') || read === '') unsure++;
  if (clean(read) === truth) exact++;
  else misses.push(`${photo.file}  read=${read || '""'}  truth=${truth}  conditions=${photo.conditions.join(',') || '-'}`);
}
const total = manifest.photos.length;
console.log(`person reads vs manifest plate, ${dir}`);
console.log(`exact: ${exact}/${total}; reads with '?' or empty (could not read every character): ${unsure}`);
console.log(`misses: ${misses.length}`);
for (const miss of misses) console.log(`  ${miss}`);
