import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import type { Step } from '../../cli/deploy.js';
import { evaluate, type Scope } from './terraform-eval.js';

/**
 * The system a deployment creates, as comparable plain data: what `terraform apply` would create (computed
 * from terraform/ by evaluating its expressions) and what `speedcam deploy` creates (read from its commands).
 */
export interface SystemModel {
  apis: string[];
  topics: string[];
  subscriptions: Record<string, Record<string, unknown>>;
  /** "member role resource" */
  grants: string[];
  /** "collection/field" → {ttl, indexes} */
  firestoreFields: Record<string, { ttl: boolean; indexes: 'none' | 'ascending' | 'default' }>;
  firestoreDatabase: boolean;
  dataset: Record<string, unknown>;
  buckets: Record<string, Record<string, unknown>>;
  repository: Record<string, unknown>;
  serviceAccounts: string[];
  functions: Record<string, Record<string, unknown>>;
  scheduler: Record<string, unknown>;
  tables: Record<string, Record<string, unknown>>;
  views: Record<string, string>;
  logExclusion: Record<string, unknown>;
  logMetrics: Record<string, unknown>;
  alerts: Record<string, unknown>;
  dashboard: unknown;
}

type Hcl = Record<string, any>;
const uri = (fn: string) => `<uri of ${fn}>`;

/** terraform/ parsed: resources and data by type and name, locals and variables merged over files. */
async function readTerraform(dir: string): Promise<Hcl> {
  const tf: Hcl = { resource: {}, data: {}, locals: {}, variable: {} };
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.tf'))
    .sort()) {
    const j = (await parse(f, readFileSync(join(dir, f), 'utf8'))) as Hcl;
    for (const l of j['locals'] ?? []) Object.assign(tf['locals'], l);
    for (const [n, [v]] of Object.entries(j['variable'] ?? {}) as [string, Hcl[]][]) tf['variable'][n] = v;
    for (const kind of ['resource', 'data'])
      for (const [type, byName] of Object.entries(j[kind] ?? {})) tf[kind][type] = { ...(tf[kind][type] ?? {}), ...(byName as Hcl) };
  }
  return tf;
}

/** Attributes the provider computes, as the evaluator needs them. */
function computed(type: string, a: Hcl, project: string): Hcl {
  switch (type) {
    case 'google_pubsub_topic':
      return { id: `projects/${project}/topics/${a['name']}` };
    case 'google_pubsub_subscription':
      return { id: `projects/${project}/subscriptions/${a['name']}` };
    case 'google_service_account': {
      const email = `${a['account_id']}@${project}.iam.gserviceaccount.com`;
      return {
        email,
        member: `serviceAccount:${email}`,
        id: `projects/${project}/serviceAccounts/${email}`,
        name: `projects/${project}/serviceAccounts/${email}`,
      };
    }
    case 'google_cloudfunctions2_function':
      return { service_config: [{ ...(a['service_config']?.[0] ?? {}), uri: uri(a['name']) }] };
    case 'google_artifact_registry_repository':
      return { id: `projects/${project}/locations/${a['location']}/repositories/${a['repository_id']}`, name: a['repository_id'] };
    case 'google_bigquery_dataset':
      return { id: `projects/${project}/datasets/${a['dataset_id']}` };
    case 'google_project':
      return { number: '<project number>' };
    case 'archive_file':
      return { output_sha256: '<sha256>' };
    default:
      return {};
  }
}

/** Evaluates a resource body (blocks as lists, dynamic blocks expanded) in a scope. */
function evalBody(body: Hcl, scope: Scope, files: (p: string) => string): Hcl {
  const out: Hcl = {};
  for (const [k, v] of Object.entries(body)) {
    if (['for_each', 'count', 'depends_on', 'lifecycle', 'provisioner'].includes(k)) continue;
    if (k === 'dynamic') {
      for (const [name, [def]] of Object.entries(v as Record<string, Hcl[]>)) {
        const items = evaluate(def!['for_each'], scope, files) as unknown[] | Record<string, unknown>;
        const entries = Array.isArray(items) ? items.map((x, i) => [i, x] as const) : Object.entries(items);
        out[name] = entries.map(([key, value]) => evalBody(def!['content'][0], { ...scope, [name]: { key, value } }, files));
      }
    } else if (Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
      out[k] = v.map((b: Hcl) => evalBody(b, scope, files));
    } else {
      out[k] = evaluate(v, scope, files);
    }
  }
  return out;
}

