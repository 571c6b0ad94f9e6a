import { z } from 'zod';

/**
 * A published speed tolerance (docs/tolerances.md): the allowance is `max(base·percent/100 + plus_kmh, min_kmh)`,
 * where `base` is the speed limit (`applies_to: "limit"`, UK practice: fined above limit + 10 % + 2 mph) or the
 * measured speed (`applies_to: "measured"`, Italy and the Netherlands: the allowance is subtracted from the
 * measured speed, and the corrected speed is compared with the limit). Fined strictly above the threshold;
 * the default (no tolerance) is the seed's strict `> limit`.
 */
export interface Tolerance {
  percent: number;
  plusKmh: number;
  minKmh: number;
  appliesTo: 'limit' | 'measured';
}

export const NO_TOLERANCE: Tolerance = { percent: 0, plusKmh: 0, minKmh: 0, appliesTo: 'limit' };

/** 2 mph in km/h (1 mile = 1.609344 km). */
const TWO_MPH_KMH = 2 * 1.609344;

/** Tolerances by name (`"tolerance": "uk"`): the sources are in docs/tolerances.md. */
export const TOLERANCE_PRESETS = {
  none: NO_TOLERANCE,
  /** England and Wales, NPCC (formerly ACPO) speed enforcement guidance: 10 % of the limit + 2 mph */
  uk: { percent: 10, plusKmh: TWO_MPH_KMH, minKmh: 0, appliesTo: 'limit' },
  /** Italy, art. 345 Regolamento di esecuzione del Codice della Strada: 5 % of the measured speed, at least 5 km/h */
  it: { percent: 5, plusKmh: 0, minKmh: 5, appliesTo: 'measured' },
  /** the Netherlands (OM): 3 km/h off the measured speed up to 100 km/h, 3 % above */
  nl: { percent: 3, plusKmh: 0, minKmh: 3, appliesTo: 'measured' },
} as const satisfies Record<string, Tolerance>;

export type TolerancePreset = keyof typeof TOLERANCE_PRESETS;

const PRESET_NAMES = Object.keys(TOLERANCE_PRESETS) as TolerancePreset[];

const toleranceObject = z
  .object(
    {
      percent: z.number().min(0).max(50).optional(),
      plus_kmh: z.number().min(0).max(100).optional(),
      min_kmh: z.number().min(0).max(100).optional(),
      applies_to: z.enum(['limit', 'measured']).optional(),
    },
    { error: `a preset (${PRESET_NAMES.join(', ')}) or {"percent", "plus_kmh", "min_kmh", "applies_to"}` },
  )
  .strict();

/**
 * The JSON form (SPEEDCAM_RADARS' `tolerance`, SPEEDCAM_TOLERANCE): a preset name or the rule. A preset name
 * becomes its rule before validation, so that errors name the field (`tolerance.percent`), not the union.
 */
export const toleranceInput = z.preprocess((v) => {
  if (typeof v !== 'string' || !PRESET_NAMES.includes(v as TolerancePreset)) return v;
  const t = TOLERANCE_PRESETS[v as TolerancePreset];
  return { percent: t.percent, plus_kmh: t.plusKmh, min_kmh: t.minKmh, applies_to: t.appliesTo };
}, toleranceObject);

export function toleranceOf(input: z.infer<typeof toleranceInput>): Tolerance {
  return { percent: input.percent ?? 0, plusKmh: input.plus_kmh ?? 0, minKmh: input.min_kmh ?? 0, appliesTo: input.applies_to ?? 'limit' };
}

/** The older `tolerance_kmh: k` (SPEEDCAM_TOLERANCE_KMH): a fixed allowance on the limit. */
export function fixedTolerance(kmh: number): Tolerance {
  return { ...NO_TOLERANCE, plusKmh: kmh };
}

/**
 * The measured speed above which a vehicle is fined. On the limit: limit + max(limit·p/100 + k, m). Subtracted
 * from the measured speed v: fined when v − max(v·p/100 + k, m) > limit, i.e. when both v·(1 − p/100) − k and
 * v − m exceed the limit (both increase with v), which is v > max((limit + k) ÷ (1 − p/100), limit + m).
 */
export function speedThresholdKmh(limitKmh: number, t: Tolerance): number {
  if (t.appliesTo === 'limit') return limitKmh + Math.max((limitKmh * t.percent) / 100 + t.plusKmh, t.minKmh);
  return Math.max((limitKmh + t.plusKmh) / (1 - t.percent / 100), limitKmh + t.minKmh);
}

/** The speed compared with the limit: the measured speed less the allowance (`measured`), or the measured speed. */
export function correctedSpeedKmh(measuredKmh: number, t: Tolerance): number {
  if (t.appliesTo === 'limit') return measuredKmh;
  return measuredKmh - Math.max((measuredKmh * t.percent) / 100 + t.plusKmh, t.minKmh);
}

/** The rule as recorded with a decision (passage row `tolerance`, decision message): JSON text. */
export function describeTolerance(t: Tolerance): string {
  return JSON.stringify({ percent: t.percent, plus_kmh: round(t.plusKmh), min_kmh: t.minKmh, applies_to: t.appliesTo });
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
