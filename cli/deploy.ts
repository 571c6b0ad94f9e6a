import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { FUNCTIONS, BUILD_ACCOUNT, type FunctionSpec, type Grant, type PushFunctionSpec } from '../functions/catalog.js';
import { loadConfig, type Config } from '../shared/config.js';
import { FLUSH_TICK } from '../shared/contracts/flush-tick.js';
import { TOPICS } from '../shared/contracts/topics.js';
import { loadSchemas, repoPath, schemasDir } from '../shared/export/schemas.js';

type Threshold = {
  kind: 'threshold' | 'absent';
  display_name: string;
  documentation: string;
  filter: string;
  comparison: string;
  threshold: number;
  duration_s: number;
  alignment_s: number;
  aligner: string;
  reducer: string;
  group_by: string[];
};

/** What Terraform and this script both create, declared once (terraform/resources.json). */
export interface Resources {
  apis: string[];
  ttl_collections: string[];
  /** "collection/field" → "none" (no single-field index) | "ascending" (the ascending index only) */
  index_exemptions: Record<string, 'none' | 'ascending'>;
  tables: Record<string, { time: string | null; cluster: string[] }>;
  latest_view: { query: string };
  /** CDC tables: the primary key and each table's max_staleness (INTERVAL 'Y-M D H:M:S'; `default` for the rest) */
  cdc: { primary_key: string[]; max_staleness: Record<string, string> & { default: string } };
  subscriptions: { min_backoff_s: number; max_backoff_s: number; max_delivery_attempts: number };
  request_log_exclusion: { name: string; description: string; filter: string };
  log_metrics: Record<
    string,
    {
      description: string;
      filter: string;
      value_type: 'INT64' | 'DISTRIBUTION';
      value_extractor: string;
      labels: Record<string, string>;
      buckets: { num_finite_buckets: number; growth_factor: number; scale: number } | null;
    }
  >;
  alerts: Record<string, Threshold>;
}
export function deployResources(): Resources {
  return JSON.parse(readFileSync(repoPath('terraform/resources.json'), 'utf8')) as Resources;
}

export interface DeployOptions {
  project: string;
  region: string;
  prefix: string;
  /** `create` the Firestore (default) database, or use the `existing` one */
  firestoreDatabase: 'create' | 'existing';
  firestoreLocation: string;
  bigqueryLocation: string;
  /** the source zip (`speedcam package`), uploaded to the source bucket under its SHA-256 */
  sourceZip: string;
  sourceSha256: string;
  /** extra function environment (Terraform: var.function_env) */
  env?: Record<string, string>;
  alertChannels?: string[];
  /**
   * who may call the review function (roles/run.invoker): IAM members such as `user:ana@city.example` or
   * `group:fine-reviewers@city.example` (Terraform: var.reviewers); never allUsers or allAuthenticatedUsers
   */
  reviewers?: string[];
  /** the review alert's threshold, hours (SPEEDCAM_REVIEW_ALERT_H; Terraform: var.review_alert_h) */
  reviewAlertH?: number;
  /** where the JSON files some commands read are written */
  filesDir: string;
  iamWaitS?: number;
}

/**
 * One command. `${NAME}` in an argument is a value an earlier step captured (its trimmed stdout).
 * Re-running the deploy is safe: creating what exists is skipped (tolerateExisting) or becomes the
 * update (onExisting); `unless` skips the step when that query prints something.
 */
export interface Step {
  argv: string[];
  tolerateExisting?: boolean;
  onExisting?: string[];
  capture?: string;
  unless?: string[];
  /** files the command reads, written before it runs: path → content */
  files?: Record<string, string>;
  /** not a command: wait this long (IAM propagation) */
  waitS?: number;
}

/** Every id derived from the prefix; name_prefix validation guarantees they are valid. */
export function names(project: string, prefix: string, region: string) {
  const sa = (account: string) => `${prefix}-${account}@${project}.iam.gserviceaccount.com`;
  return {
    function: (spec: FunctionSpec) => `${prefix}-${spec.name}`,
    subscription: (spec: FunctionSpec) => `${prefix}-${spec.name}`,
    accountId: (spec: FunctionSpec) => `${prefix}-${spec.account}`,
    account: (spec: FunctionSpec) => sa(spec.account),
    buildAccountId: `${prefix}-${BUILD_ACCOUNT}`,
    buildAccount: sa(BUILD_ACCOUNT),
    bucket: (role: 'captures' | 'evidence' | 'source') => `${project}-${prefix}-${role}`,
    repository: `${prefix}-functions`,
    repositoryPath: `projects/${project}/locations/${region}/repositories/${prefix}-functions`,
    scheduler: `${prefix}-flush`,
    topic: (name: string) => `projects/${project}/topics/${name}`,
    metric: (key: string) => `${prefix}-${key}`,
  };
}

