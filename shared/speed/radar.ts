import { z } from 'zod';
import { haversineKm, type LatLon } from '../core/geo.js';
import { ConfigError } from '../core/settings.js';
import { fixedTolerance, toleranceInput, toleranceOf, type Tolerance } from './tolerance.js';
import { IDENTIFIER } from '../contracts/vehicle-observation.js';

/** A road section watched by one radar: entry and exit cameras at its two ends. */
export interface Radar {
  id: string;
  name: string;
  entry: LatLon;
  exit: LatLon;
  /** Road distance between the ends; defaults to the haversine distance between them. */
  lengthKm: number;
  speedLimitKmh: number;
  /** fined strictly above speedThresholdKmh(limit, tolerance) (shared/speed/tolerance.ts); default none */
  tolerance: Tolerance;
  sessionGapMs: number;
  /**
   * The longest plausible time between the entry and exit cameras (length ÷ minimum speed): while a
   * passage has only one of them, the session stays open this long, since the travel time
   * (45 s at 40 km/h over 500 m) exceeds the 15 s gap that separates bursts.
   */
  maxTravelMs: number;
  /**
   * How much longer than the gap, in processing time, the flush waits before closing a passage by gap:
   * observations delayed by an outage (redelivered after a crash) still join it.
   */
  gapCloseDelayMs: number;
  /** A passage closes once it holds this many observations (the seed generator sends 10). */
  expectedObservations: number | null;
  /** Average speeds above this are flagged for review instead of fined. */
  plausibleMaxKmh: number;
  /** Observations farther than this from the section are rejected as off-section. */
  offSectionToleranceKm: number;
  /** how spot speeds are averaged: space-mean (distance over time) or the seeds' arithmetic mean */
  averageSpeed: AverageSpeedRule;
  /**
   * plate formats expected here (presets or L/D/A templates) to rank OCR candidates; empty: any plate is read,
   * and a person confirms every one
   */
  plateFormats: readonly string[];
}

/** How a passage's spot speeds are averaged (SPEEDCAM_AVERAGE_SPEED, or a radar's `average_speed`). */
export type AverageSpeedRule = 'space_mean' | 'arithmetic';
export const AVERAGE_SPEED_RULES = ['space_mean', 'arithmetic'] as const satisfies readonly AverageSpeedRule[];

/** The default radar: 5th Avenue, from the Apple Store to Zara (the original pipeline's section). */
export const FIFTH_AVENUE_ENTRY: LatLon = [40.76384258989008, -73.97296227572797];
export const FIFTH_AVENUE_EXIT: LatLon = [40.7601385362864, -73.97629590579231];
export const DEFAULT_RADAR_ID = 'nyc-5th-ave-apple-zara';

const latLon = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

/** One radar of SPEEDCAM_RADARS, as written (JSON, snake_case); what it leaves out comes from the defaults. */
const radarInput = z
  .object({
    id: z.string().regex(IDENTIFIER, 'letters, digits, . _ - (max 64), starting with a letter or digit'),
    name: z.string().min(1).optional(),
    entry: latLon,
    exit: latLon,
    length_km: z.number().positive().optional(),
    speed_limit_kmh: z.number().positive().optional(),
    /** the older fixed allowance on the limit; `tolerance` replaces it (not both) */
    tolerance_kmh: z.number().min(0).optional(),
    tolerance: toleranceInput.optional(),
    session_gap_s: z.number().positive().optional(),
    min_speed_kmh: z.number().positive().optional(),
    expected_observations: z.number().int().min(2).nullable().optional(),
    plausible_max_kmh: z.number().positive().optional(),
    off_section_tolerance_m: z.number().positive().optional(),
    average_speed: z.enum(AVERAGE_SPEED_RULES).optional(),
    plate_formats: z.array(z.string().min(1).max(40)).max(32).optional(),
  })
  .strict();

/** What a radar that sets nothing gets (the SPEEDCAM_* defaults of shared/speed/settings.ts). */
export type RadarDefaults = Omit<Radar, 'id' | 'name' | 'entry' | 'exit' | 'lengthKm' | 'maxTravelMs'> & { minSpeedKmh: number };

/** Checks plate formats, naming `where` when one is wrong (fines/ knows the formats: shared/fines/settings.ts). */
export type PlateFormatCheck = (where: string, formats: string[]) => string[];

