// Temporary: find generator photos with J misread and show every pass.
import { writeFileSync } from 'node:fs';
import { renderCapturePhoto } from '../cli/capture-photo.js';
import { TesseractTextDetector } from '../shared/adapters/tesseract-text-detector.js';
import { pickPlate } from '../shared/plate.js';
const d = new TesseractTextDetector();
let s = 99;
const r = () => (s = (s * 48271) % 2147483647) / 2147483647;
let shown = 0;
for (let i = 0; i < 60 && shown < 2; i++) {
  const plate = ['JGY9825', 'LJJ6996', 'JBA4083', 'EJK9131'][i % 4]!;
  const { image } = await renderCapturePhoto(plate, r);
  const read = pickPlate(await d.detect({ bytes: image }));
  if (read?.plate !== plate) {
    writeFileSync(`/tmp/wt11-dbg/jfail-${shown}.png`, image);
    console.log(i, plate, read);
    shown++;
  }
}
await d.close();
