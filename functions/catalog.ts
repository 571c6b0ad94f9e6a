import { FLUSH_TIMEOUT_S, type Config } from '../shared/config.js';
import { TOPICS, type TopicKey } from '../shared/contracts/topics.js';
import { WINDOW_PIPELINES } from '../shared/windows/pipelines/index.js';

/**
 * Every deployable function: its entry point, what calls it (a topic's push subscription, or people over
 * HTTP), its scaling and its grants.
 */
export type FunctionSpec = PushFunctionSpec | HttpFunctionSpec;

/** A function a topic's push subscription delivers to (internal traffic only, invoked by its own account). */
export interface PushFunctionSpec extends CommonSpec {
  kind: 'push';
  /** the topic whose push subscription delivers to this function */
  trigger: TopicKey;
  triggerTopic: (c: Config) => string;
  /**
   * Its push subscription: whether a message that keeps failing goes to dead-letters (not for the
   * dead-letters function itself, nor for flush ticks, which are disposable: a tick that cannot be
   * delivered while the one flush instance is busy just expires), and how long an unacked message is kept.
   */
  subscription: { deadLetter: boolean; retentionS: number };
}

/**
 * A function people call (the review page and API): no topic, no push subscription; reachable from outside
 * (ingress all) but invoked only by the `reviewers` (roles/run.invoker; never allUsers).
 */
export interface HttpFunctionSpec extends CommonSpec {
  kind: 'http';
  invokers: 'reviewers';
}

interface CommonSpec {
  /** folder under functions/ */
  dir: string;
  entryPoint: string;
  /** service account id suffix: `<name_prefix>-<account>` must fit in 30 characters */
  account: string;
  /** requests one instance handles at once (Cloud Run concurrency; the local relay's flow control) */
  concurrency: number;
  memory: '256Mi' | '512Mi' | '1Gi' | '2Gi';
  /** vCPUs: more than one request at a time needs a whole vCPU (Cloud Run's rule for concurrency > 1) */
  cpu: '0.583' | '1' | '2';
  maxInstances: number;
  /** request timeout; the push subscription's ack deadline equals it */
  timeoutS: number;
  /** what the function's own service account may do (least privilege; Terraform and the deploy script grant these) */
  grants: readonly Grant[];
}

export type Grant =
  | { role: 'roles/datastore.user'; on: 'project' }
  /** runs query jobs (the flush's hourly DML UPDATE of the non-offender retention); project-level only */
  | { role: 'roles/bigquery.jobUser'; on: 'project' }
  | { role: 'roles/pubsub.publisher'; on: 'topic'; topic: TopicKey }
  | { role: 'roles/bigquery.dataEditor'; on: 'dataset' }
  | { role: 'roles/storage.objectViewer' | 'roles/storage.objectCreator'; on: 'bucket'; bucket: 'captures' | 'evidence' };

/** A week of backlog survives an outage, as long as the Firestore state it joins (SPEEDCAM_RETENTION_DAYS). */
const KEEP = { deadLetter: true, retentionS: 7 * 86_400 };

const firestore: Grant = { role: 'roles/datastore.user', on: 'project' };
const publishes = (...topics: TopicKey[]): Grant[] => topics.map((topic) => ({ role: 'roles/pubsub.publisher', on: 'topic', topic }));
/**
 * Camera photos read; evidence created only (no overwrite, no delete) and read, to compare an existing object's
 * SHA-256 when a retried upload meets ifGenerationMatch=0. The fines and the review function.
 */
const evidencePhotos: Grant[] = [
  { role: 'roles/storage.objectViewer', on: 'bucket', bucket: 'captures' },
  { role: 'roles/storage.objectCreator', on: 'bucket', bucket: 'evidence' },
  { role: 'roles/storage.objectViewer', on: 'bucket', bucket: 'evidence' },
];
/** Sized for many concurrent deliveries per instance (observations, window pipelines with a topic of their own). */
const BURST = { concurrency: 250, memory: '512Mi', cpu: '1', maxInstances: 20, timeoutS: 60, subscription: KEEP } as const;

type Declared = Omit<PushFunctionSpec, 'triggerTopic' | 'kind'>;
const declare = (d: Declared): PushFunctionSpec => ({ ...d, kind: 'push', triggerTopic: (c) => c.topics[d.trigger] });

