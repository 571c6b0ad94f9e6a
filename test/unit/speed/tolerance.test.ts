import { describe, expect, it } from 'vitest';
import { judgeSpeed, radarThresholdKmh } from '../../../shared/speed/average-speed.js';
import { correctedSpeedKmh, speedThresholdKmh, TOLERANCE_PRESETS, type Tolerance } from '../../../shared/speed/tolerance.js';
import { close, type PassageState } from '../../../shared/speed/passage.js';
import { passageRow, decisionMessage } from '../../../shared/speed/decision.js';
import { FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT, type Radar } from '../../../shared/speed/radar.js';
import { testConfig } from '../../support/fixtures.js';

const MPH = 1.609344;
const base = testConfig().radars.values().next().value!;
const radarWith = (limitKmh: number, tolerance: Tolerance): Radar => ({ ...base, speedLimitKmh: limitKmh, tolerance });
const fined = (v: number, r: Radar) => judgeSpeed(v, r).isTicketed;

/** At the threshold: not fined; 0.01 km/h above: fined (and, where the allowance is subtracted, the corrected speed agrees). */
function boundary(limitKmh: number, t: Tolerance, expected: number) {
  const r = radarWith(limitKmh, t);
  expect(radarThresholdKmh(r)).toBeCloseTo(expected, 9);
  expect(fined(expected, r)).toBe(false);
  expect(fined(expected + 0.01, r)).toBe(true);
  expect(fined(expected - 0.01, r)).toBe(false);
  if (t.appliesTo === 'measured') {
    expect(correctedSpeedKmh(expected + 0.01, t)).toBeGreaterThan(limitKmh);
    expect(correctedSpeedKmh(expected - 0.01, t)).toBeLessThanOrEqual(limitKmh);
  }
}

describe('tolerances as published', () => {
  it("default: the seed's strict > 40, no tolerance", () => {
    expect(base.tolerance).toEqual(TOLERANCE_PRESETS.none);
    boundary(40, base.tolerance, 40);
  });

  it('UK (NPCC): 10 % of the limit + 2 mph, so 30 mph fines above 35 mph and 70 mph above 79 mph', () => {
    boundary(30 * MPH, TOLERANCE_PRESETS.uk, 35 * MPH);
    boundary(70 * MPH, TOLERANCE_PRESETS.uk, 79 * MPH);
    // the brief's rounded form gives the same decision within 0.01 km/h
    expect(speedThresholdKmh(30 * MPH, { percent: 10, plusKmh: 3.22, minKmh: 0, appliesTo: 'limit' })).toBeCloseTo(35 * MPH, 2);
  });

  it('Italy (art. 345): 5 % of the measured speed, at least 5 km/h, subtracted from it', () => {
    boundary(50, TOLERANCE_PRESETS.it, 55); // below 100 km/h measured the 5 km/h floor applies
    boundary(90, TOLERANCE_PRESETS.it, 95);
    boundary(130, TOLERANCE_PRESETS.it, 130 / 0.95); // 136.84: 5 % of 136.84 is 6.84
  });

  it('the Netherlands (OM): 3 km/h off the measured speed up to 100 km/h, 3 % above', () => {
    boundary(50, TOLERANCE_PRESETS.nl, 53);
    boundary(80, TOLERANCE_PRESETS.nl, 83);
    boundary(100, TOLERANCE_PRESETS.nl, 100 / 0.97); // 103.09: measured above 100, so 3 % (3.09)
    boundary(130, TOLERANCE_PRESETS.nl, 130 / 0.97);
  });

  it("on the limit or off the measured speed: the same below the percentage's crossover, slightly stricter on the limit above it", () => {
    const onLimit: Tolerance = { ...TOLERANCE_PRESETS.it, appliesTo: 'limit' };
    expect(speedThresholdKmh(50, onLimit)).toBe(speedThresholdKmh(50, TOLERANCE_PRESETS.it));
    expect(speedThresholdKmh(130, onLimit)).toBeCloseTo(136.5, 9);
    expect(speedThresholdKmh(130, TOLERANCE_PRESETS.it)).toBeCloseTo(136.842, 3);
    // 136.7 km/h on a 130 road: fined when 5 % of the limit is added to it, not when 5 % of the measured speed is subtracted
    expect(fined(136.7, radarWith(130, onLimit))).toBe(true);
    expect(fined(136.7, radarWith(130, TOLERANCE_PRESETS.it))).toBe(false);
  });

  it('a decision and its passage row state the threshold and the rule they were judged by', () => {
    const r = radarWith(50, TOLERANCE_PRESETS.it);
    const state: PassageState = {
      radarId: r.id,
      vehicleId: 'V1',
      status: 'open',
      obs: {
        a: { t: 0, lat: FIFTH_AVENUE_ENTRY[0], lon: FIFTH_AVENUE_ENTRY[1], v: null, c: 'entry', p: null, i: null, pub: 0 },
        b: {
          t: Math.round((r.lengthKm / 56) * 3_600_000),
          lat: FIFTH_AVENUE_EXIT[0],
          lon: FIFTH_AVENUE_EXIT[1],
          v: null,
          c: 'exit',
          p: null,
          i: null,
          pub: 0,
        },
      },
      firstSeenMs: 0,
      lastSeenMs: 0,
      lastArrivalMs: 0,
      decision: null,
    };
    const d = close(state, r, 'exit', 1000).decision!;
    expect(d.isTicketed).toBe(true);
    const row = passageRow(d);
    expect(row['speed_threshold']).toBe(55);
    expect(row['speed_tolerance']).toBe(5);
    expect(JSON.parse(row['tolerance'] as string)).toEqual({ percent: 5, plus_kmh: 0, min_kmh: 5, applies_to: 'measured' });
    expect(decisionMessage(d)).toMatchObject({ speed_threshold: 55, speed_limit: 50 });
  });
});

