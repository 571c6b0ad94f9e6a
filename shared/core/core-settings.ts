import { z } from 'zod';
import { amount, type GroupValues, setting, settingsGroup } from './settings.js';
import { snakeCase } from './names.js';

/**
 * The Firestore collections, each named by its key in snake_case (fineReviews: every review decision, appended,
 * exported to fine_reviews; passageLog, passageSweeps, published: the speed path's observation log, its sweep
 * leases and its publish marks, shared/speed/passage-sweep.ts), and the two named otherwise.
 */
const COLLECTIONS = [
  'passages',
  'deadLetters',
  'control',
  'fines',
  'fineReviews',
  'users',
  'windowState',
  'passageLog',
  'passageSweeps',
  'published',
] as const;

/** Firestore collections by key (SPEEDCAM_COLLECTION_PREFIX prefixes every name). */
function collectionsOf(p: string) {
  return {
    ...(Object.fromEntries(COLLECTIONS.map((key) => [key, `${p}${snakeCase(key)}`])) as Record<(typeof COLLECTIONS)[number], string>),
    archive: `${p}passage_archive`,
    /** each window pipeline's batch collection: this prefix and the pipeline's name */
    windowBatchesPrefix: `${p}wb_`,
  };
}

/** The settings every function shares: the project, the collections, the limits on inputs, the chaos faults. */
export const coreSettings = settingsGroup(
  'shared/core/core-settings.ts',
  {
    googleCloudProject: setting('GOOGLE_CLOUD_PROJECT', z.string().min(1).optional(), 'project id', { default: '`demo-speedcam`' }),
    gcloudProject: setting('GCLOUD_PROJECT', z.string().min(1).optional(), 'project id, when `GOOGLE_CLOUD_PROJECT` is not set', {
      default: '`demo-speedcam`',
    }),
    collectionPrefix: setting(
      'SPEEDCAM_COLLECTION_PREFIX',
      z
        .string()
        .regex(/^[A-Za-z0-9_-]*$/)
        .default(''),
      'prefix of every Firestore collection (tests and benches share one emulator)',
    ),
    maxMessageBytes: amount(
      'SPEEDCAM_MAX_MESSAGE_BYTES',
      { min: 64, default: 65536 },
      "larger messages are dead-lettered `oversized` (registrations accept Pub/Sub's 10 MB)",
    ),
    maxEventFutureMs: amount(
      'SPEEDCAM_MAX_EVENT_FUTURE_S',
      { min: 0, default: 300, ms: 's' },
      'events further in the future than this are rejected',
    ),
    groupCommitWaitMs: amount(
      'SPEEDCAM_GROUP_COMMIT_WAIT_MS',
      { min: 0, default: 40 },
      "group-commit window (a vehicle's burst on one instance; window events)",
    ),
    /** injected transient failures for the chaos run ("point:probability,…"); empty in production */
    faultSpec: setting('SPEEDCAM_FAULTS', z.string().default(''), 'chaos only: `point:probability,…` injected transient failures'),
  },
  ({ googleCloudProject, gcloudProject, collectionPrefix, ...v }) => ({
    ...v,
    projectId: googleCloudProject ?? gcloudProject ?? 'demo-speedcam',
    collections: collectionsOf(collectionPrefix),
  }),
);

/** What every function's configuration holds (the runtime passes the whole Config). */
export type CoreSettings = GroupValues<typeof coreSettings>;