export const FUNCTIONS: readonly FunctionSpec[] = [
  // Many concurrent deliveries per instance: the group commit needs the burst in one place.
  declare({
    dir: 'vehicle-observations',
    entryPoint: 'vehicleObservations',
    trigger: 'vehicleObservations',
    account: 'observations',
    ...BURST,
    grants: [firestore, ...publishes('nonFinedVehicles', 'speedingVehicles', 'deadLetters')],
  }),
  // OCR is CPU-bound: a few photos at a time per instance.
  declare({
    dir: 'fines',
    entryPoint: 'fines',
    trigger: 'speedingVehicles',
    account: 'fines',
    concurrency: 4,
    memory: '1Gi',
    cpu: '1',
    maxInstances: 10,
    timeoutS: 120,
    subscription: KEEP,
    grants: [firestore, ...publishes('fineNotifications', 'deadLetters'), ...evidencePhotos],
  }),
  // Window pipelines with a topic of their own (declared in shared/windows/pipelines/): one group commit per
  // instance for all keys, so many concurrent deliveries.
  ...WINDOW_PIPELINES.flatMap((p) =>
    p.input.kind === 'topic'
      ? [
          declare({
            dir: p.input.topic.name,
            entryPoint: p.input.topic.key,
            account: p.name,
            trigger: p.input.topic.key,
            ...BURST,
            grants: [firestore, ...publishes('deadLetters')],
          }),
        ]
      : [],
  ),
  declare({
    dir: 'user-registrations',
    entryPoint: 'userRegistrations',
    trigger: 'userRegistrations',
    account: 'registrations',
    concurrency: 50,
    memory: '256Mi',
    cpu: '1',
    maxInstances: 5,
    timeoutS: 60,
    subscription: KEEP,
    grants: [firestore, ...publishes('deadLetters')],
  }),
  // People deciding held fines: a few requests each, photos read from both buckets, a re-drawn photo created
  // in evidence (create only), the decided fine's notification published; no warehouse (the flush exports).
  {
    kind: 'http',
    invokers: 'reviewers',
    dir: 'review',
    entryPoint: 'review',
    account: 'review',
    concurrency: 20,
    memory: '512Mi',
    cpu: '1',
    maxInstances: 3,
    timeoutS: 60,
    grants: [firestore, ...publishes('fineNotifications'), ...evidencePhotos],
  },
  declare({
    dir: 'dead-letters',
    entryPoint: 'deadLetters',
    trigger: 'deadLetters',
    account: 'dead-letters',
    concurrency: 50,
    memory: '256Mi',
    cpu: '1',
    maxInstances: 5,
    timeoutS: 60,
    subscription: { deadLetter: false, retentionS: 7 * 86_400 },
    grants: [firestore],
  }),
  // One flush at a time (the lease fences it anyway); it republishes decisions, notifications and late events.
  // Storage Write API CDC upserts (and legacy streaming inserts) need bigquery.tables.updateData on the dataset
  // (dataEditor has it) and run no jobs; the hourly UPDATE of the non-offender retention
  // (shared/speed/non-offender-retention.ts) runs a query job: bigquery.jobUser, which grants no data access.
  declare({
    dir: 'flush',
    entryPoint: 'flush',
    trigger: 'flushTicks',
    account: 'flush',
    concurrency: 1,
    memory: '512Mi',
    cpu: '0.583',
    maxInstances: 1,
    timeoutS: FLUSH_TIMEOUT_S,
    subscription: { deadLetter: false, retentionS: 600 },
    grants: [
      firestore,
      { role: 'roles/bigquery.dataEditor', on: 'dataset' },
      { role: 'roles/bigquery.jobUser', on: 'project' },
      ...publishes('nonFinedVehicles', 'speedingVehicles', 'fineNotifications', 'deadLetters'),
    ],
  }),
];

/** The functions push subscriptions deliver to. */
export const PUSH_FUNCTIONS: readonly PushFunctionSpec[] = FUNCTIONS.filter((f): f is PushFunctionSpec => f.kind === 'push');

/** The Cloud Build service account's id suffix: it builds every function and holds only the build roles. */
export const BUILD_ACCOUNT = 'build';

/**
 * What Terraform reads (terraform/functions.json, written by `speedcam terraform-catalog`; a test keeps
 * the file equal to this): the same declarations, with topic keys in Terraform's snake_case.
 */
export function terraformCatalog() {
  const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return {
    build_account: BUILD_ACCOUNT,
    functions: Object.fromEntries(
      FUNCTIONS.map((f) => [
        f.dir,
        {
          entry_point: f.entryPoint,
          // null: an HTTP function people call (no push subscription; invoked by var.reviewers)
          trigger: f.kind === 'push' ? snake(f.trigger) : null,
          ingress: f.kind === 'push' ? 'internal' : 'all',
          invokers: f.kind === 'push' ? 'own' : f.invokers,
          account: f.account,
          concurrency: f.concurrency,
          memory: f.memory,
          cpu: f.cpu,
          max_instances: f.maxInstances,
          timeout_s: f.timeoutS,
          dead_letter: f.kind === 'push' && f.subscription.deadLetter,
          retention_s: f.kind === 'push' ? f.subscription.retentionS : null,
          grants: f.grants.map((g) => ({
            role: g.role,
            on: g.on,
            target: g.on === 'topic' ? snake(g.topic) : g.on === 'bucket' ? g.bucket : '',
          })),
        },
      ]),
    ),
    // Every topic, by key: the variable each function reads its name from, and that name by default.
    topics: Object.fromEntries(TOPICS.map((t) => [snake(t.key), { env: t.env, name: t.name }])),
  };
}