describe('tolerance configuration', () => {
  const radars = (extra: Record<string, unknown>) =>
    testConfig({
      SPEEDCAM_RADARS: JSON.stringify([{ id: 'r1', entry: FIFTH_AVENUE_ENTRY, exit: FIFTH_AVENUE_EXIT, speed_limit_kmh: 50, ...extra }]),
    }).radars.get('r1')!;

  it('per radar: a preset by name or the rule as JSON', () => {
    expect(radars({ tolerance: 'uk' }).tolerance).toEqual(TOLERANCE_PRESETS.uk);
    expect(radars({ tolerance: { percent: 5, min_kmh: 5, applies_to: 'measured' } }).tolerance).toEqual(TOLERANCE_PRESETS.it);
    expect(radarThresholdKmh(radars({ tolerance: 'nl' }))).toBe(53);
  });

  it('tolerance_kmh keeps working: a fixed allowance on the limit', () => {
    expect(radarThresholdKmh(radars({ tolerance_kmh: 5 }))).toBe(55);
    expect(radarThresholdKmh(testConfig({ SPEEDCAM_TOLERANCE_KMH: '3' }).radars.values().next().value!)).toBe(43);
  });

  it('SPEEDCAM_TOLERANCE: the default of every radar', () => {
    expect(testConfig({ SPEEDCAM_TOLERANCE: 'it' }).radars.values().next().value!.tolerance).toEqual(TOLERANCE_PRESETS.it);
    expect(testConfig({ SPEEDCAM_TOLERANCE: '{"percent": 10, "plus_kmh": 2}' }).radars.values().next().value!.tolerance.percent).toBe(10);
  });

  it('validation errors name the field', () => {
    expect(() => radars({ tolerance: { percent: -1 } })).toThrow(/\[0\.tolerance\.percent\]/);
    expect(() => radars({ tolerance: { percent: 5, kmh: 3 } })).toThrow(/\[0\.tolerance\].*kmh/);
    expect(() => radars({ tolerance: 'fr' })).toThrow(/\[0\.tolerance\].*preset \(none, uk, it, nl\)/);
    expect(() => radars({ tolerance: 'uk', tolerance_kmh: 3 })).toThrow(/\[r1\]\.tolerance: give tolerance or the older tolerance_kmh/);
    expect(() => testConfig({ SPEEDCAM_TOLERANCE: '{"applies_to": "speed"}' })).toThrow(/SPEEDCAM_TOLERANCE: tolerance\.applies_to/);
    expect(() => testConfig({ SPEEDCAM_TOLERANCE: 'uk', SPEEDCAM_TOLERANCE_KMH: '2' })).toThrow(/not both/);
  });
});
