import type { Radar } from './radar.js';
import { haversineKm, projectOnSection, type LatLon } from '../core/geo.js';
import { speedThresholdKmh } from './tolerance.js';
import type { PassageReviewReason as ReviewReason, SpeedMethod } from '../contracts/passage-decision.js';

export interface SpeedSample {
  /** event time, ms since epoch */
  t: number;
  location: LatLon;
  /** spot speed in km/h, when the camera measured one */
  speedKmh: number | null;
  camera: string | null;
}

export interface AverageSpeed {
  avgSpeedKmh: number | null;
  method: SpeedMethod;
  /** the sample farthest along the section (the seed reports the last location) */
  coordinates: LatLon;
}

/**
 * Average speed of one passage over the section.
 * - entry and exit cameras seen with exit after entry: section length ÷ elapsed time;
 * - otherwise spot speeds ordered along the section: space-mean speed Σdᵢ ÷ Σ(dᵢ ÷ v̄ᵢ), v̄ᵢ the mean
 *   of the pair's spot speeds (the time-weighted average over the road, unlike the arithmetic mean of
 *   spot speeds, which overweights fast points because the car spends less time there);
 * - one spot speed, or no distance between them: their harmonic mean.
 * With the radar's rule `arithmetic`, spot speeds are averaged as the seeds do (their arithmetic mean),
 * which overstates the speed of a car that was fast at a few points; entry/exit timing is unaffected.
 */
export function averageSpeed(samples: readonly SpeedSample[], radar: Radar): AverageSpeed {
  const ordered = samples
    .map((s) => ({ s, along: projectOnSection(s.location, radar.entry, radar.exit).fraction }))
    .sort((a, b) => a.along - b.along || a.s.t - b.s.t)
    .map((x) => x.s);
  const coordinates = ordered.length > 0 ? ordered[ordered.length - 1]!.location : radar.exit;

  const entry = earliest(samples.filter((s) => s.camera === 'entry'));
  const exit = latest(samples.filter((s) => s.camera === 'exit'));
  if (entry && exit && exit.t > entry.t) {
    const hours = (exit.t - entry.t) / 3_600_000;
    return { avgSpeedKmh: radar.lengthKm / hours, method: 'entry_exit', coordinates };
  }

  const spots = ordered.filter((s) => s.speedKmh !== null && s.speedKmh > 0);
  if (spots.length === 0) return { avgSpeedKmh: null, method: 'none', coordinates };
  if (radar.averageSpeed === 'arithmetic') {
    return { avgSpeedKmh: spots.reduce((acc, s) => acc + s.speedKmh!, 0) / spots.length, method: 'arithmetic_mean', coordinates };
  }
  let distance = 0;
  let hours = 0;
  for (let i = 0; i + 1 < spots.length; i++) {
    const a = spots[i]!;
    const b = spots[i + 1]!;
    const d = haversineKm(a.location, b.location);
    distance += d;
    hours += d / ((a.speedKmh! + b.speedKmh!) / 2);
  }
  if (spots.length > 1 && distance > 0) {
    return { avgSpeedKmh: distance / hours, method: 'space_mean', coordinates };
  }
  const harmonic = spots.length / spots.reduce((acc, s) => acc + 1 / s.speedKmh!, 0);
  return { avgSpeedKmh: harmonic, method: 'harmonic_mean', coordinates };
}

function earliest(xs: readonly SpeedSample[]): SpeedSample | undefined {
  return xs.reduce<SpeedSample | undefined>((m, x) => (m === undefined || x.t < m.t ? x : m), undefined);
}
function latest(xs: readonly SpeedSample[]): SpeedSample | undefined {
  return xs.reduce<SpeedSample | undefined>((m, x) => (m === undefined || x.t > m.t ? x : m), undefined);
}

export interface SpeedVerdict {
  isTicketed: boolean;
  reviewReason: ReviewReason | null;
}

/** Fined when speed > the radar's threshold (limit and tolerance); above the plausibility bound it is flagged, never fined. */
export function judgeSpeed(avgSpeedKmh: number | null, radar: Radar): SpeedVerdict {
  if (avgSpeedKmh === null || !Number.isFinite(avgSpeedKmh)) return { isTicketed: false, reviewReason: 'insufficient_data' };
  if (avgSpeedKmh > radar.plausibleMaxKmh) return { isTicketed: false, reviewReason: 'implausible_speed' };
  return { isTicketed: avgSpeedKmh > radarThresholdKmh(radar), reviewReason: null };
}

/** The measured average speed above which this radar fines. */
export function radarThresholdKmh(radar: Pick<Radar, 'speedLimitKmh' | 'tolerance'>): number {
  return speedThresholdKmh(radar.speedLimitKmh, radar.tolerance);
}
