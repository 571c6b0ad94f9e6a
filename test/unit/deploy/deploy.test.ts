import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, PUSH_FUNCTIONS, terraformCatalog } from '../../../functions/catalog.js';
import { loadConfig } from '../../../shared/config.js';
import { loadSchemas } from '../../../shared/export/schemas.js';
import {
  carsApiEnv,
  deployResources,
  packageSource,
  pipelinesEnv,
  deploySteps,
  NAME_PREFIX,
  names,
  render,
  runSteps,
  zipSource,
  type DeployOptions,
  type Step,
} from '../../../cli/deploy.js';
import { declaredResources } from '../../../cli/terraform-catalog.js';
import { deployOptions } from '../../support/deploy-options.js';
import { WINDOW_PIPELINES } from '../../../shared/windows/pipelines/index.js';
import { systemFromDeploy, systemFromTerraform, type SystemModel } from '../../support/system-model.js';

const config = loadConfig({});
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const options = deployOptions;

/** terraform/ and schemas/ copied side by side (terraform reads ../schemas), with edits applied. */
function terraformCopy(edits: [file: string, from: string | RegExp, to: string][] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'speedcam-tf-'));
  temps.push(root);
  cpSync('terraform', join(root, 'terraform'), { recursive: true });
  cpSync('schemas', join(root, 'schemas'), { recursive: true });
  for (const [file, from, to] of edits) {
    const path = join(root, 'terraform', file);
    const text = readFileSync(path, 'utf8');
    const edited = text.replace(from, to);
    if (edited === text) throw new Error(`edit did not apply to ${file}`);
    writeFileSync(path, edited);
  }
  return join(root, 'terraform');
}

/** Rules any deployment must keep, whichever path made it. */
function lint(s: SystemModel): string[] {
  const problems: string[] = [];
  for (const [name, b] of Object.entries(s.buckets)) {
    // Cloud Storage refuses a retention policy on a bucket with object versioning.
    if (b['retentionSeconds'] !== null && b['versioning']) problems.push(`bucket ${name}: retention policy together with versioning`);
    if (!b['uniform'] || b['publicAccessPrevention'] !== 'enforced') problems.push(`bucket ${name}: not private`);
  }
  for (const g of s.grants) if (/allUsers|allAuthenticatedUsers/.test(g)) problems.push(`public grant: ${g}`);
  for (const [name, sub] of Object.entries(s.subscriptions)) {
    if (sub['expires'] !== 'never') problems.push(`subscription ${name}: expires when idle`);
    if (sub['minBackoff'] === undefined || sub['maxBackoff'] === undefined) problems.push(`subscription ${name}: no retry backoff`);
  }
  for (const a of s.serviceAccounts) if (!validAccountId(a.split('@')[0]!)) problems.push(`service account id ${a}: invalid`);
  for (const [name, f] of Object.entries(s.functions)) {
    if (name.length > 49) problems.push(`function ${name}: longer than a Cloud Run service name may be (49)`);
    // Push functions take internal traffic only; the review function is reached from browsers, invoked by reviewers only.
    const reviewed = name.endsWith('-review');
    if (f['trigger'] !== 'http' || f['ingress'] !== (reviewed ? 'all' : 'internal-only'))
      problems.push(`function ${name}: not an ${reviewed ? '' : 'internal '}HTTP function`);
    if (f['source'] && !String(f['buildAccount']).includes('/serviceAccounts/'))
      problems.push(`function ${name}: no build service account`);
  }
  for (const name of Object.keys(s.buckets))
    if (!/^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$/.test(name)) problems.push(`bucket name ${name}: invalid`);
  if (!String(s.scheduler['topic']).startsWith('projects/')) problems.push('scheduler: topic is not a full path');
  return problems;
}
/** JSON with object keys sorted: equal systems give equal text whatever order they were built in. */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
const validAccountId = (id: string) => id.length >= 6 && id.length <= 30 && /^[a-z]([-a-z0-9]*[a-z0-9])$/.test(id);

const tfVars = (o: DeployOptions, extra: Record<string, unknown> = {}) => ({
  project_id: o.project,
  region: o.region,
  name_prefix: o.prefix,
  firestore_database: o.firestoreDatabase,
  ...extra,
});