/** Every instance terraform would create: type → name → key → evaluated attributes. */
export async function terraformInstances(
  dir: string,
  vars: Record<string, unknown>,
): Promise<Record<string, Record<string, Record<string, Hcl>>>> {
  const tf = await readTerraform(dir);
  const project = String(vars['project_id']);
  const files = (p: string) => readFileSync(p, 'utf8');
  const varScope = Object.fromEntries(Object.entries(tf['variable']).map(([n, v]) => [n, n in vars ? vars[n] : (v as Hcl)['default']]));
  const scope: Scope = { var: varScope, path: { module: dir } };
  const cache = new Map<string, Record<string, Hcl>>();
  const instancesOf = (kind: 'resource' | 'data', type: string, name: string): Record<string, Hcl> => {
    const key = `${kind}.${type}.${name}`;
    if (cache.has(key)) return cache.get(key)!;
    const [body] = tf[kind][type][name] as Hcl[];
    const out: Record<string, Hcl> = {};
    const one = (extra: Scope) => {
      const a = evalBody(body!, { ...scope, ...extra }, files);
      return { ...a, ...computed(type, a, project) };
    };
    if (body!['for_each'] !== undefined) {
      const items = evaluate(body!['for_each'], scope, files) as unknown[] | Record<string, unknown>;
      const entries = Array.isArray(items) ? items.map((x) => [String(x), x] as const) : Object.entries(items);
      for (const [k, v] of entries) out[k] = one({ each: { key: k, value: v } });
    } else if (body!['count'] !== undefined) {
      const n = evaluate(body!['count'], scope, files) as number;
      for (let i = 0; i < n; i++) out[String(i)] = one({ count: { index: i } });
    } else out[''] = one({});
    cache.set(key, out);
    return out;
  };
  // Resources and data sources as scope entries: a single instance is its attributes, for_each a map.
  const refOf = (kind: 'resource' | 'data', type: string) =>
    new Proxy(
      {},
      {
        has: (_, name) => typeof name === 'string' && name in tf[kind][type],
        get: (_, name) => {
          const inst = instancesOf(kind, type, String(name));
          return '' in inst ? inst[''] : inst;
        },
      },
    );
  for (const type of Object.keys(tf['resource'])) scope[type] = refOf('resource', type);
  scope['data'] = Object.fromEntries(Object.keys(tf['data']).map((t) => [t, refOf('data', t)]));
  // Locals: evaluated on first use (they refer to each other and to resources).
  const locals: Scope = {};
  for (const [n, v] of Object.entries(tf['locals']))
    Object.defineProperty(locals, n, { enumerable: true, get: () => evaluate(v, scope, files) });
  scope['local'] = locals;

  const all: Record<string, Record<string, Record<string, Hcl>>> = {};
  for (const type of Object.keys(tf['resource'])) {
    all[type] = {};
    for (const name of Object.keys(tf['resource'][type])) all[type][name] = instancesOf('resource', type, name);
  }
  return all;
}

const list = (x: unknown): Hcl[] => (Array.isArray(x) ? (x as Hcl[]) : []);
const sorted = (xs: Iterable<string>) => [...xs].sort();