/** A radar from its ends and the defaults: the 5th Avenue one when SPEEDCAM_RADARS is unset. */
function radarOf(ends: Pick<Radar, 'id' | 'name' | 'entry' | 'exit'> & { lengthKm?: number }, d: RadarDefaults): Radar {
  const { minSpeedKmh, ...defaults } = d;
  const lengthKm = ends.lengthKm ?? haversineKm(ends.entry, ends.exit);
  return { ...defaults, ...ends, lengthKm, maxTravelMs: (lengthKm / minSpeedKmh) * 3_600_000 };
}

/** The radars of SPEEDCAM_RADARS (a JSON array), or the 5th Avenue radar when it is unset; by id. */
export function parseRadars(json: string | undefined, defaults: RadarDefaults, checkPlateFormats: PlateFormatCheck): Map<string, Radar> {
  const radars = new Map<string, Radar>();
  if (!json) {
    const ends = { id: DEFAULT_RADAR_ID, name: '5th Avenue: Apple Store to Zara', entry: FIFTH_AVENUE_ENTRY, exit: FIFTH_AVENUE_EXIT };
    return radars.set(DEFAULT_RADAR_ID, radarOf(ends, defaults));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`SPEEDCAM_RADARS: not JSON (${(err as Error).message}); expected an array of radars`);
  }
  const list = z.array(radarInput).min(1).safeParse(raw);
  if (!list.success) {
    const msg = list.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ');
    throw new ConfigError(`SPEEDCAM_RADARS: ${msg}`);
  }
  for (const r of list.data) {
    if (radars.has(r.id)) throw new ConfigError(`SPEEDCAM_RADARS: duplicate radar id "${r.id}"`);
    if (r.tolerance !== undefined && r.tolerance_kmh !== undefined) {
      throw new ConfigError(`SPEEDCAM_RADARS [${r.id}].tolerance: give tolerance or the older tolerance_kmh, not both`);
    }
    const own: Partial<RadarDefaults> = {
      speedLimitKmh: r.speed_limit_kmh,
      tolerance:
        r.tolerance !== undefined ? toleranceOf(r.tolerance) : r.tolerance_kmh !== undefined ? fixedTolerance(r.tolerance_kmh) : undefined,
      sessionGapMs: r.session_gap_s !== undefined ? r.session_gap_s * 1000 : undefined,
      minSpeedKmh: r.min_speed_kmh,
      expectedObservations: r.expected_observations,
      plausibleMaxKmh: r.plausible_max_kmh,
      offSectionToleranceKm: r.off_section_tolerance_m !== undefined ? r.off_section_tolerance_m / 1000 : undefined,
      averageSpeed: r.average_speed,
      plateFormats: r.plate_formats && checkPlateFormats(`SPEEDCAM_RADARS [${r.id}].plate_formats`, r.plate_formats),
    };
    const set = Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined));
    radars.set(
      r.id,
      radarOf({ id: r.id, name: r.name ?? r.id, entry: r.entry, exit: r.exit, lengthKm: r.length_km }, { ...defaults, ...set }),
    );
  }
  return radars;
}

/** SPEEDCAM_TOLERANCE (a preset or the rule as JSON), else SPEEDCAM_TOLERANCE_KMH as a fixed allowance. */
export function defaultTolerance(spec: string | undefined, kmh: number | undefined): Tolerance {
  if (spec === undefined || spec.trim() === '') return fixedTolerance(kmh ?? 0);
  if (kmh !== undefined) throw new ConfigError('SPEEDCAM_TOLERANCE: give SPEEDCAM_TOLERANCE or the older SPEEDCAM_TOLERANCE_KMH, not both');
  let raw: unknown = spec.trim();
  if ((raw as string).startsWith('{')) {
    try {
      raw = JSON.parse(spec);
    } catch (err) {
      const expected = 'a preset name or {"percent", "plus_kmh", "min_kmh", "applies_to"}';
      throw new ConfigError(`SPEEDCAM_TOLERANCE: not JSON (${(err as Error).message}); expected ${expected}`);
    }
  }
  const parsed = toleranceInput.safeParse(raw);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${['tolerance', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`SPEEDCAM_TOLERANCE: ${msg}`);
  }
  return toleranceOf(parsed.data);
}