describe('terraform/', () => {
  it('is formatted (terraform fmt -check -recursive)', () => {
    expect(() => execFileSync('terraform', ['fmt', '-check', '-recursive', 'terraform'], { stdio: 'pipe' })).not.toThrow();
  });

  it('reads the functions from functions.json, which is the catalog (run `speedcam terraform-catalog` after editing functions/catalog.ts)', () => {
    expect(JSON.parse(readFileSync('terraform/functions.json', 'utf8'))).toEqual(terraformCatalog());
    expect(Object.keys(terraformCatalog().functions)).toEqual(FUNCTIONS.map((f) => f.name));
  });

  it('reads the declared Firestore TTLs, index exemptions and table layouts from resources.json (run `speedcam terraform-catalog` after changing a declaration)', () => {
    const resources = JSON.parse(readFileSync('terraform/resources.json', 'utf8')) as Record<string, unknown>;
    const declared = declaredResources();
    for (const [key, value] of Object.entries(declared)) expect(resources[key], key).toEqual(value);
    expect(Object.keys(declared.tables).sort()).toEqual([...loadSchemas().keys()].sort());
    expect(declared.ttl_collections).toEqual(expect.arrayContaining(WINDOW_PIPELINES.map((p) => `wb_${p.name}`)));
  });

  it('pins the google provider below 7 (the schema checked offline is 6.50)', () => {
    expect(readFileSync('terraform/versions.tf', 'utf8')).toMatch(
      /source\s*=\s*"hashicorp\/google"\s*\n(\s*#.*\n)*\s*version\s*=\s*">= 6\.0, < 7\.0"/,
    );
  });

  it('validates name_prefix with the rule the deploy script uses, and that rule keeps every derived id valid', async () => {
    const vars = (await parse('variables.tf', readFileSync('terraform/variables.tf', 'utf8'))) as Record<string, any>;
    const condition = vars['variable']['name_prefix'][0]['validation'][0]['condition'] as string;
    expect(condition).toContain(`regex("${NAME_PREFIX.source}", var.name_prefix)`);
    const longest = 'a'.repeat(16);
    expect(NAME_PREFIX.test(longest)).toBe(true);
    for (const bad of ['a'.repeat(17), 'speedcam-', '9cam', 'Speed', '']) expect(NAME_PREFIX.test(bad), bad).toBe(false);
    // Every id derived from the longest prefix (and the longest project id, 30) is valid.
    const n = names('p'.repeat(30), longest, 'us-east1');
    for (const spec of FUNCTIONS) {
      expect(validAccountId(n.accountId(spec)), n.accountId(spec)).toBe(true);
      expect(n.function(spec).length, n.function(spec)).toBeLessThanOrEqual(49);
    }
    expect(validAccountId(n.buildAccountId)).toBe(true);
    for (const b of ['captures', 'evidence', 'source'] as const) expect(n.bucket(b).length).toBeLessThanOrEqual(63);
    // One character more and a service account id would not fit: the bound is the real one.
    expect(FUNCTIONS.some((spec) => !validAccountId(`${'a'.repeat(17)}-${spec.account}`))).toBe(true);
    expect(() => deploySteps(options({ prefix: 'speedcam-' }))).toThrow(/--prefix/);
  });
});

describe('terraform apply and speedcam deploy create the same system', () => {
  const cases: [string, DeployOptions, Record<string, unknown>][] = [
    ['defaults', options(), {}],
    [
      'longest prefix, existing Firestore database, extra environment, an alert channel',
      options({
        prefix: 'a'.repeat(16),
        firestoreDatabase: 'existing',
        env: { SPEEDCAM_PIPELINES: '{"clicks":{}}' },
        alertChannels: ['projects/my-proj/notificationChannels/1'],
      }),
      { function_env: { SPEEDCAM_PIPELINES: '{"clicks":{}}' }, alert_notification_channels: ['projects/my-proj/notificationChannels/1'] },
    ],
    [
      'reviewers and a review alert after 8 h',
      options({ reviewers: ['user:ana@city.example', 'group:fine-reviewers@city.example'], reviewAlertH: 8 }),
      { reviewers: ['user:ana@city.example', 'group:fine-reviewers@city.example'], review_alert_h: 8 },
    ],
  ];
  for (const [name, o, extra] of cases) {
    it(name, async () => {
      const tf = await systemFromTerraform('terraform', tfVars(o, extra));
      const gcloud = systemFromDeploy(deploySteps(o, config), o.project);
      for (const key of Object.keys(tf) as (keyof SystemModel)[]) expect(gcloud[key], key).toEqual(tf[key]);
      expect(lint(tf)).toEqual([]);
    });
  }

  it('the system is the one declared: every function, its grants, subscription and policies', async () => {
    const s = await systemFromTerraform('terraform', tfVars(options()));
    const n = names('my-proj', 'speedcam', 'us-east1');
    const policy = deployResources().subscriptions;
    expect(Object.keys(s.functions).sort()).toEqual(FUNCTIONS.map((f) => n.function(f)).sort());
    expect(Object.keys(s.subscriptions).sort()).toEqual(PUSH_FUNCTIONS.map((f) => n.subscription(f)).sort());
    for (const spec of PUSH_FUNCTIONS) {
      const sub = s.subscriptions[n.subscription(spec)]!;
      expect(sub['topic']).toBe(`projects/my-proj/topics/${spec.triggerTopic(config)}`);
      expect(sub['endpoint']).toBe(`<uri of ${n.function(spec)}>/projects/my-proj/topics/${spec.triggerTopic(config)}`);
      expect(sub['pushAccount']).toBe(n.account(spec));
      expect([sub['minBackoff'], sub['maxBackoff']]).toEqual([`${policy.min_backoff_s}s`, `${policy.max_backoff_s}s`]);
      expect(sub['maxDeliveryAttempts']).toBe(spec.subscription.deadLetter ? policy.max_delivery_attempts : null);
      expect(s.grants).toContain(`serviceAccount:${n.account(spec)} roles/run.invoker run:${n.function(spec)}`);
      if (spec.subscription.deadLetter)
        expect(s.grants).toContain(
          `serviceAccount:service-<project number>@gcp-sa-pubsub.iam.gserviceaccount.com roles/pubsub.subscriber subscription:${n.subscription(spec)}`,
        );
    }
    // Least privilege: no object admin anywhere, no Eventarc; a job runner for the flush only (its hourly UPDATE).
    expect(s.grants.filter((g) => /objectAdmin|eventarc/.test(g))).toEqual([]);
    const flushAccount = n.account(FUNCTIONS.find((f) => f.name === 'flush')!);
    expect(s.grants.filter((g) => g.includes('bigquery.jobUser'))).toEqual([
      `serviceAccount:${flushAccount} roles/bigquery.jobUser project:my-proj`,
    ]);
    expect(
      s.grants
        .filter((g) => g.includes(n.account(FUNCTIONS.find((f) => f.name === 'fines')!)) && g.includes(n.bucket('evidence')))
        .map((g) => g.split(' ')[1])
        .sort(),
    ).toEqual(['roles/storage.objectCreator', 'roles/storage.objectViewer']);
    expect(
      s.grants
        .filter((g) => g.startsWith(`serviceAccount:${n.buildAccount} `))
        .map((g) => g.split(' ').slice(1).join(' '))
        .sort(),
    ).toEqual([
      'roles/artifactregistry.writer repository:speedcam-functions',
      'roles/logging.logWriter project:my-proj',
      'roles/storage.objectViewer bucket:my-proj-speedcam-source',
    ]);
    expect(s.serviceAccounts.some((a) => a.includes('scheduler'))).toBe(false);
    // The review function: no subscription, nobody may invoke it until reviewers are named, and its own
    // account holds exactly its grants (no BigQuery, no object admin, no dead letters).
    const review = FUNCTIONS.find((f) => f.name === 'review')!;
    expect(review.kind).toBe('http');
    expect(s.subscriptions[n.subscription(review)]).toBeUndefined();
    expect(s.grants.filter((g) => g.endsWith(` run:${n.function(review)}`))).toEqual([]);
    expect(
      s.grants
        .filter((g) => g.startsWith(`serviceAccount:${n.account(review)} `))
        .map((g) => g.split(' ').slice(1).join(' '))
        .sort(),
    ).toEqual([
      'roles/datastore.user project:my-proj',
      'roles/pubsub.publisher topic:fine-notifications',
      'roles/storage.objectCreator bucket:my-proj-speedcam-evidence',
      'roles/storage.objectViewer bucket:my-proj-speedcam-captures',
      'roles/storage.objectViewer bucket:my-proj-speedcam-evidence',
    ]);
    expect(s.functions[n.function(review)]!['ingress']).toBe('all');
    const withReviewers = await systemFromTerraform('terraform', tfVars(options(), { reviewers: ['user:ana@city.example'] }));
    expect(withReviewers.grants.filter((g) => g.endsWith(` run:${n.function(review)}`))).toEqual([
      `user:ana@city.example roles/run.invoker run:${n.function(review)}`,
    ]);
    expect(s.alerts['speedcam: a fine held for review has waited longer than SPEEDCAM_REVIEW_ALERT_H']).toMatchObject({
      conditions: [{ conditionThreshold: { thresholdValue: 86_400 } }],
    });
    expect(s.firestoreFields['passages/expiresAt']).toEqual({ ttl: false, indexes: 'ascending' });
    expect(s.firestoreFields['passages/expireAt']).toEqual({ ttl: true, indexes: 'none' });
    expect(Object.keys(s.tables).sort()).toEqual([...loadSchemas().keys()].sort());
    expect(s.views['vehicle_passages_latest']).toBe('SELECT * FROM `my-proj.speedcam.vehicle_passages`');
    expect(s.tables['vehicle_passages']).toMatchObject({ primaryKey: ['row_id'], maxStaleness: '0-0 0 0:15:0' });
    expect(s.logExclusion['filter']).toBe(
      'resource.type="cloud_run_revision" AND resource.labels.service_name=~"^speedcam-" AND log_id("run.googleapis.com/requests") AND httpRequest.status<400',
    );
    expect(Object.keys(s.alerts).length).toBeGreaterThanOrEqual(5);
  });

  it('non-offender retention on both paths: the captures lifecycle (3 days for 72 h, no soft delete), the variable, TTL on expireAt', async () => {
    for (const [hours, days] of [
      [72, 3],
      [30, 2],
    ] as const) {
      const o = options({ env: { SPEEDCAM_NON_OFFENDER_RETENTION_H: String(hours) } });
      const deployConfig = loadConfig({ SPEEDCAM_NON_OFFENDER_RETENTION_H: String(hours) });
      const tf = await systemFromTerraform('terraform', tfVars(o, hours === 72 ? {} : { non_offender_retention_h: hours }));
      const gcloud = systemFromDeploy(deploySteps(o, deployConfig), o.project);
      for (const s of [tf, gcloud]) {
        const captures = s.buckets['my-proj-speedcam-captures']!;
        expect(captures['lifecycle']).toEqual([{ action: 'Delete', storageClass: null, age: days }]);
        expect(captures['softDeleteSeconds']).toBe(0);
        expect(s.buckets['my-proj-speedcam-evidence']!['retentionSeconds']).toBe(400 * 86_400);
        for (const f of Object.values(s.functions))
          expect((f as { env: Record<string, string> }).env['SPEEDCAM_NON_OFFENDER_RETENTION_H']).toBe(String(hours));
        for (const c of ['passages', 'passage_archive', 'published'])
          expect(s.firestoreFields[`${c}/expireAt`], c).toEqual({ ttl: true, indexes: 'none' });
      }
      expect(gcloud.buckets).toEqual(tf.buckets);
      expect(gcloud.functions).toEqual(tf.functions);
    }
  });

  it('a difference on either side is found (broken copies)', async () => {
    const o = options();
    const gcloud = systemFromDeploy(deploySteps(o, config), o.project);
    const differs = async (dir: string) => {
      const tf = await systemFromTerraform(dir, tfVars(o));
      return (Object.keys(tf) as (keyof SystemModel)[]).filter((k) => canon(tf[k]) !== canon(gcloud[k]));
    };
    expect(await differs(terraformCopy([['pubsub.tf', / {2}dynamic "dead_letter_policy" \{[\s\S]*?\n {2}\}\n/, '']]))).toEqual([
      'subscriptions',
    ]);
    expect(await differs(terraformCopy([['iam.tf', 'roles/logging.logWriter', 'roles/logging.admin']]))).toEqual(['grants']);
    // (the deploy side reads the repository's resources.json, so a copy with another declaration differs)
    expect(await differs(terraformCopy([['resources.json', '"passages/expiresAt": "ascending"', '"passages/expiresAt": "none"']]))).toEqual(
      ['firestoreFields'],
    );
    expect(await differs(terraformCopy([['firestore.tf', 'each.value == "ascending" ? ["ASCENDING"] : []', '[]']]))).toEqual([
      'firestoreFields',
    ]);
    expect(
      await differs(
        terraformCopy([['scheduler.tf', 'google_pubsub_topic.topics["flush_ticks"].id', 'google_pubsub_topic.topics["flush_ticks"].name']]),
      ),
    ).toEqual(['scheduler']);
    // And the deploy side: one command changed.
    const steps: Step[] = deploySteps(o, config).map((s) =>
      s.argv[2] === 'subscriptions' && s.argv[3] === 'create'
        ? { ...s, argv: s.argv.map((a) => a.replace('--min-retry-delay=10s', '--min-retry-delay=20s')) }
        : s,
    );
    expect(steps.map(render).join('\n')).toContain('--min-retry-delay=20s');
    const tf = await systemFromTerraform('terraform', tfVars(o));
    expect(systemFromDeploy(steps, o.project).subscriptions).not.toEqual(tf.subscriptions);
  });

  it('the lints catch what a real apply would refuse: retention with versioning, an id too long, a bare topic name', async () => {
    const s = await systemFromTerraform(
      terraformCopy([
        ['storage.tf', '  dynamic "retention_policy" {', '  versioning {\n    enabled = true\n  }\n  dynamic "retention_policy" {'],
      ]),
      tfVars(options()),
    );
    expect(lint(s)).toEqual([`bucket my-proj-speedcam-evidence: retention policy together with versioning`]);
    const long = await systemFromTerraform(
      terraformCopy([
        ['iam.tf', 'account_id   = "${var.name_prefix}-${each.value.account}"', 'account_id   = "${var.name_prefix}-${each.key}-sa"'],
      ]),
      tfVars(options()),
    );
    expect(lint(long).join('\n')).toMatch(/service account id speedcam-vehicle-observations-sa@my-proj.iam.gserviceaccount.com: invalid/);
    const bare = await systemFromTerraform(
      terraformCopy([['scheduler.tf', 'google_pubsub_topic.topics["flush_ticks"].id', 'google_pubsub_topic.topics["flush_ticks"].name']]),
      tfVars(options()),
    );
    expect(lint(bare)).toEqual(['scheduler: topic is not a full path']);
  });

  it('passes SPEEDCAM_PIPELINES to every function (terraform: pipelines_json; deploy: --pipelines, checked first)', async () => {
    const json = '{"transactions":{"event_time":"payload","timezone":"Europe/Madrid"}}';
    const o = options({ env: { SPEEDCAM_PIPELINES: pipelinesEnv(` ${json.replace(/,/g, ', ')} `) } });
    const tf = await systemFromTerraform('terraform', tfVars(o, { pipelines_json: json, function_env: {} }));
    const gcloud = systemFromDeploy(deploySteps(o, config), o.project);
    expect(gcloud.functions).toEqual(tf.functions);
    for (const f of Object.values(tf.functions)) expect((f as { env: Record<string, string> }).env['SPEEDCAM_PIPELINES']).toBe(json);
    expect(() => pipelinesEnv('{"transactions":{"late":"drop"}}')).toThrow(
      'SPEEDCAM_PIPELINES: transactions.late: "drop" is not valid; valid: dead_letter, update',
    );
  });

  it('passes the cars API to every function (terraform: cars_api_url; deploy: --cars-api, checked first)', async () => {
    const url = 'https://cars.example.com/api/vehicle-image';
    const o = options({ env: { SPEEDCAM_CARS_API: carsApiEnv(url) } });
    const tf = await systemFromTerraform('terraform', tfVars(o, { cars_api_url: url, function_env: {} }));
    expect(systemFromDeploy(deploySteps(o, config), o.project).functions).toEqual(tf.functions);
    for (const f of Object.values(tf.functions)) expect((f as { env: Record<string, string> }).env['SPEEDCAM_CARS_API']).toBe(url);
    expect(() => carsApiEnv('ftp://cars.example.com')).toThrow(/SPEEDCAM_CARS_API/);
  });

  it('every table has the primary key (row_id) and max_staleness CDC upserts need; the _latest views are plain aliases, in both paths', async () => {
    const o = options();
    const tf = await systemFromTerraform('terraform', tfVars(o));
    const gcloud = systemFromDeploy(deploySteps(o, config), o.project);
    expect(gcloud.tables).toEqual(tf.tables);
    for (const table of loadSchemas().keys()) {
      expect(tf.tables[table], table).toMatchObject({ primaryKey: ['row_id'], maxStaleness: expect.stringMatching(/^0-0 0 \d+:\d+:\d+$/) });
      expect(tf.views[`${table}_latest`]).toBe(`SELECT * FROM \`my-proj.speedcam.${table}\``);
    }
    // Window tables (early panes) are read at most a minute stale.
    expect(tf.tables['user_event_counts']!['maxStaleness']).toBe('0-0 0 0:1:0');
    // The deploy's script adds the key only where the table has none, and can run again.
    const script = deploySteps(o, config).find(
      (s) => s.argv[1] === '--project_id=my-proj' && s.argv[2] === 'query' && s.argv[5]!.includes('.users`'),
    )!.argv[5]!;
    expect(script).toMatch(
      /^IF NOT EXISTS \(SELECT 1 FROM `my-proj\.speedcam`\.INFORMATION_SCHEMA\.TABLE_CONSTRAINTS WHERE table_name = 'users' AND constraint_type = 'PRIMARY KEY'\) THEN\n {2}ALTER TABLE `my-proj\.speedcam\.users` ADD PRIMARY KEY \(row_id\) NOT ENFORCED;\nEND IF;\n/,
    );
    // A difference on either side is found.
    const noKey = await systemFromTerraform(
      terraformCopy([['bigquery.tf', / {2}table_constraints \{\n[\s\S]*?\n {2}\}\n/, '']]),
      tfVars(o),
    );
    expect(noKey.tables['users']!['primaryKey']).toBeNull();
  });
});

describe('speedcam deploy --dry-run', () => {
  const steps = deploySteps(options());
  const script = ['set -euo pipefail', ...steps.map(render)].join('\n');

  it('prints a bash script (bash -n parses it) with every command once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'speedcam-dry-'));
    temps.push(dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'deploy.sh'), script);
    expect(() => execFileSync('bash', ['-n', join(dir, 'deploy.sh')], { stdio: 'pipe' })).not.toThrow();
    expect(script.match(/^gcloud functions deploy /gm)).toHaveLength(FUNCTIONS.length);
    expect(script).not.toMatch(/allUsers|allAuthenticatedUsers/);
    // The review function: HTTP, private (no unauthenticated calls), invoked only by the named reviewers.
    expect(script).toMatch(
      /^gcloud functions deploy speedcam-review .*--trigger-http --no-allow-unauthenticated .*--ingress-settings=all /m,
    );
    const reviewed = deploySteps(options({ reviewers: ['user:ana@city.example'] }))
      .map(render)
      .join('\n');
    expect(reviewed.match(/^gcloud run services add-iam-policy-binding speedcam-review .*$/gm)).toEqual([
      'gcloud run services add-iam-policy-binding speedcam-review --region=us-east1 --member=user:ana@city.example --role=roles/run.invoker --project=my-proj',
    ]);
    for (const bad of ['allUsers', 'allAuthenticatedUsers', 'ana@city.example'])
      expect(() => deploySteps(options({ reviewers: [bad] })), bad).toThrow(/--reviewer/);
    // Captured values are shell variables filled by the command before them.
    expect(script).toMatch(/^URL_FINES=\$\(gcloud functions describe speedcam-fines /m);
    expect(script).toContain('"--push-endpoint=${URL_FINES}/projects/my-proj/topics/speeding-vehicles"');
  });

  it('creates the dataset the functions are configured with, tables, views and grants included', () => {
    const env = { SPEEDCAM_DATASET: 'traffic_eu' };
    const steps = deploySteps(options({ env }), loadConfig(env));
    const argvs = steps.map((s) => s.argv.join(' '));
    expect(argvs.some((a) => a.includes('mk --dataset') && a.endsWith('my-proj:traffic_eu'))).toBe(true);
    expect(argvs.some((a) => a.includes('my-proj:traffic_eu.vehicle_passages'))).toBe(true);
    expect(argvs.some((a) => a.includes('my-proj.traffic_eu.vehicle_passages'))).toBe(true);
    expect(argvs.filter((a) => /my-proj[:.]speedcam(\.|\s|$)/.test(a))).toEqual([]);
    expect(() => deploySteps(options(), loadConfig({ SPEEDCAM_WAREHOUSE: 'duckdb' }))).toThrow(/BigQuery/);
  });
});