/** The system terraform/ creates, for these variable values. */
export async function systemFromTerraform(dir: string, vars: Record<string, unknown>): Promise<SystemModel> {
  const all = await terraformInstances(dir, vars);
  const project = String(vars['project_id']);
  const each = (type: string) => Object.values(all[type] ?? {}).flatMap((byKey) => Object.values(byKey));
  const topicName = (t: string) => t.replace(/^projects\/[^/]+\/topics\//, '');
  const grants: string[] = [];
  const g = (member: string, role: string, resource: string) => grants.push(`${member} ${role} ${resource}`);
  for (const a of each('google_project_iam_member')) g(a['member'], a['role'], `project:${a['project']}`);
  for (const a of each('google_pubsub_topic_iam_member')) g(a['member'], a['role'], `topic:${topicName(a['topic'])}`);
  for (const a of each('google_storage_bucket_iam_member')) g(a['member'], a['role'], `bucket:${a['bucket']}`);
  for (const a of each('google_bigquery_dataset_iam_member')) g(a['member'], a['role'], `dataset:${a['dataset_id']}`);
  for (const a of each('google_cloud_run_service_iam_member')) g(a['member'], a['role'], `run:${a['service']}`);
  for (const a of each('google_service_account_iam_member'))
    g(a['member'], a['role'], `account:${String(a['service_account_id']).split('/').pop()}`);
  for (const a of each('google_pubsub_subscription_iam_member')) g(a['member'], a['role'], `subscription:${a['subscription']}`);
  for (const a of each('google_artifact_registry_repository_iam_member')) g(a['member'], a['role'], `repository:${a['repository']}`);

  const firestoreFields: SystemModel['firestoreFields'] = {};
  for (const a of each('google_firestore_field')) {
    const key = `${a['collection']}/${a['field']}`;
    const idx = list(a['index_config'])[0];
    const indexes = idx
      ? list(idx['indexes']).length
        ? list(idx['indexes']).every((i) => i['order'] === 'ASCENDING')
          ? 'ascending'
          : 'default'
        : 'none'
      : 'default';
    firestoreFields[key] = { ttl: list(a['ttl_config']).length > 0, indexes };
  }

  const buckets: SystemModel['buckets'] = {};
  for (const a of each('google_storage_bucket')) {
    buckets[a['name']] = {
      location: a['location'],
      uniform: a['uniform_bucket_level_access'] === true,
      publicAccessPrevention: a['public_access_prevention'],
      retentionSeconds: list(a['retention_policy'])[0]?.['retention_period'] ?? null,
      // Cloud Storage's default soft delete keeps deleted objects 7 days
      softDeleteSeconds: list(a['soft_delete_policy'])[0]?.['retention_duration_seconds'] ?? 604_800,
      versioning: list(a['versioning'])[0]?.['enabled'] === true,
      lifecycle: list(a['lifecycle_rule']).map((r) => ({
        action: list(r['action'])[0]!['type'],
        storageClass: list(r['action'])[0]!['storage_class'] ?? null,
        age: list(r['condition'])[0]!['age'],
      })),
    };
  }
  const [repo] = each('google_artifact_registry_repository');
  const functions: SystemModel['functions'] = {};
  for (const a of each('google_cloudfunctions2_function')) {
    const b = list(a['build_config'])[0]!;
    const s = list(a['service_config'])[0]!;
    functions[a['name']] = {
      region: a['location'],
      runtime: b['runtime'],
      entryPoint: b['entry_point'],
      buildAccount: b['service_account'],
      repository: b['docker_repository'],
      source: `gs://${list(list(b['source'])[0]!['storage_source'])[0]!['bucket']}/speedcam-<sha256>.zip`,
      trigger: list(a['event_trigger']).length ? 'event' : 'http',
      account: s['service_account_email'],
      memory: s['available_memory'],
      cpu: String(s['available_cpu']),
      concurrency: s['max_instance_request_concurrency'],
      maxInstances: s['max_instance_count'],
      timeoutS: s['timeout_seconds'],
      ingress:
        ({ ALLOW_INTERNAL_ONLY: 'internal-only', ALLOW_ALL: 'all' } as Record<string, string>)[s['ingress_settings']] ??
        s['ingress_settings'],
      env: s['environment_variables'],
    };
  }
  const subscriptions: SystemModel['subscriptions'] = {};
  for (const a of each('google_pubsub_subscription')) {
    const push = list(a['push_config'])[0]!;
    const dl = list(a['dead_letter_policy'])[0];
    const retry = list(a['retry_policy'])[0]!;
    subscriptions[a['name']] = {
      topic: a['topic'],
      endpoint: push['push_endpoint'],
      pushAccount: list(push['oidc_token'])[0]!['service_account_email'],
      audience: list(push['oidc_token'])[0]!['audience'],
      ackDeadlineS: a['ack_deadline_seconds'],
      retention: a['message_retention_duration'],
      expires: list(a['expiration_policy'])[0]?.['ttl'] === '' ? 'never' : 'default',
      minBackoff: retry['minimum_backoff'],
      maxBackoff: retry['maximum_backoff'],
      deadLetterTopic: dl?.['dead_letter_topic'] ?? null,
      maxDeliveryAttempts: dl?.['max_delivery_attempts'] ?? null,
    };
  }
  const [job] = each('google_cloud_scheduler_job');
  const target = list(job!['pubsub_target'])[0]!;
  const tables: SystemModel['tables'] = {};
  const views: SystemModel['views'] = {};
  for (const a of each('google_bigquery_table')) {
    const view = list(a['view'])[0];
    if (view) views[a['table_id']] = view['query'];
    else {
      const pk = list(list(a['table_constraints'])[0]?.['primary_key'])[0]?.['columns'] ?? null;
      tables[a['table_id']] = {
        partition: list(a['time_partitioning'])[0]?.['field'] ?? null,
        cluster: a['clustering'] ?? [],
        primaryKey: pk,
        maxStaleness: a['max_staleness'] ?? null,
      };
    }
  }
  const [ex] = each('google_logging_project_exclusion');
  const logMetrics: Record<string, unknown> = {};
  for (const a of each('google_logging_metric')) {
    const md = list(a['metric_descriptor'])[0]!;
    const buckets = list(list(a['bucket_options'])[0]?.['exponential_buckets'])[0];
    logMetrics[a['name']] = {
      name: a['name'],
      description: a['description'],
      filter: a['filter'],
      ...(a['value_extractor'] ? { valueExtractor: a['value_extractor'] } : {}),
      ...(Object.keys(a['label_extractors'] ?? {}).length ? { labelExtractors: a['label_extractors'] } : {}),
      metricDescriptor: {
        metricKind: md['metric_kind'],
        valueType: md['value_type'],
        unit: md['unit'],
        ...(list(md['labels']).length ? { labels: list(md['labels']).map((l) => ({ key: l['key'], valueType: l['value_type'] })) } : {}),
      },
      ...(buckets
        ? {
            bucketOptions: {
              exponentialBuckets: {
                numFiniteBuckets: buckets['num_finite_buckets'],
                growthFactor: buckets['growth_factor'],
                scale: buckets['scale'],
              },
            },
          }
        : {}),
    };
  }
  const alerts: Record<string, unknown> = {};
  for (const a of each('google_monitoring_alert_policy')) {
    const c = list(a['conditions'])[0]!;
    const cond = (x: Hcl) => ({
      filter: x['filter'],
      ...(x['comparison'] !== undefined ? { comparison: x['comparison'], thresholdValue: x['threshold_value'] } : {}),
      duration: x['duration'],
      aggregations: list(x['aggregations']).map((g) => ({
        alignmentPeriod: g['alignment_period'],
        perSeriesAligner: g['per_series_aligner'],
        crossSeriesReducer: g['cross_series_reducer'],
        groupByFields: g['group_by_fields'],
      })),
    });
    const th = list(c['condition_threshold'])[0];
    const ab = list(c['condition_absent'])[0];
    alerts[a['display_name']] = {
      displayName: a['display_name'],
      combiner: a['combiner'],
      notificationChannels: a['notification_channels'],
      documentation: { content: list(a['documentation'])[0]!['content'], mimeType: list(a['documentation'])[0]!['mime_type'] },
      conditions: [
        { displayName: c['display_name'], ...(th ? { conditionThreshold: cond(th) } : {}), ...(ab ? { conditionAbsent: cond(ab) } : {}) },
      ],
    };
  }
  const [dash] = each('google_monitoring_dashboard');
  return {
    apis: sorted(each('google_project_service').map((a) => a['service'])),
    topics: sorted(each('google_pubsub_topic').map((a) => a['name'])),
    subscriptions,
    grants: sorted(grants),
    firestoreFields,
    firestoreDatabase: each('google_firestore_database').length > 0,
    dataset: { id: each('google_bigquery_dataset')[0]!['dataset_id'], location: each('google_bigquery_dataset')[0]!['location'] },
    buckets,
    repository: {
      id: repo!['repository_id'],
      location: repo!['location'],
      format: repo!['format'],
      cleanup: list(repo!['cleanup_policies']).map((p) => ({
        id: p['id'],
        action: p['action'],
        olderThan: list(p['condition'])[0]?.['older_than'] ?? null,
        keep: list(p['most_recent_versions'])[0]?.['keep_count'] ?? null,
      })),
    },
    serviceAccounts: sorted(each('google_service_account').map((a) => `${a['account_id']}@${project}.iam.gserviceaccount.com`)),
    functions,
    scheduler: {
      name: job!['name'],
      region: job!['region'],
      schedule: job!['schedule'],
      timeZone: job!['time_zone'],
      topic: target['topic_name'],
      body: Buffer.from(String(target['data']), 'base64').toString('utf8'),
    },
    tables,
    views,
    logExclusion: { name: ex!['name'], description: ex!['description'], filter: ex!['filter'] },
    logMetrics,
    alerts,
    dashboard: JSON.parse(String(dash!['dashboard_json'])),
  };
}

/** gcloud's dictionary flag: KEY=VALUE pairs split on ',' or on the ^DELIM^ the value starts with. */
function dictFlagValue(v: string): Record<string, string> {
  const m = /^\^(.)\^/.exec(v);
  const delim = m ? m[1]! : ',';
  return Object.fromEntries(
    v
      .slice(m ? 3 : 0)
      .split(delim)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** Flags of a command: --name=value (repeatable), bare --flag = true, and positionals. */
function flags(argv: readonly string[]): { pos: string[]; f: Record<string, string[]> } {
  const pos: string[] = [];
  const f: Record<string, string[]> = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    if (m) (f[m[1]!] ??= []).push(m[2] ?? 'true');
    else pos.push(a);
  }
  return { pos, f };
}

/** The system `speedcam deploy` creates, from its steps (captured values stand in as placeholders). */
export function systemFromDeploy(steps: readonly Step[], project: string): SystemModel {
  const vars: Record<string, string> = { PROJECT_NUMBER: '<project number>' };
  const m: SystemModel = {
    apis: [],
    topics: [],
    subscriptions: {},
    grants: [],
    firestoreFields: {},
    firestoreDatabase: false,
    dataset: {},
    buckets: {},
    repository: {},
    serviceAccounts: [],
    functions: {},
    scheduler: {},
    tables: {},
    views: {},
    logExclusion: {},
    logMetrics: {},
    alerts: {},
    dashboard: null,
  };
  const sub = (s: string) => s.replace(/\$\{([A-Z0-9_]+)\}/g, (_, k: string) => vars[k] ?? `<${k}>`);
  const one = (f: Record<string, string[]>, k: string) => (f[k] ? sub(f[k]![0]!) : undefined);
  const readFile = (step: Step, path: string) => step.files![path]!;
  const topicName = (t: string) => t.replace(/^projects\/[^/]+\/topics\//, '');
  for (const step of steps) {
    if (step.waitS !== undefined) continue;
    const argv = step.argv.map(sub);
    const { pos, f } = flags(argv);
    const cmd = pos.slice(0, 5).join(' ');
    const grant = (resource: string) => m.grants.push(`${one(f, 'member')} ${one(f, 'role')} ${resource}`);
    if (step.capture === 'PROJECT_NUMBER') continue;
    if (step.capture?.startsWith('URL_')) {
      vars[step.capture] = uri(pos[3]!);
      continue;
    }
    if (cmd.startsWith('gcloud services enable')) m.apis = sorted(pos.slice(3));
    else if (cmd.startsWith('gcloud pubsub topics create')) m.topics.push(topicName(pos[4]!));
    else if (cmd.startsWith('gcloud pubsub topics add-iam-policy-binding')) grant(`topic:${topicName(pos[4]!)}`);
    else if (cmd.startsWith('gcloud pubsub subscriptions create')) {
      const dl = one(f, 'dead-letter-topic');
      m.subscriptions[pos[4]!] = {
        topic: one(f, 'topic'),
        endpoint: one(f, 'push-endpoint'),
        pushAccount: one(f, 'push-auth-service-account'),
        audience: one(f, 'push-auth-token-audience'),
        ackDeadlineS: Number(one(f, 'ack-deadline')),
        retention: one(f, 'message-retention-duration'),
        expires: one(f, 'expiration-period') === 'never' ? 'never' : 'default',
        minBackoff: one(f, 'min-retry-delay'),
        maxBackoff: one(f, 'max-retry-delay'),
        deadLetterTopic: dl ?? null,
        maxDeliveryAttempts: dl ? Number(one(f, 'max-delivery-attempts')) : null,
      };
    } else if (cmd.startsWith('gcloud pubsub subscriptions add-iam-policy-binding')) grant(`subscription:${pos[4]}`);
    else if (cmd.startsWith('gcloud firestore databases create')) m.firestoreDatabase = true;
    else if (cmd.startsWith('gcloud firestore fields ttls update')) {
      const key = `${one(f, 'collection-group')}/${pos[5]}`;
      m.firestoreFields[key] = { ...(m.firestoreFields[key] ?? { indexes: 'default' }), ttl: f['enable-ttl'] !== undefined };
    } else if (cmd.startsWith('gcloud firestore indexes fields update')) {
      const key = `${one(f, 'collection-group')}/${pos[5]}`;
      const indexes = f['disable-indexes'] ? 'none' : (f['index'] ?? []).every((i) => i === 'order=ASCENDING') ? 'ascending' : 'default';
      m.firestoreFields[key] = { ttl: m.firestoreFields[key]?.ttl ?? false, indexes };
    } else if (pos[0] === 'bq' && pos[1] === 'mk' && f['table']) {
      const t = pos[2]!.split('.').pop()!;
      m.tables[t] = {
        primaryKey: null,
        maxStaleness: null,
        ...m.tables[t],
        partition: one(f, 'time_partitioning_field') ?? null,
        cluster: one(f, 'clustering_fields')?.split(',') ?? [],
      };
    } else if (pos[0] === 'bq' && pos[1] === 'query') {
      // The CDC script of a table (cli/deploy.ts cdcTableScript): its primary key and max_staleness.
      const sql = pos[2] ?? '';
      const t = /ALTER TABLE `[^`]*\.([a-z_]+)`/.exec(sql)?.[1];
      if (t) {
        const pk =
          /ADD PRIMARY KEY \(([^)]*)\) NOT ENFORCED/
            .exec(sql)?.[1]
            ?.split(',')
            .map((c) => c.trim()) ?? null;
        const staleness = /max_staleness = INTERVAL '([^']*)' YEAR TO SECOND/.exec(sql)?.[1] ?? null;
        m.tables[t] = { partition: null, cluster: [], ...m.tables[t], primaryKey: pk, maxStaleness: staleness };
      }
    } else if (pos[0] === 'bq' && pos[1] === 'mk' && f['dataset'])
      m.dataset = { id: pos[2]!.split(':').pop(), location: one(f, 'location') };
    else if (pos[0] === 'bq' && pos[1] === 'mk' && f['view']) m.views[pos[2]!.split('.').pop()!] = one(f, 'view')!;
    else if (pos[0] === 'bq' && pos[1] === 'add-iam-policy-binding') grant(`dataset:${pos[2]!.split(':').pop()}`);
    else if (cmd.startsWith('gcloud storage buckets create')) {
      const lc = one(f, 'lifecycle-file');
      const rules = lc ? (JSON.parse(readFile(step, lc)) as { rule: Hcl[] }).rule : [];
      const ret = one(f, 'retention-period');
      m.buckets[pos[4]!.replace('gs://', '')] = {
        location: one(f, 'location'),
        uniform: f['uniform-bucket-level-access'] !== undefined,
        publicAccessPrevention: f['public-access-prevention'] ? 'enforced' : 'inherited',
        retentionSeconds: ret ? Number(ret.replace(/d$/, '')) * 86_400 : null,
        versioning: f['versioning'] !== undefined,
        softDeleteSeconds: one(f, 'soft-delete-duration') === '0' ? 0 : one(f, 'soft-delete-duration') === undefined ? 604_800 : null,
        lifecycle: rules.map((r) => ({
          action: r['action']['type'],
          storageClass: r['action']['storageClass'] ?? null,
          age: r['condition']['age'],
        })),
      };
    } else if (cmd.startsWith('gcloud storage buckets add-iam-policy-binding')) grant(`bucket:${pos[4]!.replace('gs://', '')}`);
    else if (cmd.startsWith('gcloud artifacts repositories create'))
      m.repository = { id: pos[4], location: one(f, 'location'), format: one(f, 'repository-format')!.toUpperCase(), cleanup: [] };
    else if (cmd.startsWith('gcloud artifacts repositories set-cleanup-policies')) {
      m.repository['cleanup'] = (JSON.parse(readFile(step, one(f, 'policy')!)) as Hcl[]).map((p) => ({
        id: p['name'],
        action: String(p['action']['type']).toUpperCase(),
        olderThan: p['condition']?.['olderThan'] ?? null,
        keep: p['mostRecentVersions']?.['keepCount'] ?? null,
      }));
    } else if (cmd.startsWith('gcloud artifacts repositories add-iam-policy-binding')) grant(`repository:${pos[4]}`);
    else if (cmd.startsWith('gcloud iam service-accounts create')) m.serviceAccounts.push(`${pos[4]}@${project}.iam.gserviceaccount.com`);
    else if (cmd.startsWith('gcloud iam service-accounts add-iam-policy-binding')) grant(`account:${pos[4]}`);
    else if (cmd.startsWith('gcloud projects add-iam-policy-binding')) grant(`project:${pos[3]}`);
    else if (cmd.startsWith('gcloud run services add-iam-policy-binding')) grant(`run:${pos[4]}`);
    else if (cmd.startsWith('gcloud functions deploy')) {
      const env = dictFlagValue(one(f, 'set-env-vars')!);
      m.functions[pos[3]!] = {
        region: one(f, 'region'),
        runtime: one(f, 'runtime'),
        entryPoint: one(f, 'entry-point'),
        buildAccount: one(f, 'build-service-account'),
        repository: one(f, 'docker-repository'),
        source: one(f, 'source')!.replace(/speedcam-[0-9a-f]+\.zip$/, 'speedcam-<sha256>.zip'),
        trigger: f['trigger-http'] ? 'http' : 'event',
        account: one(f, 'service-account'),
        memory: one(f, 'memory'),
        cpu: one(f, 'cpu'),
        concurrency: Number(one(f, 'concurrency')),
        maxInstances: Number(one(f, 'max-instances')),
        timeoutS: Number(one(f, 'timeout')!.replace(/s$/, '')),
        ingress: one(f, 'ingress-settings'),
        env,
      };
    } else if (cmd.startsWith('gcloud scheduler jobs create pubsub')) {
      m.scheduler = {
        name: pos[5],
        region: one(f, 'location'),
        schedule: one(f, 'schedule'),
        timeZone: one(f, 'time-zone'),
        topic: one(f, 'topic'),
        body: one(f, 'message-body'),
      };
    } else if (cmd.startsWith('gcloud logging sinks update _Default')) {
      const parts = dictFlagValue(one(f, 'add-exclusion')!);
      m.logExclusion = { name: parts['name'], description: parts['description'], filter: parts['filter'] };
    } else if (cmd.startsWith('gcloud logging metrics create'))
      m.logMetrics[pos[4]!] = JSON.parse(readFile(step, one(f, 'config-from-file')!));
    else if (cmd.startsWith('gcloud monitoring dashboards create')) m.dashboard = JSON.parse(readFile(step, one(f, 'config-from-file')!));
    else if (cmd.startsWith('gcloud alpha monitoring policies create')) {
      const p = JSON.parse(readFile(step, one(f, 'policy-from-file')!)) as { displayName: string };
      m.alerts[p.displayName] = p;
    } else if (cmd.startsWith('gcloud storage cp') || cmd.startsWith('gcloud functions describe')) {
      /* the source upload; the URL capture */
    } else throw new Error(`systemFromDeploy: a step it does not know: ${argv.join(' ').slice(0, 160)}`);
  }
  m.topics.sort();
  m.grants.sort();
  m.serviceAccounts.sort();
  return m;
}
