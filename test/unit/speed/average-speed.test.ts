import { describe, expect, it } from 'vitest';
import { averageSpeed, judgeSpeed, type SpeedSample } from '../../../shared/speed/average-speed.js';
import { FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT } from '../../../shared/speed/radar.js';
import { haversineKm } from '../../../shared/core/geo.js';
import { sectionPoints } from '../../../cli/generators/traffic.js';
import { testConfig } from '../../support/fixtures.js';

const radar = testConfig().radars.values().next().value!;
const points = sectionPoints(FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT, 10);
const spots = (speeds: number[]): SpeedSample[] => speeds.map((v, i) => ({ t: 1000 + i, location: points[i]!, speedKmh: v, camera: null }));

describe('section geometry', () => {
  it('measures the seed section (Apple Store to Zara) at about 498 m with R = 6371.0088 km', () => {
    expect(radar.lengthKm).toBeCloseTo(0.4985, 3);
    // hand computation: equirectangular approximation of the same two points
    const dy = (FIFTH_AVENUE_EXIT[0] - FIFTH_AVENUE_ENTRY[0]) * (Math.PI / 180) * 6371.0088;
    const dx = (FIFTH_AVENUE_EXIT[1] - FIFTH_AVENUE_ENTRY[1]) * (Math.PI / 180) * 6371.0088 * Math.cos((40.762 * Math.PI) / 180);
    expect(haversineKm(FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT)).toBeCloseTo(Math.hypot(dx, dy), 4);
  });
});

describe('averageSpeed', () => {
  it('entry and exit cameras: section length over elapsed time', () => {
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    const r = averageSpeed(
      [
        { t: t0, location: FIFTH_AVENUE_ENTRY, speedKmh: null, camera: 'entry' },
        { t: t0 + 36_000, location: FIFTH_AVENUE_EXIT, speedKmh: null, camera: 'exit' },
      ],
      radar,
    );
    expect(r.method).toBe('entry_exit');
    expect(r.avgSpeedKmh).toBeCloseTo(radar.lengthKm / (36 / 3600), 9); // 49.85 km/h
    expect(r.avgSpeedKmh).toBeCloseTo(49.85, 1);
  });

  it('constant spot speed gives that speed', () => {
    expect(averageSpeed(spots(Array(10).fill(33)), radar).avgSpeedKmh).toBeCloseTo(33, 9);
  });

  it('space-mean over equal segments: hand-computed case', () => {
    // 9 equal segments of d; pair means: 30,30,30,30,60,90,60,30,30
    // time = d·(6/30 + 2/60 + 1/90) = d·0.244444…; speed = 9d / that = 36.8182 km/h
    const r = averageSpeed(spots([30, 30, 30, 30, 30, 90, 90, 30, 30, 30]), radar);
    expect(r.method).toBe('space_mean');
    // segments are equal to within 1e-6 (interpolated lat/lon vs haversine), hence 3 decimals
    expect(r.avgSpeedKmh).toBeCloseTo(9 / (6 / 30 + 2 / 60 + 1 / 90), 3);
    expect(r.avgSpeedKmh).toBeCloseTo(36.818, 3);
  });

  it("shows where the seed's arithmetic mean would wrongly fine a driver", () => {
    const speeds = [30, 30, 30, 30, 30, 90, 90, 30, 30, 30];
    // The arithmetic option computes the mean of the spot speeds (42 km/h, tested below): over the limit.
    const arithmetic = averageSpeed(
      spots(speeds),
      testConfig({ SPEEDCAM_AVERAGE_SPEED: 'arithmetic' }).radars.values().next().value!,
    ).avgSpeedKmh;
    const r = averageSpeed(spots(speeds), radar);
    expect(judgeSpeed(arithmetic, radar).isTicketed).toBe(true);
    expect(judgeSpeed(r.avgSpeedKmh, radar).isTicketed).toBe(false); // 36.8 km/h: the driver did not speed
  });

  it('orders observations along the section whatever their arrival order', () => {
    const ordered = spots([25, 35, 45, 55, 65, 75, 85, 80, 70, 60]);
    const shuffled = [
      ordered[7]!,
      ordered[2]!,
      ordered[9]!,
      ordered[0]!,
      ordered[5]!,
      ordered[1]!,
      ordered[8]!,
      ordered[3]!,
      ordered[6]!,
      ordered[4]!,
    ];
    expect(averageSpeed(shuffled, radar).avgSpeedKmh).toBeCloseTo(averageSpeed(ordered, radar).avgSpeedKmh!, 12);
    expect(averageSpeed(shuffled, radar).coordinates).toEqual(points[9]);
  });

  it('one observation, or no distance between them: harmonic mean of the spot speeds', () => {
    expect(averageSpeed(spots([50]), radar)).toMatchObject({ method: 'harmonic_mean', avgSpeedKmh: 50 });
    const samePlace: SpeedSample[] = [20, 60].map((v, i) => ({ t: i, location: points[3]!, speedKmh: v, camera: null }));
    expect(averageSpeed(samePlace, radar).avgSpeedKmh).toBeCloseTo(2 / (1 / 20 + 1 / 60), 9); // 30
  });

  it('no speeds and no entry/exit pair: no speed', () => {
    const r = averageSpeed([{ t: 0, location: FIFTH_AVENUE_ENTRY, speedKmh: null, camera: 'entry' }], radar);
    expect(r).toMatchObject({ method: 'none', avgSpeedKmh: null });
  });
});

