import { parseArgs } from 'node:util';
import { averageSpeed, judgeSpeed } from '../shared/speed/average-speed.js';
import { loadConfig } from '../shared/config.js';
import { sectionPoints, spotSpeed } from '../cli/generators/traffic.js';

/**
 * How often the seeds' arithmetic mean of spot speeds fines a vehicle whose space-mean speed (distance
 * over time) is within the limit, on the radar producer's own stream: 10 equally spaced points per vehicle, each
 * spot speed 75 % uniform in 25–40 km/h and 25 % uniform in 40–90 km/h (generator.py).
 */
const { values } = parseArgs({ options: { vehicles: { type: 'string', default: '100000' }, seed: { type: 'string', default: '2026' } } });
const n = Number(values.vehicles);
let s = Number(values.seed);
const random = () => (s = (s * 48271) % 2147483647) / 2147483647;
const spaceMean = loadConfig({}).radars.values().next().value!;
const arithmetic = { ...spaceMean, averageSpeed: 'arithmetic' as const };
const pts = sectionPoints(spaceMean.entry, spaceMean.exit, 10);
let finedArithmetic = 0;
let finedSpaceMean = 0;
let wronglyFined = 0;
let missed = 0;
for (let v = 0; v < n; v++) {
  const samples = pts.map((p, i) => ({ t: i, location: p, speedKmh: spotSpeed(random, 0.25), camera: null }));
  const a = judgeSpeed(averageSpeed(samples, arithmetic).avgSpeedKmh, arithmetic).isTicketed;
  const m = judgeSpeed(averageSpeed(samples, spaceMean).avgSpeedKmh, spaceMean).isTicketed;
  if (a) finedArithmetic++;
  if (m) finedSpaceMean++;
  if (a && !m) wronglyFined++;
  if (m && !a) missed++;
}
const pct = (x: number, of: number) => Math.round((x / of) * 10000) / 100;
console.log(
  JSON.stringify(
    {
      vehicles: n,
      fined_arithmetic_pct: pct(finedArithmetic, n),
      fined_space_mean_pct: pct(finedSpaceMean, n),
      fined_by_arithmetic_only_pct_of_vehicles: pct(wronglyFined, n),
      fined_by_arithmetic_only_pct_of_vehicles_within_the_limit: pct(wronglyFined, n - finedSpaceMean),
      fined_by_arithmetic_only_pct_of_arithmetic_fines: pct(wronglyFined, finedArithmetic),
      fined_by_space_mean_only_pct_of_vehicles: pct(missed, n),
    },
    null,
    2,
  ),
);