/** An IAM member that names people or accounts (the rule Terraform's var.reviewers validation states): no public principal. */
export const REVIEWER_MEMBER = /^(user|group|serviceAccount|domain):[^\s,]+$/;

export function checkReviewers(members: readonly string[]): string[] {
  for (const m of members) {
    if (REVIEWER_MEMBER.test(m)) continue;
    throw new Error(`--reviewer: "${m}" is not user:<e-mail>, group:<e-mail>, serviceAccount:<e-mail> or domain:<domain> (never public)`);
  }
  return [...members];
}

/** The name_prefix rule Terraform's variable validation states: every derived id fits. */
export const NAME_PREFIX = /^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$/;

/** The functions' environment: the same keys and values as Terraform's local.function_env. */
export function functionEnv(o: DeployOptions, config: Config): Record<string, string> {
  const n = names(o.project, o.prefix, o.region);
  const t = config.topics;
  return {
    GOOGLE_CLOUD_PROJECT: o.project,
    SPEEDCAM_WAREHOUSE: 'bigquery',
    SPEEDCAM_DATASET: dataset(config),
    SPEEDCAM_OBJECTS: 'gcs',
    // The PP-OCRv4 model on the function's own vCPU; `--env SPEEDCAM_OCR=vision` for Cloud Vision (docs/ocr.md).
    SPEEDCAM_OCR: 'model',
    SPEEDCAM_CAPTURES_BUCKET: n.bucket('captures'),
    SPEEDCAM_EVIDENCE_BUCKET: n.bucket('evidence'),
    SPEEDCAM_RETENTION_DAYS: String(Math.round(config.retentionMs / 86_400_000)),
    SPEEDCAM_NON_OFFENDER_RETENTION_H: String(config.nonOffenderRetentionMs / 3_600_000),
    SPEEDCAM_REVIEW_ALERT_H: String(o.reviewAlertH ?? config.review.alertAfterH),
    // Each topic's name, in the variable its declaration names.
    ...Object.fromEntries(TOPICS.map((topic) => [topic.env, t[topic.key]])),
    METADATA_SERVER_DETECTION: 'assume-present',
    ...(o.env ?? {}),
  };
}

/** SPEEDCAM_PIPELINES checked as the functions will check it (errors name the key), compact. */
export function pipelinesEnv(json: string): string {
  loadConfig({ SPEEDCAM_PIPELINES: json });
  return JSON.stringify(JSON.parse(json));
}

/** SPEEDCAM_CARS_API checked as the functions will check it. */
export function carsApiEnv(url: string): string {
  loadConfig({ SPEEDCAM_CARS_API: url });
  return url;
}

/** The BigQuery dataset the deployed functions write to: the configuration's SPEEDCAM_DATASET. */
function dataset(config: Config): string {
  if (config.warehouse.kind !== 'bigquery')
    throw new Error("deploy: the deployed functions write to BigQuery (SPEEDCAM_WAREHOUSE=duckdb is the local stack's)");
  return config.warehouse.dataset;
}

/**
 * The `_latest` view of a table (resources.json's template, as Terraform fills it): kept one release as a
 * plain alias of the table, which is exact itself (Storage Write API CDC upserts, docs/bigquery.md).
 */
export function latestViewQuery(r: Resources, _table: string, fullTable: string): string {
  return r.latest_view.query.replace('{table}', fullTable);
}

/** A table's max_staleness (resources.json cdc). */
export function maxStaleness(r: Resources, table: string): string {
  return r.cdc.max_staleness[table] ?? r.cdc.max_staleness.default;
}

/**
 * The DDL that gives an existing table what CDC upserts need, as one BigQuery script that can run again:
 * the primary key (NOT ENFORCED), added only where the table has none, and the max_staleness.
 * (`bq mk` has no flag for table constraints.)
 */
