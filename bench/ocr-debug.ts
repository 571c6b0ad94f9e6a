// Temporary: dumps what the OCR adapter sees for one photo.
import { readFileSync, writeFileSync } from 'node:fs';
import { createWorker, OEM, PSM } from 'tesseract.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cropForOcr, loadGray, locateTextRegions, refineToPlate } from '../shared/image.js';
const require = createRequire(import.meta.url);
const file = process.argv[2]!;
const { gray, scale } = await loadGray(readFileSync(file));
const w = await createWorker('eng', OEM.LSTM_ONLY, { langPath: join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int'), gzip: true, cacheMethod: 'none' });
await w.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_BLOCK });
const bands = await locateTextRegions(gray);
console.log('scale', scale, 'size', gray.width, gray.height);
for (const [i, band] of bands.entries()) {
  const region = refineToPlate(gray, band);
  console.log('band', band, 'region', region);
  for (const [j, [h, bin]] of ([[110, true], [80, false]] as const).entries()) {
    const crop = await cropForOcr(gray, region, h / (region.y1 - region.y0), bin);
    writeFileSync(`/tmp/wt11-dbg/crop-${i}-${j}.png`, crop);
    const { data } = await w.recognize(crop, {}, { blocks: true });
    console.log(`  pass ${j}:`, JSON.stringify(data.text), data.confidence);
  }
}
await w.terminate();
