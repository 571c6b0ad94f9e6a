import { z } from 'zod';
import type { CoreSettings } from '../core/core-settings.js';
import { amount, ConfigError, type GroupValues, setting, settingsGroup } from '../core/settings.js';
import { parsePipelines } from './pipeline-config.js';
import type { Topics } from '../contracts/topics.js';
import { WINDOW_PIPELINES } from './pipelines/index.js';

const CONFIGURABLE = WINDOW_PIPELINES.flatMap((p) => (p.configurable ? [p as Extract<typeof p, { configurable: true }>] : []));

/** The window pipelines' settings: each configurable pipeline's event time, window and lateness, and section traffic's lateness. */
export const windowSettings = settingsGroup(
  'shared/windows/settings.ts',
  {
    windowLatenessMs: amount(
      'SPEEDCAM_WINDOW_LATENESS_S',
      { min: 0, default: 30, ms: 's' },
      'default allowed lateness of the window pipelines',
    ),
    pipelines: setting(
      'SPEEDCAM_PIPELINES',
      z.string().optional(),
      'JSON per window pipeline (`clicks`, `transactions`): `event_time` (`publish_time` \\| `payload` \\| `attribute:NAME`), ' +
        '`timezone`, `window_s`, `lateness_s`, `late` (`dead_letter` \\| `update`), `early_s` (early panes; clicks 60); ' +
        'see windows-and-time.md',
      { default: 'empty: publish time, clicks 60 s, transactions 30 s, `late: dead_letter`' },
    ),
    sectionTrafficLatenessMs: amount(
      'SPEEDCAM_SECTION_TRAFFIC_LATENESS_S',
      { min: 0, default: 600, ms: 's' },
      'lateness of `section_traffic_minute` (passages reach it a gap, the export grace and a flush period after their exit)',
    ),
  },
  ({ pipelines: json, ...v }) => {
    const pipelines = parsePipelines(json, { latenessMs: v.windowLatenessMs }, CONFIGURABLE);
    if ('error' in pipelines) throw new ConfigError(`SPEEDCAM_PIPELINES: ${pipelines.error}`);
    return { ...v, pipelines };
  },
);

/** The window pipelines' configuration (the runtime passes the whole Config). */
export type WindowSettings = GroupValues<typeof windowSettings>;

/**
 * What the window pipelines read of the configuration: their settings, the shared limits on inputs and
 * the names of their topics (the runtime passes the whole Config).
 */
export type WindowConfig = WindowSettings & CoreSettings & { topics: Pick<Topics, 'clickEvents' | 'transactions' | 'deadLetters'> };