export function cdcTableScript(r: Resources, project: string, dataset: string, table: string): string {
  const full = `\`${project}.${dataset}.${table}\``;
  return [
    `IF NOT EXISTS (SELECT 1 FROM \`${project}.${dataset}\`.INFORMATION_SCHEMA.TABLE_CONSTRAINTS WHERE table_name = '${table}' AND constraint_type = 'PRIMARY KEY') THEN`,
    `  ALTER TABLE ${full} ADD PRIMARY KEY (${r.cdc.primary_key.join(', ')}) NOT ENFORCED;`,
    'END IF;',
    `ALTER TABLE ${full} SET OPTIONS (max_staleness = INTERVAL '${maxStaleness(r, table)}' YEAR TO SECOND);`,
  ].join('\n');
}

/** A log-based metric as the Logging API takes it (gcloud --config-from-file; Terraform google_logging_metric). */
export function logMetric(r: Resources, key: string, prefix: string) {
  const m = r.log_metrics[key]!;
  return {
    name: `${prefix}-${key}`,
    description: m.description,
    filter: m.filter.replaceAll('{prefix}', prefix),
    ...(m.value_extractor ? { valueExtractor: m.value_extractor } : {}),
    ...(Object.keys(m.labels).length ? { labelExtractors: m.labels } : {}),
    metricDescriptor: {
      metricKind: 'DELTA',
      valueType: m.value_type,
      unit: '1',
      ...(Object.keys(m.labels).length ? { labels: Object.keys(m.labels).map((key) => ({ key, valueType: 'STRING' })) } : {}),
    },
    ...(m.buckets
      ? {
          bucketOptions: {
            exponentialBuckets: {
              numFiniteBuckets: m.buckets.num_finite_buckets,
              growthFactor: m.buckets.growth_factor,
              scale: m.buckets.scale,
            },
          },
        }
      : {}),
  };
}

/** An alert policy as the Monitoring API takes it (gcloud --policy-from-file; Terraform google_monitoring_alert_policy). */
export function alertPolicy(r: Resources, key: string, prefix: string, channels: string[] = [], reviewAlertH?: number) {
  const declared = r.alerts[key]!;
  // The review queue's alert: its threshold is SPEEDCAM_REVIEW_ALERT_H (Terraform: var.review_alert_h).
  const a = key === REVIEW_ALERT && reviewAlertH !== undefined ? { ...declared, threshold: reviewAlertH * 3600 } : declared;
  const aggregations = [
    { alignmentPeriod: `${a.alignment_s}s`, perSeriesAligner: a.aligner, crossSeriesReducer: a.reducer, groupByFields: a.group_by },
  ];
  const filter = a.filter.replaceAll('{prefix}', prefix);
  return {
    displayName: `${prefix}: ${a.display_name}`,
    combiner: 'OR',
    notificationChannels: channels,
    documentation: { content: a.documentation, mimeType: 'text/markdown' },
    conditions: [
      a.kind === 'threshold'
        ? {
            displayName: a.display_name,
            conditionThreshold: {
              filter,
              comparison: a.comparison,
              thresholdValue: a.threshold,
              duration: `${a.duration_s}s`,
              aggregations,
            },
          }
        : { displayName: a.display_name, conditionAbsent: { filter, duration: `${a.duration_s}s`, aggregations } },
    ],
  };
}

/** The alert on the age of the oldest held fine (resources.json). */
export const REVIEW_ALERT = 'review-queue-age';

export function dashboardJson(prefix: string): string {
  return readFileSync(repoPath('terraform/dashboard.json'), 'utf8').replaceAll('{prefix}', prefix);
}

