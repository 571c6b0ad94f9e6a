import { z } from 'zod';
import type { CoreSettings } from '../core/core-settings.js';
import { amount, atLeast, commaList, ConfigError, type GroupValues, setting, settingsGroup } from '../core/settings.js';
import type { ExportSettings } from '../export/settings.js';
import { AVERAGE_SPEED_RULES, defaultTolerance, parseRadars, type PlateFormatCheck, type Radar, type RadarDefaults } from './radar.js';
import type { Topics } from '../contracts/topics.js';

const OWNER = 'shared/speed/settings.ts';
const RADARS_DOC =
  'JSON array: `{id, name?, entry:[lat,lon], exit:[lat,lon], length_km?, speed_limit_kmh?, tolerance?, tolerance_kmh?, session_gap_s?, ' +
  'min_speed_kmh?, expected_observations?, plausible_max_kmh?, off_section_tolerance_m?, average_speed?, plate_formats?}`';

/**
 * The speed path's settings: the radars (SPEEDCAM_RADARS, or the 5th Avenue one) and the defaults of
 * those that leave a field out, the observation limits and the log commit. `checkPlateFormats` is the
 * fines' check of plate formats (shared/fines/settings.ts): a radar carries its formats, the fines read them.
 */
export function speedSettings(checkPlateFormats: PlateFormatCheck) {
  return settingsGroup(
    OWNER,
    {
      radars: setting('SPEEDCAM_RADARS', z.string().optional(), RADARS_DOC, { default: 'the 5th Avenue radar' }),
      defaultRadarId: setting('SPEEDCAM_DEFAULT_RADAR', z.string().optional(), 'radar of seed messages without a `radar_id` attribute', {
        default: 'the first radar',
      }),
      speedLimitKmh: amount('SPEEDCAM_SPEED_LIMIT_KMH', { min: 1, default: 40 }, 'speed limit of radars that set none'),
      toleranceKmh: setting(
        'SPEEDCAM_TOLERANCE_KMH',
        atLeast(0).optional(),
        'a fixed allowance above the limit for radars that set none (older form of `SPEEDCAM_TOLERANCE`)',
        { default: '0' },
      ),
      tolerance: setting(
        'SPEEDCAM_TOLERANCE',
        z.string().optional(),
        'tolerance of radars that set none: a preset (`none`, `uk`, `it`, `nl`) or JSON `{percent, plus_kmh, min_kmh, ' +
          'applies_to}`; per radar `tolerance`; see tolerances.md',
        { default: "none: fined above the limit (the seed's `> 40`)" },
      ),
      sessionGapMs: amount(
        'SPEEDCAM_SESSION_GAP_S',
        { min: 0.001, default: 15, ms: 's' },
        "a passage's observations are each within this gap of the previous one",
      ),
      minSpeedKmh: amount(
        'SPEEDCAM_MIN_SPEED_KMH',
        { min: 0.1, default: 5 },
        'slowest plausible speed: while only the entry or the exit camera saw a vehicle, its passage stays open length ÷ this',
      ),
      gapCloseDelayMs: amount(
        'SPEEDCAM_GAP_CLOSE_DELAY_S',
        { min: 0, default: 120, ms: 's' },
        'delivery slack beyond the session gap before the flush closes a passage by gap',
      ),
      expectedObservations: amount(
        'SPEEDCAM_EXPECTED_OBSERVATIONS',
        { min: 2, default: 10 },
        'a passage closes once it holds this many observations (seed 001 sends 10)',
      ),
      plausibleMaxKmh: amount(
        'SPEEDCAM_PLAUSIBLE_MAX_KMH',
        { min: 1, default: 250 },
        'average speeds above this are flagged `implausible_speed` for review, not fined',
      ),
      maxSpotSpeedKmh: amount('SPEEDCAM_MAX_SPOT_SPEED_KMH', { min: 1, default: 400 }, 'spot speeds above this are rejected'),
      offSectionToleranceKm: setting(
        'SPEEDCAM_OFF_SECTION_TOLERANCE_M',
        atLeast(1).default(250),
        'observations farther than this from the section are rejected',
        {
          to: (m) => m / 1000,
        },
      ),
      averageSpeed: setting(
        'SPEEDCAM_AVERAGE_SPEED',
        z.enum(AVERAGE_SPEED_RULES).default('space_mean'),
        "`space_mean` (distance over time) or `arithmetic` (the seeds' mean of spot speeds); per radar `average_speed`",
      ),
      plateFormats: setting(
        'SPEEDCAM_PLATE_FORMATS',
        z.string().default('us-ny'),
        'comma-separated plate formats the radars expect (presets or L/D/A templates, see fines.md); ' +
          'per radar `plate_formats`; empty: any plate is read, and a person confirms every one',
        { to: commaList },
      ),
      maxEventAgeMs: amount('SPEEDCAM_MAX_EVENT_AGE_H', { min: 0.01, default: 24 * 7, ms: 'h' }, 'events older than this are rejected'),
      logCommitWaitMs: amount(
        'SPEEDCAM_LOG_COMMIT_WAIT_MS',
        { min: 0, default: 50 },
        "how long an instance gathers observations of any vehicle before it appends them to the radar's observation log",
      ),
    },
    ({ radars: json, defaultRadarId: chosen, toleranceKmh, tolerance, minSpeedKmh, plateFormats, ...v }) => {
      const defaults: RadarDefaults = {
        speedLimitKmh: v.speedLimitKmh,
        tolerance: defaultTolerance(tolerance, toleranceKmh),
        sessionGapMs: v.sessionGapMs,
        minSpeedKmh,
        gapCloseDelayMs: v.gapCloseDelayMs,
        expectedObservations: v.expectedObservations,
        plausibleMaxKmh: v.plausibleMaxKmh,
        offSectionToleranceKm: v.offSectionToleranceKm,
        averageSpeed: v.averageSpeed,
        plateFormats: checkPlateFormats('SPEEDCAM_PLATE_FORMATS', plateFormats),
      };
      const radars: ReadonlyMap<string, Radar> = parseRadars(json, defaults, checkPlateFormats);
      const defaultRadarId = chosen ?? radars.keys().next().value!;
      if (!radars.has(defaultRadarId)) {
        throw new ConfigError(
          `SPEEDCAM_DEFAULT_RADAR: "${defaultRadarId}" is not a configured radar; valid: ${[...radars.keys()].join(', ')}`,
        );
      }
      return {
        radars,
        defaultRadarId,
        maxSpotSpeedKmh: v.maxSpotSpeedKmh,
        maxEventAgeMs: v.maxEventAgeMs,
        logCommitWaitMs: v.logCommitWaitMs,
      };
    },
  );
}

/** The speed path's configuration: what its modules read (the runtime passes the whole Config). */
export type SpeedSettings = GroupValues<ReturnType<typeof speedSettings>>;

/**
 * What the speed path reads of the configuration: its own settings, the shared limits, the export's
 * timing and its topics' names (the runtime passes the whole Config).
 */
export type SpeedConfig = SpeedSettings &
  CoreSettings &
  ExportSettings & { topics: Pick<Topics, 'vehicleObservations' | 'nonFinedVehicles' | 'speedingVehicles' | 'deadLetters'> };