describe('judgeSpeed', () => {
  it('fines strictly above limit + tolerance', () => {
    expect(judgeSpeed(40, radar).isTicketed).toBe(false);
    expect(judgeSpeed(40.0001, radar).isTicketed).toBe(true);
    const tolerant = { ...radar, tolerance: { percent: 0, plusKmh: 5, minKmh: 0, appliesTo: 'limit' as const } };
    expect(judgeSpeed(44.9, tolerant).isTicketed).toBe(false);
    expect(judgeSpeed(45.1, tolerant).isTicketed).toBe(true);
  });
  it('flags implausible speeds for review instead of fining', () => {
    expect(judgeSpeed(251, radar)).toEqual({ isTicketed: false, reviewReason: 'implausible_speed' });
    expect(judgeSpeed(null, radar)).toEqual({ isTicketed: false, reviewReason: 'insufficient_data' });
  });
});

describe("the seeds' arithmetic mean, as an option", () => {
  const arithmeticMeanOf = (speeds: number[]) => speeds.reduce((a, b) => a + b, 0) / speeds.length; // the seeds' avgSpeedDoFn
  it('SPEEDCAM_AVERAGE_SPEED=arithmetic: the mean of the spot speeds, fined when above the limit', () => {
    const arithmetic = testConfig({ SPEEDCAM_AVERAGE_SPEED: 'arithmetic' }).radars.values().next().value!;
    const speeds = [30, 30, 30, 30, 30, 90, 90, 30, 30, 30];
    const r = averageSpeed(spots(speeds), arithmetic);
    expect(r).toMatchObject({ method: 'arithmetic_mean', avgSpeedKmh: 42 });
    expect(judgeSpeed(r.avgSpeedKmh, arithmetic).isTicketed).toBe(arithmeticMeanOf(speeds) > 40);
    // arrival order does not matter, and entry/exit timing is still a measured time, not spot speeds
    expect(averageSpeed([...spots(speeds)].reverse(), arithmetic).avgSpeedKmh).toBeCloseTo(42, 12);
    const timed = averageSpeed(
      [
        { t: 0, location: FIFTH_AVENUE_ENTRY, speedKmh: 90, camera: 'entry' },
        { t: 36_000, location: FIFTH_AVENUE_EXIT, speedKmh: 90, camera: 'exit' },
      ],
      arithmetic,
    );
    expect(timed.method).toBe('entry_exit');
  });

  it('per radar: average_speed overrides the default, and a wrong value names the variable and the valid ones', () => {
    const radars = JSON.stringify([
      { id: 'seed-rule', entry: FIFTH_AVENUE_ENTRY, exit: FIFTH_AVENUE_EXIT, average_speed: 'arithmetic' },
      { id: 'space-mean', entry: FIFTH_AVENUE_ENTRY, exit: FIFTH_AVENUE_EXIT },
    ]);
    const c = testConfig({ SPEEDCAM_RADARS: radars });
    expect(c.radars.get('seed-rule')!.averageSpeed).toBe('arithmetic');
    expect(c.radars.get('space-mean')!.averageSpeed).toBe('space_mean');
    expect(() => testConfig({ SPEEDCAM_AVERAGE_SPEED: 'median' })).toThrow(/SPEEDCAM_AVERAGE_SPEED.*space_mean.*arithmetic/);
    expect(() => testConfig({ SPEEDCAM_RADARS: radars.replace('"arithmetic"', '"mean"') })).toThrow(/average_speed/);
  });

  it("equals the seed rule on the seed generator's own stream (1,000 vehicles)", () => {
    const arithmetic = testConfig({ SPEEDCAM_AVERAGE_SPEED: 'arithmetic' }).radars.values().next().value!;
    let s = 11;
    const random = () => (s = (s * 48271) % 2147483647) / 2147483647;
    for (let v = 0; v < 1000; v++) {
      const speeds = points.map(() => (random() < 0.75 ? 25 + random() * 15 : 40 + random() * 50));
      const r = averageSpeed(spots(speeds), arithmetic);
      expect(r.avgSpeedKmh).toBeCloseTo(arithmeticMeanOf(speeds), 9);
      expect(judgeSpeed(r.avgSpeedKmh, arithmetic).isTicketed).toBe(arithmeticMeanOf(speeds) > 40);
    }
  });
});