/** Every command that creates the system with gcloud, bq and nothing else, in order; one function per declaration. */
export function deploySteps(o: DeployOptions, config: Config = loadConfig({}), functions: readonly FunctionSpec[] = FUNCTIONS): Step[] {
  if (!NAME_PREFIX.test(o.prefix))
    throw new Error(`--prefix: 1-16 lower-case letters, digits or '-', starting with a letter, not ending with '-' (got "${o.prefix}")`);
  const r = deployResources();
  const n = names(o.project, o.prefix, o.region);
  const p = `--project=${o.project}`;
  const reviewers = checkReviewers(o.reviewers ?? []);
  const ds = dataset(config);
  const db = '--database=(default)';
  const pubsubAgent = `--member=serviceAccount:service-\${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;
  const file = (name: string, content: string) => ({ [join(o.filesDir, name)]: content });
  const steps: Step[] = [];

  steps.push({ argv: ['gcloud', 'services', 'enable', ...r.apis.map((a) => `${a}.googleapis.com`), p] });
  // Enabling an API creates its service agent a little later; the first grants to it wait.
  steps.push({ argv: [], waitS: o.iamWaitS ?? 90 });
  steps.push({ argv: ['gcloud', 'projects', 'describe', o.project, '--format=value(projectNumber)'], capture: 'PROJECT_NUMBER' });

  // Topics; Pub/Sub forwards undeliverable messages to dead-letters as its own service agent.
  for (const topic of Object.values(config.topics))
    steps.push({ argv: ['gcloud', 'pubsub', 'topics', 'create', n.topic(topic), p], tolerateExisting: true });
  steps.push({
    argv: [
      'gcloud',
      'pubsub',
      'topics',
      'add-iam-policy-binding',
      n.topic(config.topics.deadLetters),
      pubsubAgent,
      '--role=roles/pubsub.publisher',
      p,
    ],
  });

  // Firestore: TTL on expireAt everywhere, and the index exemptions.
  if (o.firestoreDatabase === 'create')
    steps.push({
      argv: ['gcloud', 'firestore', 'databases', 'create', db, `--location=${o.firestoreLocation}`, '--type=firestore-native', p],
      tolerateExisting: true,
    });
  const fieldIndexes = (c: string, field: string, index: string): Step => ({
    argv: ['gcloud', 'firestore', 'indexes', 'fields', 'update', field, `--collection-group=${c}`, db, index, '--async', p],
  });
  for (const c of r.ttl_collections) {
    steps.push({
      argv: ['gcloud', 'firestore', 'fields', 'ttls', 'update', 'expireAt', `--collection-group=${c}`, db, '--enable-ttl', '--async', p],
    });
    steps.push(fieldIndexes(c, 'expireAt', '--disable-indexes'));
  }
  for (const [path, mode] of Object.entries(r.index_exemptions)) {
    const [c, field] = path.split('/') as [string, string];
    steps.push(fieldIndexes(c, field, mode === 'none' ? '--disable-indexes' : '--index=order=ASCENDING'));
  }

  // BigQuery: dataset, one table per schema file with its key and staleness, one `_latest` alias view per table.
  const bq = ['bq', `--project_id=${o.project}`];
  steps.push({ argv: [...bq, 'mk', '--dataset', `--location=${o.bigqueryLocation}`, `${o.project}:${ds}`], tolerateExisting: true });
  for (const table of loadSchemas().keys()) {
    const layout = r.tables[table] ?? { time: null, cluster: [] };
    steps.push({
      argv: [
        ...bq,
        'mk',
        '--table',
        ...(layout.time ? ['--time_partitioning_type=DAY', `--time_partitioning_field=${layout.time}`] : []),
        ...(layout.cluster.length ? [`--clustering_fields=${layout.cluster.join(',')}`] : []),
        `${o.project}:${ds}.${table}`,
        join(schemasDir(), `${table}.json`),
      ],
      tolerateExisting: true,
    });
  }
  // CDC: the primary key and max_staleness of every table (the flush writes Storage Write API upserts).
  for (const table of loadSchemas().keys()) {
    steps.push({ argv: [...bq, 'query', '--use_legacy_sql=false', '--nouse_cache', cdcTableScript(r, o.project, ds, table)] });
  }
  for (const table of loadSchemas().keys()) {
    const query = latestViewQuery(r, table, `${o.project}.${ds}.${table}`);
    steps.push({
      argv: [...bq, 'mk', '--use_legacy_sql=false', `--view=${query}`, `${o.project}:${ds}.${table}_latest`],
      onExisting: [...bq, 'update', '--use_legacy_sql=false', `--view=${query}`, `${o.project}:${ds}.${table}_latest`],
    });
  }

  // Buckets: captures expire; evidence is retained (no versioning: Cloud Storage refuses both); source zips.
  const captures = n.bucket('captures');
  const evidence = n.bucket('evidence');
  const bucket = (name: string, extra: string[], lifecycle?: object, updateExtra = extra) => {
    const lc = lifecycle ? file(`lifecycle-${name}.json`, JSON.stringify(lifecycle, null, 2)) : {};
    steps.push({
      argv: [
        'gcloud',
        'storage',
        'buckets',
        'create',
        `gs://${name}`,
        `--location=${o.region}`,
        '--uniform-bucket-level-access',
        '--public-access-prevention',
        ...extra,
        ...Object.keys(lc).map((f) => `--lifecycle-file=${f}`),
        p,
      ],
      onExisting: [
        'gcloud',
        'storage',
        'buckets',
        'update',
        `gs://${name}`,
        ...updateExtra,
        ...Object.keys(lc).map((f) => `--lifecycle-file=${f}`),
        p,
      ],
      files: lc,
    });
  };
  // Captures of vehicles not fined: deleted after the non-offender retention, in whole days rounded up (72 h: 3), with
  // no soft delete (a fine copies its photo into the evidence bucket first). Terraform: storage.tf.
  const capturesDays = Math.ceil(config.nonOffenderRetentionMs / 86_400_000);
  const capturesLifecycle = { rule: [{ action: { type: 'Delete' }, condition: { age: capturesDays } }] };
  bucket(captures, ['--soft-delete-duration=0'], capturesLifecycle, ['--clear-soft-delete']);
  bucket(evidence, ['--retention-period=400d'], {
    rule: [{ action: { type: 'SetStorageClass', storageClass: 'ARCHIVE' }, condition: { age: 430 } }],
  });
  bucket(n.bucket('source'), []);

  // The functions' image repository, with its cleanup policy.
  steps.push({
    argv: [
      'gcloud',
      'artifacts',
      'repositories',
      'create',
      n.repository,
      '--repository-format=docker',
      `--location=${o.region}`,
      '--description=speedcam function images (built by Cloud Build)',
      p,
    ],
    tolerateExisting: true,
  });
  const cleanup = [
    { name: 'delete-old', action: { type: 'Delete' }, condition: { olderThan: '2592000s' } },
    { name: 'keep-recent', action: { type: 'Keep' }, mostRecentVersions: { keepCount: 3 } },
  ];
  const cleanupFile = file('artifact-cleanup.json', JSON.stringify(cleanup, null, 2));
  steps.push({
    argv: [
      'gcloud',
      'artifacts',
      'repositories',
      'set-cleanup-policies',
      n.repository,
      `--location=${o.region}`,
      `--policy=${Object.keys(cleanupFile)[0]}`,
      '--no-dry-run',
      p,
    ],
    files: cleanupFile,
  });

  // Service accounts: the build account with exactly the build roles; one per function with its grants.
  const buildMember = `--member=serviceAccount:${n.buildAccount}`;
  steps.push({
    argv: ['gcloud', 'iam', 'service-accounts', 'create', n.buildAccountId, '--display-name=speedcam function builds', p],
    tolerateExisting: true,
  });
  steps.push({
    argv: ['gcloud', 'projects', 'add-iam-policy-binding', o.project, buildMember, '--role=roles/logging.logWriter', '--condition=None'],
  });
  steps.push({
    argv: [
      'gcloud',
      'artifacts',
      'repositories',
      'add-iam-policy-binding',
      n.repository,
      `--location=${o.region}`,
      buildMember,
      '--role=roles/artifactregistry.writer',
      p,
    ],
  });
  steps.push({
    argv: [
      'gcloud',
      'storage',
      'buckets',
      'add-iam-policy-binding',
      `gs://${n.bucket('source')}`,
      buildMember,
      '--role=roles/storage.objectViewer',
      p,
    ],
  });
  for (const spec of functions) {
    const member = `--member=serviceAccount:${n.account(spec)}`;
    steps.push({
      argv: ['gcloud', 'iam', 'service-accounts', 'create', n.accountId(spec), `--display-name=speedcam ${spec.name} function`, p],
      tolerateExisting: true,
    });
    for (const g of spec.grants) steps.push(grantStep(o, g, member, config));
    // The Pub/Sub service agent mints the push tokens of this account.
    if (spec.kind === 'push')
      steps.push({
        argv: [
          'gcloud',
          'iam',
          'service-accounts',
          'add-iam-policy-binding',
          n.account(spec),
          pubsubAgent,
          '--role=roles/iam.serviceAccountTokenCreator',
          p,
        ],
      });
  }
  steps.push({ argv: [], waitS: o.iamWaitS ?? 90 });

  // The functions, built by the build account from the source zip, as HTTP functions.
  const source = `gs://${n.bucket('source')}/speedcam-${o.sourceSha256}.zip`;
  steps.push({ argv: ['gcloud', 'storage', 'cp', o.sourceZip, source, p] });
  const env = dictFlag(functionEnv(o, config));
  for (const spec of functions) {
    const name = n.function(spec);
    const region = `--region=${o.region}`;
    steps.push({
      argv: [
        'gcloud',
        'functions',
        'deploy',
        name,
        '--gen2',
        '--runtime=nodejs22',
        region,
        `--source=${source}`,
        `--entry-point=${spec.entryPoint}`,
        '--trigger-http',
        '--no-allow-unauthenticated',
        `--service-account=${n.account(spec)}`,
        `--build-service-account=projects/${o.project}/serviceAccounts/${n.buildAccount}`,
        `--docker-repository=${n.repositoryPath}`,
        `--memory=${spec.memory}`,
        `--cpu=${spec.cpu}`,
        `--concurrency=${spec.concurrency}`,
        `--max-instances=${spec.maxInstances}`,
        // Push functions take internal traffic only; the review function is called by people's browsers (and
        // still only by the reviewers: --no-allow-unauthenticated and the invoker bindings below).
        `--ingress-settings=${spec.kind === 'push' ? 'internal-only' : 'all'}`,
        `--timeout=${spec.timeoutS}s`,
        `--set-env-vars=${env}`,
        p,
      ],
    });
    steps.push({
      argv: ['gcloud', 'functions', 'describe', name, '--gen2', region, p, '--format=value(serviceConfig.uri)'],
      capture: urlVar(spec),
    });
    const invokers = spec.kind === 'push' ? [`serviceAccount:${n.account(spec)}`] : reviewers;
    for (const member of invokers) {
      steps.push({
        argv: ['gcloud', 'run', 'services', 'add-iam-policy-binding', name, region, `--member=${member}`, '--role=roles/run.invoker', p],
      });
    }
  }
  steps.push({ argv: [], waitS: o.iamWaitS ?? 90 });

  // One push subscription per function, with its retry and dead-letter policies.
  const policy = r.subscriptions;
  for (const spec of functions.filter((f): f is PushFunctionSpec => f.kind === 'push')) {
    const topic = n.topic(spec.triggerTopic(config));
    const settings = [
      `--push-endpoint=\${${urlVar(spec)}}/${topic}`,
      `--push-auth-service-account=${n.account(spec)}`,
      `--push-auth-token-audience=\${${urlVar(spec)}}`,
      `--ack-deadline=${spec.timeoutS}`,
      `--message-retention-duration=${spec.subscription.retentionS}s`,
      '--expiration-period=never',
      `--min-retry-delay=${policy.min_backoff_s}s`,
      `--max-retry-delay=${policy.max_backoff_s}s`,
      ...(spec.subscription.deadLetter
        ? [`--dead-letter-topic=${n.topic(config.topics.deadLetters)}`, `--max-delivery-attempts=${policy.max_delivery_attempts}`]
        : []),
      p,
    ];
    steps.push({
      argv: ['gcloud', 'pubsub', 'subscriptions', 'create', n.subscription(spec), `--topic=${topic}`, ...settings],
      onExisting: ['gcloud', 'pubsub', 'subscriptions', 'update', n.subscription(spec), ...settings],
    });
    if (spec.subscription.deadLetter)
      steps.push({
        argv: [
          'gcloud',
          'pubsub',
          'subscriptions',
          'add-iam-policy-binding',
          n.subscription(spec),
          pubsubAgent,
          '--role=roles/pubsub.subscriber',
          p,
        ],
      });
  }

  // The flush every minute, published by Cloud Scheduler's own service agent to the full topic path.
  const schedulerJob = (verb: 'create' | 'update') => [
    'gcloud',
    'scheduler',
    'jobs',
    verb,
    'pubsub',
    n.scheduler,
    `--location=${o.region}`,
    '--schedule=* * * * *',
    '--time-zone=Etc/UTC',
    `--topic=${n.topic(config.topics.flushTicks)}`,
    `--message-body=${JSON.stringify(FLUSH_TICK)}`,
    p,
  ];
  steps.push({ argv: schedulerJob('create'), onExisting: schedulerJob('update') });

  // Operations: request-log exclusion, log-based metrics, dashboard, alerts.
  const ex = r.request_log_exclusion;
  steps.push({
    argv: [
      'gcloud',
      'logging',
      'sinks',
      'update',
      '_Default',
      `--add-exclusion=${dictFlag({ name: ex.name.replaceAll('{prefix}', o.prefix), description: ex.description, filter: ex.filter.replaceAll('{prefix}', o.prefix) })}`,
      p,
    ],
    tolerateExisting: true,
  });
  for (const key of Object.keys(r.log_metrics)) {
    const f = file(`metric-${key}.json`, JSON.stringify(logMetric(r, key, o.prefix), null, 2));
    const path = Object.keys(f)[0]!;
    steps.push({
      argv: ['gcloud', 'logging', 'metrics', 'create', n.metric(key), `--config-from-file=${path}`, p],
      onExisting: ['gcloud', 'logging', 'metrics', 'update', n.metric(key), `--config-from-file=${path}`, p],
      files: f,
    });
  }
  const dash = file('dashboard.json', dashboardJson(o.prefix));
  const dashName = (JSON.parse(dashboardJson(o.prefix)) as { displayName: string }).displayName;
  steps.push({
    argv: ['gcloud', 'monitoring', 'dashboards', 'create', `--config-from-file=${Object.keys(dash)[0]}`, p],
    unless: ['gcloud', 'monitoring', 'dashboards', 'list', `--filter=displayName="${dashName}"`, '--format=value(name)', p],
    files: dash,
  });
  for (const key of Object.keys(r.alerts)) {
    const policyJson = alertPolicy(r, key, o.prefix, o.alertChannels, o.reviewAlertH ?? config.review.alertAfterH);
    const f = file(`alert-${key}.json`, JSON.stringify(policyJson, null, 2));
    steps.push({
      argv: ['gcloud', 'alpha', 'monitoring', 'policies', 'create', `--policy-from-file=${Object.keys(f)[0]}`, p],
      unless: [
        'gcloud',
        'alpha',
        'monitoring',
        'policies',
        'list',
        `--filter=displayName="${policyJson.displayName}"`,
        '--format=value(name)',
        p,
      ],
      files: f,
    });
  }
  return steps;
}

