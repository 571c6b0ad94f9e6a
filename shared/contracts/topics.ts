import { z } from 'zod';
import type { TopicDeclaration } from '../core/publisher.js';
import { setting, settingsGroup, type Setting } from '../core/settings.js';

/**
 * Every Pub/Sub topic: its key in the configuration (`config.topics.<key>`), the variable that renames it
 * (TOPIC_*), and its default name. Each topic's message has its module beside this one (docs/contracts.md).
 * The order is Terraform's (terraform/functions.json is generated from it).
 */
export const TOPICS = [
  // the speed path, the fines, the dead letters, the flush's ticks and the registrations
  { key: 'vehicleObservations', env: 'TOPIC_VEHICLE_OBSERVATIONS', name: 'vehicle-observations' },
  { key: 'nonFinedVehicles', env: 'TOPIC_NON_FINED_VEHICLES', name: 'non-fined-vehicles' },
  { key: 'speedingVehicles', env: 'TOPIC_SPEEDING_VEHICLES', name: 'speeding-vehicles' },
  { key: 'fineNotifications', env: 'TOPIC_FINE_NOTIFICATIONS', name: 'fine-notifications' },
  { key: 'deadLetters', env: 'TOPIC_DEAD_LETTERS', name: 'dead-letters' },
  { key: 'flushTicks', env: 'TOPIC_FLUSH_TICKS', name: 'flush-ticks' },
  { key: 'userRegistrations', env: 'TOPIC_USER_REGISTRATIONS', name: 'user-registrations' },
  // the window pipelines' own inputs (shared/windows/pipelines/ names its topic from here)
  { key: 'clickEvents', env: 'TOPIC_CLICK_EVENTS', name: 'click-events' },
  { key: 'transactions', env: 'TOPIC_TRANSACTIONS', name: 'transactions' },
] as const satisfies readonly TopicDeclaration[];

export type TopicKey = (typeof TOPICS)[number]['key'];
/** topic names by key (TOPIC_* renames them) */
export type Topics = Record<TopicKey, string>;

/** Each topic's declaration by its key, with its literal names. */
export const TOPIC = Object.fromEntries(TOPICS.map((t) => [t.key, t])) as {
  readonly [K in TopicKey]: Extract<(typeof TOPICS)[number], { key: K }>;
};

/** TOPIC_*: each topic's name, by the variable its declaration names (config.topics). */
export const topicSettings = settingsGroup(
  'shared/contracts/topics.ts',
  Object.fromEntries(
    TOPICS.map((t) => [
      t.key,
      setting(t.env, z.string().min(3).default(t.name), "the topic's name (`terraform/functions.json` lists them)"),
    ]),
  ) as Record<TopicKey, Setting<string>>,
  (topics): { topics: Topics } => ({ topics }),
);
