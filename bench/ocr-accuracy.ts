import { parseArgs } from 'node:util';
import { TesseractTextDetector } from '../shared/adapters/tesseract-text-detector.js';
import { pickPlate } from '../shared/plate.js';
import { renderCapturePhoto } from '../cli/capture-photo.js';
import { plateId } from '../cli/generate-traffic.js';

/**
 * Plate-read accuracy and OCR time of the local OCR adapter on synthetic camera photos (the same
 * renderer as the traffic generator). Prints exact / not read / wrong, and time per photo.
 */
const { values } = parseArgs({ options: { photos: { type: 'string', default: '400' }, seed: { type: 'string', default: '2026' } } });
const n = Number(values.photos);
let s = Number(values.seed);
const random = () => (s = (s * 48271) % 2147483647) / 2147483647;
const detector = new TesseractTextDetector();
let exact = 0;
let notRead = 0;
const wrong: { truth: string; read: string; confidence: number }[] = [];
const ms: number[] = [];
const exactConfidence: number[] = [];
for (let i = 0; i < n; i++) {
  const plate = plateId();
  const { image: png } = await renderCapturePhoto(plate, random);
  const t0 = performance.now();
  const read = pickPlate(await detector.detect({ bytes: png }));
  ms.push(performance.now() - t0);
  if (read?.plate === plate) {
    exact++;
    exactConfidence.push(read.confidence);
  }
  else if (!read) notRead++;
  else wrong.push({ truth: plate, read: read.plate, confidence: Math.round(read.confidence * 100) / 100 });
  if ((i + 1) % 50 === 0) process.stderr.write(`${i + 1}/${n} photos, ${exact} exact\n`);
}
await detector.close();
ms.sort((a, b) => a - b);
const pct = (q: number) => Math.round(ms[Math.min(n - 1, Math.floor(q * n))]!);
console.log(JSON.stringify({ photos: n, exact, accuracy: Math.round((exact / n) * 10000) / 100, not_read: notRead, wrong: wrong.length, wrong_reads: wrong, ocr_ms: { p50: pct(0.5), p95: pct(0.95) }, exact_reads_with_confidence_below: Object.fromEntries([0.2, 0.3, 0.4, 0.5, 0.6].map((c) => [c, exactConfidence.filter((x) => x < c).length])) }, null, 2));