/** A gcloud dictionary flag value, with a delimiter (gcloud's ^DELIM^ prefix) that no value contains. */
function dictFlag(entries: Record<string, string>): string {
  const values = Object.values(entries).join('');
  const delim = ['~', '|', '#', '!'].find((d) => !values.includes(d));
  if (!delim) throw new Error('no delimiter free for a gcloud dictionary flag');
  return `^${delim}^${Object.entries(entries)
    .map(([k, v]) => `${k}=${v}`)
    .join(delim)}`;
}

const urlVar = (spec: FunctionSpec) => `URL_${spec.name.replace(/-/g, '_').toUpperCase()}`;

function grantStep(o: DeployOptions, g: Grant, member: string, config: Config): Step {
  const p = `--project=${o.project}`;
  const n = names(o.project, o.prefix, o.region);
  switch (g.on) {
    case 'project':
      return { argv: ['gcloud', 'projects', 'add-iam-policy-binding', o.project, member, `--role=${g.role}`, '--condition=None'] };
    case 'topic':
      return {
        argv: ['gcloud', 'pubsub', 'topics', 'add-iam-policy-binding', n.topic(config.topics[g.topic]), member, `--role=${g.role}`, p],
      };
    case 'bucket':
      return {
        argv: ['gcloud', 'storage', 'buckets', 'add-iam-policy-binding', `gs://${n.bucket(g.bucket)}`, member, `--role=${g.role}`, p],
      };
    case 'dataset':
      return {
        argv: ['bq', `--project_id=${o.project}`, 'add-iam-policy-binding', member, `--role=${g.role}`, `${o.project}:${dataset(config)}`],
      };
  }
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
/** Captured values as shell variables: what --dry-run prints runs as a bash script. */
const shellArg = (a: string) => (a.includes('${') ? `"${a.replace(/["\\`]/g, (c) => `\\${c}`)}"` : quote(a));

