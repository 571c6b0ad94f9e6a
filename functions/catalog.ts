import { FLUSH_TIMEOUT_S, type Config } from '../shared/config.js';
import { TOPICS, type TopicKey } from '../shared/contracts/topics.js';
import { WINDOW_PIPELINES } from '../shared/windows/pipelines/index.js';
import type { Handler, Handlers, HttpHandler } from '../shared/runtime.js';
import { snakeCase } from '../shared/core/names.js';

/**
 * Every deployable function, declared once: its name, entry point, what calls it (a topic's push subscription,
 * or people over HTTP), the runtime handler that serves it, its scaling and its grants. The entry module
 * (functions/index.ts), Terraform (terraform/functions.json, generated from this) and `speedcam deploy` all
 * read this list; adding a function is one declaration here plus its handler in shared/runtime.ts.
 */
export type FunctionSpec = PushFunctionSpec | HttpFunctionSpec;

/** A function a topic's push subscription delivers to (internal traffic only, invoked by its own account). */
export interface PushFunctionSpec<H extends PushHandlerName = PushHandlerName> extends CommonSpec {
  kind: 'push';
  /** the runtime handler each delivery is given to */
  handler: H;
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
export interface HttpFunctionSpec<H extends HttpHandlerName = HttpHandlerName> extends CommonSpec {
  kind: 'http';
  /** the runtime handler each request is given to */
  handler: H;
  invokers: 'reviewers';
}

interface CommonSpec {
  /** the function's name: Cloud Run service `<name_prefix>-<name>`, its subscription, Terraform's key */
  name: string;
  /** what functions-framework registers it as (`--entry-point`, Terraform's `entry_point`, FUNCTION_TARGET) */
  entryPoint: string;
  /**
   * Loaded while the instance starts (FUNCTION_TARGET names it), not on its first request: code the
   * handler imports lazily that this function always needs (the fines' photo and OCR code, sharp).
   */
  preload?: () => Promise<unknown>;
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

/**
 * A runtime handler's name (shared/runtime.ts's Handlers): `fines`, or a group's member as `windows.clicks`.
 * Derived from the Handlers interface, so a name that is no handler does not compile.
 */
type HandlerPath<T> = {
  [K in keyof T & string]: T[K] extends Handler | HttpHandler ? K : `${K}.${keyof T[K] & string}`;
}[keyof T & string];
export type HandlerName = HandlerPath<Handlers>;
/** The handler a name resolves to (its type). */
export type HandlerAt<P extends HandlerName> = P extends `${infer G extends keyof Handlers}.${infer M}`
  ? Handlers[G][M & keyof Handlers[G]]
  : Handlers[P & keyof Handlers];
/** Handlers that take Pub/Sub deliveries, and those that take people's HTTP requests. */
export type PushHandlerName = { [P in HandlerName]: HandlerAt<P> extends Handler ? P : never }[HandlerName];
export type HttpHandlerName = { [P in HandlerName]: HandlerAt<P> extends HttpHandler ? P : never }[HandlerName];

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

type Declared<H extends PushHandlerName> = Omit<PushFunctionSpec<H>, 'triggerTopic' | 'kind'>;
const declare = <const H extends PushHandlerName>(d: Declared<H>): PushFunctionSpec<H> => ({
  ...d,
  kind: 'push',
  triggerTopic: (c) => c.topics[d.trigger],
});
const topicPipelines = WINDOW_PIPELINES.filter(
  (p): p is Extract<(typeof WINDOW_PIPELINES)[number], { input: { kind: 'topic' } }> => p.input.kind === 'topic',
);

/** The declarations, with each one's handler name kept (checked against the runtime's handlers below). */
const DECLARED = [
  // Many concurrent deliveries per instance: the group commit needs the burst in one place.
  declare({
    name: 'vehicle-observations',
    entryPoint: 'vehicleObservations',
    handler: 'speedCheck',
    trigger: 'vehicleObservations',
    account: 'observations',
    ...BURST,
    grants: [firestore, ...publishes('nonFinedVehicles', 'speedingVehicles', 'deadLetters')],
  }),
  // OCR is CPU-bound: a few photos at a time per instance.
  declare({
    name: 'fines',
    entryPoint: 'fines',
    handler: 'fines',
    // The photo, OCR and drawing code (sharp) loads while the instance starts, not on its first delivery.
    preload: () => import('../shared/fines/fine.js'),
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
  ...topicPipelines.map((p) =>
    declare({
      name: p.input.topic.name,
      entryPoint: p.input.topic.key,
      handler: `windows.${p.name}`,
      account: p.name,
      trigger: p.input.topic.key,
      ...BURST,
      grants: [firestore, ...publishes('deadLetters')],
    }),
  ),
  declare({
    name: 'user-registrations',
    entryPoint: 'userRegistrations',
    handler: 'registrations',
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
    name: 'review',
    entryPoint: 'review',
    handler: 'review',
    account: 'review',
    concurrency: 20,
    memory: '512Mi',
    cpu: '1',
    maxInstances: 3,
    timeoutS: 60,
    grants: [firestore, ...publishes('fineNotifications'), ...evidencePhotos],
  },
  declare({
    name: 'dead-letters',
    entryPoint: 'deadLetters',
    handler: 'deadLetterSink',
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
    name: 'flush',
    entryPoint: 'flush',
    handler: 'flush',
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
] as const satisfies readonly FunctionSpec[];

/**
 * Every runtime handler serves a declared function: one that no declaration names fails to compile here
 * (the type names it). A declaration naming no handler, or one of the wrong kind, fails above.
 */
type Unserved = Exclude<HandlerName, (typeof DECLARED)[number]['handler']>;
const everyHandlerServed: [Unserved] extends [never] ? true : { unserved: Unserved } = true;
void everyHandlerServed;

export const FUNCTIONS: readonly FunctionSpec[] = DECLARED;

/** The functions push subscriptions deliver to. */
export const PUSH_FUNCTIONS: readonly PushFunctionSpec[] = FUNCTIONS.filter((f): f is PushFunctionSpec => f.kind === 'push');

/** The Cloud Build service account's id suffix: it builds every function and holds only the build roles. */
export const BUILD_ACCOUNT = 'build';

/**
 * What Terraform reads (terraform/functions.json, written by `speedcam terraform-catalog`; a test keeps
 * the file equal to this): the same declarations, with topic keys in Terraform's snake_case.
 */
export function terraformCatalog(functions: readonly FunctionSpec[] = FUNCTIONS) {
  return {
    build_account: BUILD_ACCOUNT,
    functions: Object.fromEntries(
      functions.map((f) => [
        f.name,
        {
          entry_point: f.entryPoint,
          // null: an HTTP function people call (no push subscription; invoked by var.reviewers)
          trigger: f.kind === 'push' ? snakeCase(f.trigger) : null,
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
            target: g.on === 'topic' ? snakeCase(g.topic) : g.on === 'bucket' ? g.bucket : '',
          })),
        },
      ]),
    ),
    // Every topic, by key: the variable each function reads its name from, and that name by default.
    topics: Object.fromEntries(TOPICS.map((t) => [snakeCase(t.key), { env: t.env, name: t.name }])),
  };
}
