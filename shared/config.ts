import { coreSettings } from './core/core-settings.js';
import { logSettings } from './core/logger.js';
import { readSettings, type Env, type GroupValues, type SettingsGroup } from './core/settings.js';
import { topicSettings } from './contracts/topics.js';
import { exportSettings } from './export/settings.js';
import { checkPlateFormats, fineSettings } from './fines/settings.js';
import { reviewSettings } from './review/settings.js';
import { speedSettings } from './speed/settings.js';
import { windowSettings } from './windows/settings.js';

/**
 * The configuration: every product declares its settings next to its code (shared/<product>/settings.ts,
 * shared/core/core-settings.ts; one declaration per variable, shared/core/settings.ts), and this module
 * composes them. loadConfig validates every group, Config is the union of their values, and
 * docs/configuration.md is generated from the same declarations (cli/config-doc.ts). Products never import
 * this module: each reads its own settings' type, and the runtime passes the whole Config.
 */
export { ConfigError } from './core/settings.js';

/** The flush function's timeout (functions/catalog.ts deploys it): a flush run never holds its lease longer. */
export { FLUSH_TIMEOUT_S } from './export/settings.js';

/** Every group loadConfig reads, by owner. */
export const SETTINGS = {
  core: coreSettings,
  speed: speedSettings(checkPlateFormats),
  fines: fineSettings,
  review: reviewSettings,
  windows: windowSettings,
  export: exportSettings,
  topics: topicSettings,
};

/** Every documented group: loadConfig's, and LOG_LEVEL (each logger reads it itself, before any configuration). */
export const DOCUMENTED_SETTINGS: readonly SettingsGroup<unknown>[] = [...Object.values(SETTINGS), logSettings];

type Groups = { [K in keyof typeof SETTINGS]: GroupValues<(typeof SETTINGS)[K]> };
/** A union of object types as their intersection: every group's properties in one type. */
type Merged<U> = (U extends unknown ? (u: U) => void : never) extends (u: infer I) => void ? I : never;

/** The whole configuration: every group's values in one object (a function reads the part its product declares). */
export type Config = Readonly<Merged<Groups[keyof Groups]>>;

/** Reads and validates configuration. Pure: call it from entry points, never at import time. */
export function loadConfig(env: Env = process.env): Config {
  const groups = readSettings(SETTINGS, env);
  return Object.assign({}, ...Object.values(groups)) as Config;
}