/** The step as a bash line (what --dry-run shows is what would run). */
export function render(step: Step): string {
  if (step.waitS !== undefined) return `sleep ${step.waitS}  # IAM propagation`;
  const files = Object.entries(step.files ?? {})
    .map(([path, content]) => `cat > ${quote(path)} <<'JSON'\n${content}\nJSON\n`)
    .join('');
  const cmd = step.argv.map(shellArg).join(' ');
  const line = step.capture ? `${step.capture}=$(${cmd})` : cmd;
  const guarded = step.unless ? `[ -n "$(${step.unless.map(shellArg).join(' ')})" ] || ${line}` : line;
  const alt = step.onExisting
    ? `${guarded} || ${step.onExisting.map(shellArg).join(' ')}`
    : step.tolerateExisting
      ? `${guarded} || true  # already exists`
      : guarded;
  return files + alt;
}

/** Fills `${NAME}` with captured values. */
export function substitute(argv: readonly string[], vars: Record<string, string>): string[] {
  return argv.map((a) =>
    a.replace(/\$\{([A-Z0-9_]+)\}/g, (_, k: string) => {
      if (!(k in vars)) throw new Error(`no value captured for \${${k}}`);
      return vars[k]!;
    }),
  );
}

const EXISTS = /already exists|ALREADY_EXISTS|409/;

