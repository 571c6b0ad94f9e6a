import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FUNCTIONS, type FunctionSpec, type Grant } from '../functions/catalog.js';
import { loadConfig, type Config } from '../shared/config.js';
import { loadSchemas, repoPath, schemasDir } from '../shared/schemas.js';

/** APIs, TTL collections and table layouts, shared with Terraform (terraform/resources.json). */
interface Resources {
  apis: string[];
  ttl_collections: string[];
  tables: Record<string, { time: string | null; cluster: string[] }>;
}
export function deployResources(): Resources {
  return JSON.parse(readFileSync(repoPath('terraform/resources.json'), 'utf8')) as Resources;
}

export interface DeployOptions {
  project: string;
  region: string;
  prefix: string;
  firestoreLocation: string;
  bigqueryLocation: string;
  source: string;
  /** SPEEDCAM_PIPELINES for every function (event time, time zone, window, lateness, late policy) */
  pipelines?: string;
}

/** A command, and whether "already exists" from it is fine (re-running the deploy is safe). */
export interface Step {
  argv: string[];
  tolerateExisting?: boolean;
  /** a shell line (uses command substitution) rather than one program */
  shell?: boolean;
}

export function functionName(prefix: string, spec: FunctionSpec): string {
  return `${prefix}-${spec.dir}`;
}

function serviceAccount(o: DeployOptions, spec: FunctionSpec): string {
  return `${`${o.prefix}-${spec.dir}`.slice(0, 30)}@${o.project}.iam.gserviceaccount.com`;
}

/** Every command that creates the system with gcloud, bq and nothing else, in order. */
export function deploySteps(o: DeployOptions, config: Config = loadConfig({})): Step[] {
  const { apis, ttl_collections, tables } = deployResources();
  const captures = `${o.project}-${o.prefix}-captures`;
  const evidence = `${o.project}-${o.prefix}-evidence`;
  const p = `--project=${o.project}`;
  const steps: Step[] = [];
  steps.push({ argv: ['gcloud', 'services', 'enable', ...apis.map((a) => `${a}.googleapis.com`), p] });
  for (const topic of Object.values(config.topics)) steps.push({ argv: ['gcloud', 'pubsub', 'topics', 'create', topic, p], tolerateExisting: true });
  steps.push({ argv: ['gcloud', 'firestore', 'databases', 'create', `--location=${o.firestoreLocation}`, p], tolerateExisting: true });
  for (const c of ttl_collections) steps.push({ argv: ['gcloud', 'firestore', 'fields', 'ttls', 'update', 'expireAt', `--collection-group=${c}`, '--enable-ttl', '--async', p] });
  steps.push({ argv: ['bq', `--project_id=${o.project}`, 'mk', '--dataset', `--location=${o.bigqueryLocation}`, `${o.project}:${config.warehouse.kind === 'bigquery' ? config.warehouse.dataset : 'speedcam'}`], tolerateExisting: true });
  for (const table of loadSchemas().keys()) {
    const layout = tables[table] ?? { time: null, cluster: [] };
    steps.push({
      argv: [
        'bq', `--project_id=${o.project}`, 'mk', '--table',
        ...(layout.time ? ['--time_partitioning_type=DAY', `--time_partitioning_field=${layout.time}`] : []),
        ...(layout.cluster.length ? [`--clustering_fields=${layout.cluster.join(',')}`] : []),
        `${o.project}:speedcam.${table}`, join(schemasDir(), `${table}.json`),
      ],
      tolerateExisting: true,
    });
  }
  for (const table of loadSchemas().keys()) {
    // insertId dedupes for about a minute only: a view keeps one row per row_id (its latest revision, where rows have one).
    const order = loadSchemas().get(table)!.some((f) => f.name === 'row_revision') ? ' ORDER BY row_revision DESC' : '';
    const query = `SELECT * EXCEPT(_n) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY row_id${order}) AS _n FROM \`${o.project}.speedcam.${table}\`) WHERE _n = 1`;
    steps.push({ argv: ['bq', `--project_id=${o.project}`, 'mk', '--use_legacy_sql=false', `--view=${query}`, `${o.project}:speedcam.${table}_latest`], tolerateExisting: true });
  }
  steps.push({ argv: ['gcloud', 'storage', 'buckets', 'create', `gs://${captures}`, `--location=${o.region}`, '--uniform-bucket-level-access', '--public-access-prevention', p], tolerateExisting: true });
  steps.push({ argv: ['gcloud', 'storage', 'buckets', 'create', `gs://${evidence}`, `--location=${o.region}`, '--uniform-bucket-level-access', '--public-access-prevention', '--retention-period=400d', p], tolerateExisting: true });

  const env = [
    `GOOGLE_CLOUD_PROJECT=${o.project}`, 'SPEEDCAM_WAREHOUSE=bigquery', 'SPEEDCAM_OBJECTS=gcs', 'SPEEDCAM_OCR=vision',
    `SPEEDCAM_CAPTURES_BUCKET=${captures}`, `SPEEDCAM_EVIDENCE_BUCKET=${evidence}`,
    ...(o.pipelines ? [`SPEEDCAM_PIPELINES=${pipelinesEnv(o.pipelines)}`] : []),
  ].join(';');
  for (const spec of FUNCTIONS) {
    const sa = serviceAccount(o, spec);
    const member = `--member=serviceAccount:${sa}`;
    steps.push({ argv: ['gcloud', 'iam', 'service-accounts', 'create', `${o.prefix}-${spec.dir}`.slice(0, 30), `--display-name=speedcam ${spec.dir} function`, p], tolerateExisting: true });
    for (const g of [...spec.grants, { role: 'roles/eventarc.eventReceiver', on: 'project' } as const]) steps.push(grantStep(o, g, member, captures, evidence, config));
    steps.push({
      argv: [
        'gcloud', 'functions', 'deploy', functionName(o.prefix, spec), '--gen2', '--runtime=nodejs22', `--region=${o.region}`, `--source=${o.source}`,
        `--entry-point=${spec.entryPoint}`, `--trigger-topic=${spec.triggerTopic(config)}`, '--retry',
        `--service-account=${sa}`, `--trigger-service-account=${sa}`, `--memory=${spec.memory}`, `--cpu=${spec.concurrency > 1 ? '1' : '0.583'}`,
        `--concurrency=${spec.concurrency}`, `--max-instances=${spec.maxInstances}`, '--ingress-settings=internal-only', '--timeout=120s',
        `--set-env-vars=^;^${env}`, p,
      ],
    });
    steps.push({ argv: ['gcloud', 'run', 'services', 'add-iam-policy-binding', functionName(o.prefix, spec), `--region=${o.region}`, member, '--role=roles/run.invoker', p] });
    if (spec.triggerTopic(config) !== config.topics.deadLetters) {
      // The trigger's subscription belongs to Eventarc: find it, then give it the dead-letter policy.
      const trig = `$(gcloud functions describe ${functionName(o.prefix, spec)} --gen2 --region=${o.region} ${p} --format='value(eventTrigger.trigger)')`;
      const sub = `$(gcloud eventarc triggers describe ${trig} --location=${o.region} ${p} --format='value(transport.pubsub.subscription)')`;
      steps.push({ shell: true, argv: [`gcloud pubsub subscriptions update ${sub} ${p} --dead-letter-topic=projects/${o.project}/topics/${config.topics.deadLetters} --max-delivery-attempts=10 --ack-deadline=120`] });
    }
  }
  // Pub/Sub forwards undeliverable messages to the dead-letters topic as its own service agent.
  steps.push({ shell: true, argv: [`gcloud pubsub topics add-iam-policy-binding ${config.topics.deadLetters} --member=serviceAccount:service-$(gcloud projects describe ${o.project} --format='value(projectNumber)')@gcp-sa-pubsub.iam.gserviceaccount.com --role=roles/pubsub.publisher ${p}`] });
  steps.push({ argv: ['gcloud', 'scheduler', 'jobs', 'create', 'pubsub', `${o.prefix}-flush`, `--location=${o.region}`, '--schedule=* * * * *', `--topic=${config.topics.flushTicks}`, '--message-body={"tick":"flush"}', p], tolerateExisting: true });
  return steps;
}