describe('speedcam deploy runs its steps', () => {
  const node = process.execPath;
  const js = (code: string) => [node, '-e', code];

  it('captures values for later steps, skips what exists or updates it, honours `unless`, waits where told', () => {
    const dir = mkdtempSync(join(tmpdir(), 'speedcam-steps-'));
    temps.push(dir);
    const out = join(dir, 'out.txt');
    const append = (text: string) => [
      ...js(`require('fs').appendFileSync(${JSON.stringify(out)}, ${JSON.stringify(text)} + process.argv.slice(1).join(' ') + '\\n')`),
      '--',
    ];
    const exists = js(`process.stderr.write('ERROR: ALREADY_EXISTS: resource exists'); process.exit(1)`);
    const waits: number[] = [];
    runSteps(
      [
        { argv: js(`process.stdout.write('https://fn-abc.a.run.app\\n')`), capture: 'URL' },
        { argv: [...append('created '), '--push-endpoint=${URL}/projects/p/topics/t'] },
        { argv: exists, tolerateExisting: true },
        { argv: exists, onExisting: append('updated ') },
        { argv: append('never '), unless: js(`process.stdout.write('projects/p/dashboards/1')`) },
        { argv: append('made '), unless: js('') },
        { argv: [], waitS: 7 },
      ],
      () => undefined,
      (s) => waits.push(s),
    );
    expect(readFileSync(out, 'utf8')).toBe('created --push-endpoint=https://fn-abc.a.run.app/projects/p/topics/t\nupdated \nmade \n');
    expect(waits).toEqual([7]);
    expect(() => runSteps([{ argv: js('process.exit(3)') }], () => undefined)).toThrow(/step 1 failed/);
    expect(() => runSteps([{ argv: exists }], () => undefined)).toThrow(/ALREADY_EXISTS/);
  });

  it("stages .npmrc with the source, so Cloud Build's npm ci skips onnxruntime-node's CUDA download as a local install does", () => {
    const dir = mkdtempSync(join(tmpdir(), 'speedcam-stage-'));
    temps.push(dir);
    mkdirSync(join(dir, 'root', 'dist', 'functions'), { recursive: true });
    mkdirSync(join(dir, 'root', 'schemas'), { recursive: true });
    writeFileSync(join(dir, 'root', 'dist', 'functions', 'index.js'), 'export {};\n');
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) cpSync(f, join(dir, 'root', f));
    packageSource(join(dir, 'root'), join(dir, 'out'));
    expect(readFileSync(join(dir, 'out', '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    expect(readFileSync('.npmrc', 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'package.json'), 'utf8')).dependencies).toHaveProperty('onnxruntime-node');
  });

  it('zips the same build to the same bytes (the source object is named by its SHA-256)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'speedcam-zip-'));
    temps.push(dir);
    mkdirSync(join(dir, 'src', 'dist'), { recursive: true });
    writeFileSync(join(dir, 'src', 'dist', 'a.js'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'src', 'package.json'), '{}');
    const first = await zipSource(join(dir, 'src'), join(dir, 'one.zip'));
    const second = await zipSource(join(dir, 'src'), join(dir, 'two.zip'));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toBe(first);
    writeFileSync(join(dir, 'src', 'dist', 'a.js'), 'export const a = 2;\n');
    expect(await zipSource(join(dir, 'src'), join(dir, 'three.zip'))).not.toBe(first);
  });
});