/** Runs the steps; "already exists" is fine where the step says so. */
export function runSteps(
  steps: Step[],
  log: (s: string) => void,
  sleep: (s: number) => void = (s) => spawnSync('sleep', [String(s)]),
): void {
  const vars: Record<string, string> = {};
  const run = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [i, step] of steps.entries()) {
    log(`[${i + 1}/${steps.length}] ${render(step).split('\n').pop()}`);
    if (step.waitS !== undefined) {
      sleep(step.waitS);
      continue;
    }
    for (const [path, content] of Object.entries(step.files ?? {})) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
    if (step.unless && (run(substitute(step.unless, vars)).stdout ?? '').trim() !== '') continue;
    let r = run(substitute(step.argv, vars));
    if (r.status !== 0 && EXISTS.test(r.stderr ?? '')) {
      if (step.tolerateExisting) continue;
      if (step.onExisting) r = run(substitute(step.onExisting, vars));
    }
    if (r.status !== 0)
      throw new Error(`step ${i + 1} failed (${render(step).slice(0, 120)}…): ${(r.stderr ?? '').trim().split('\n').pop()}`);
    if (step.capture) vars[step.capture] = (r.stdout ?? '').trim();
    else if (r.stdout) process.stdout.write(r.stdout);
  }
}

/**
 * Stages what the functions run: the compiled dist/, schemas/, the lockfile, a package.json whose
 * scripts do not rebuild (Cloud Build installs dependencies and uses the prebuilt code) and .npmrc, so
 * Cloud Build's `npm ci` installs as a local one does (onnxruntime-node-install=skip: onnxruntime-node's
 * install script would otherwise try to download CUDA files the CPU-only functions never use).
 */