/** SPEEDCAM_PIPELINES checked as the functions will check it, compact (';' separates the env vars). */
export function pipelinesEnv(json: string): string {
  loadConfig({ SPEEDCAM_PIPELINES: json });
  const compact = JSON.stringify(JSON.parse(json));
  if (compact.includes(';')) throw new Error('SPEEDCAM_PIPELINES: ";" cannot be passed through gcloud --set-env-vars here');
  return compact;
}

function grantStep(o: DeployOptions, g: Grant | { role: 'roles/eventarc.eventReceiver'; on: 'project' }, member: string, captures: string, evidence: string, config: Config): Step {
  const p = `--project=${o.project}`;
  switch (g.on) {
    case 'project':
      return { argv: ['gcloud', 'projects', 'add-iam-policy-binding', o.project, member, `--role=${g.role}`, '--condition=None'] };
    case 'topic':
      return { argv: ['gcloud', 'pubsub', 'topics', 'add-iam-policy-binding', config.topics[g.topic], member, `--role=${g.role}`, p] };
    case 'bucket':
      return { argv: ['gcloud', 'storage', 'buckets', 'add-iam-policy-binding', `gs://${g.bucket === 'captures' ? captures : evidence}`, member, `--role=${g.role}`, p] };
    case 'dataset':
      return { argv: ['bq', `--project_id=${o.project}`, 'add-iam-policy-binding', member, `--role=${g.role}`, `${o.project}:speedcam`] };
  }
}

/** Shell-quotes a command for printing (what --dry-run shows is what would run). */
export function render(step: Step): string {
  if (step.shell) return step.argv[0]!;
  return step.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Stages what the functions run: the compiled dist/, schemas/, the lockfile and a package.json whose
 * scripts do not rebuild (Cloud Build installs dependencies and uses the prebuilt code).
 */
export function packageSource(root: string, out: string): void {
  if (!existsSync(join(root, 'dist/functions/index.js'))) throw new Error('dist/ is not built: run npm run build first');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(join(root, 'dist'), join(out, 'dist'), { recursive: true, filter: (src) => !src.includes(`${join('dist', 'bench')}`) });
  cpSync(join(root, 'schemas'), join(out, 'schemas'), { recursive: true });
  cpSync(join(root, 'package-lock.json'), join(out, 'package-lock.json'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg['scripts'] = { 'gcp-build': 'echo using the prebuilt dist/' };
  writeFileSync(join(out, 'package.json'), JSON.stringify(pkg, null, 2));
}

/** Runs the steps; "already exists" is fine where the step says so. */
export function runSteps(steps: Step[], log: (s: string) => void): void {
  for (const [i, step] of steps.entries()) {
    log(`[${i + 1}/${steps.length}] ${render(step)}`);
    const r = step.shell
      ? spawnSync('bash', ['-c', step.argv[0]!], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] })
      : spawnSync(step.argv[0]!, step.argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
    if (r.status !== 0) {
      if (step.tolerateExisting && /already exists|ALREADY_EXISTS|409/.test(r.stderr ?? '')) continue;
      throw new Error(`step ${i + 1} failed (${render(step).slice(0, 120)}…): ${(r.stderr ?? '').trim().split('\n').pop()}`);
    }
  }
}

export function defaultSource(): string {
  return resolve('.deploy/source');
}
