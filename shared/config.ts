import { z } from 'zod';
import { coreSettings } from './core/core-settings.js';
import type { TopicDeclaration } from './core/publisher.js';
import { logSettings } from './core/logger.js';
import { readSettings, setting, settingsGroup, type Env, type GroupValues, type Setting, type SettingsGroup } from './core/settings.js';
import { exportSettings } from './export/settings.js';
import { checkPlateFormats, fineSettings } from './fines/settings.js';
import type { PipelineSettings } from './windows/pipeline-config.js';
import { reviewSettings } from './review/settings.js';
import { speedSettings } from './speed/settings.js';
import { windowSettings } from './windows/settings.js';
import { WINDOW_PIPELINES, type ConfigurablePipeline, type PipelineTopicKey } from './windows/pipelines/index.js';

/**
 * The configuration: every product declares its settings next to its code (shared/<product>/settings.ts,
 * shared/core/core-settings.ts; one declaration per variable, shared/core/settings.ts), and this module
 * composes them. loadConfig validates every group, Config is the union of their values, and
 * docs/configuration.md is generated from the same declarations (cli/config-doc.ts). Products never import
 * this module: each reads its own settings' type, and the runtime passes the whole Config.
 */
export { ConfigError } from './core/settings.js';

/** The topics of the speed path, the fines, the registrations, the dead letters and the flush's ticks. */
const CORE_TOPICS = [
  { key: 'vehicleObservations', env: 'TOPIC_VEHICLE_OBSERVATIONS', name: 'vehicle-observations' },
  { key: 'nonFinedVehicles', env: 'TOPIC_NON_FINED_VEHICLES', name: 'non-fined-vehicles' },
  { key: 'speedingVehicles', env: 'TOPIC_SPEEDING_VEHICLES', name: 'speeding-vehicles' },
  { key: 'fineNotifications', env: 'TOPIC_FINE_NOTIFICATIONS', name: 'fine-notifications' },
  { key: 'deadLetters', env: 'TOPIC_DEAD_LETTERS', name: 'dead-letters' },
  { key: 'flushTicks', env: 'TOPIC_FLUSH_TICKS', name: 'flush-ticks' },
  { key: 'userRegistrations', env: 'TOPIC_USER_REGISTRATIONS', name: 'user-registrations' },
] as const satisfies readonly TopicDeclaration[];

/** Every topic: those above and each window pipeline's own (declared with the pipeline). */
export const TOPICS: readonly (TopicDeclaration & { key: TopicKey })[] = [
  ...CORE_TOPICS,
  ...WINDOW_PIPELINES.flatMap((p) => (p.input.kind === 'topic' ? [p.input.topic] : [])),
];

/** The flush function's timeout (functions/catalog.ts deploys it): a flush run never holds its lease longer. */
export { FLUSH_TIMEOUT_S } from './export/settings.js';

export type TopicKey = (typeof CORE_TOPICS)[number]['key'] | PipelineTopicKey;
/** topic names by key (TOPIC_* renames them) */
export type Topics = Record<TopicKey, string>;
/** SPEEDCAM_PIPELINES: the settings of each pipeline a user configures */
export type PipelinesConfig = Record<ConfigurablePipeline, PipelineSettings>;

/** TOPIC_*: each topic's name, by the variable its declaration names. */
const topicSettings = settingsGroup(
  'shared/config.ts',
  Object.fromEntries(
    TOPICS.map((t) => [
      t.key,
      setting(t.env, z.string().min(3).default(t.name), "the topic's name (`terraform/functions.json` lists them)"),
    ]),
  ) as Record<TopicKey, Setting<string>>,
  (topics): { topics: Topics } => ({ topics }),
);

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