export function packageSource(root: string, out: string): void {
  if (!existsSync(join(root, 'dist/functions/index.js'))) throw new Error('dist/ is not built: run npm run build first');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(join(root, 'dist'), join(out, 'dist'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('dist', 'bench')}`) && !src.includes(join('dist', 'test')),
  });
  cpSync(join(root, 'schemas'), join(out, 'schemas'), { recursive: true });
  cpSync(join(root, 'package-lock.json'), join(out, 'package-lock.json'));
  cpSync(join(root, '.npmrc'), join(out, '.npmrc'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg['scripts'] = { 'gcp-build': 'echo using the prebuilt dist/' };
  writeFileSync(join(out, 'package.json'), JSON.stringify(pkg, null, 2));
}

/** Zips the staged source with fixed timestamps (the same tree gives the same bytes); returns its SHA-256. */
export async function zipSource(dir: string, out: string): Promise<string> {
  const { ZipFile } = await import('yazl');
  const zip = new ZipFile();
  const walk = (d: string): string[] =>
    readdirSync(d)
      .sort()
      .flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));
  for (const f of walk(dir)) zip.addFile(f, relative(dir, f).split('\\').join('/'), { mtime: new Date('2020-01-01T00:00:00Z') });
  zip.end();
  await new Promise<void>((ok, fail) => zip.outputStream.pipe(createWriteStream(out)).on('close', ok).on('error', fail));
  return createHash('sha256').update(readFileSync(out)).digest('hex');
}

export function defaultSource(): string {
  return resolve('.deploy/source');
}
