import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog.js';
import { loadConfig } from '../../shared/config.js';
import { loadSchemas } from '../../shared/schemas.js';
import { deployResources, deploySteps, functionName, render } from '../../cli/deploy.js';

const TF = 'terraform';
type Hcl = Record<string, any>;
let tf: Hcl = {};
const config = loadConfig({});
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const functionDirs = readdirSync('functions').filter((d) => statSync(join('functions', d)).isDirectory());

beforeAll(async () => {
  // All .tf files merged: resource type → name → [body], locals → [..]
  for (const f of readdirSync(TF).filter((x) => x.endsWith('.tf'))) {
    const j = (await parse(f, readFileSync(join(TF, f), 'utf8'))) as Hcl;
    for (const [block, body] of Object.entries(j)) {
      if (block === 'locals') tf['locals'] = Object.assign(tf['locals'] ?? {}, ...(body as Hcl[]));
      else if (block === 'resource' || block === 'data') {
        tf[block] ??= {};
        for (const [type, byName] of Object.entries(body as Hcl)) tf[block][type] = { ...(tf[block][type] ?? {}), ...byName };
      } else tf[block] = { ...(tf[block] ?? {}), ...(body as Hcl) };
    }
  }
});

describe('terraform/', () => {
  it('is formatted (terraform fmt -check -recursive)', () => {
    expect(() => execFileSync('terraform', ['fmt', '-check', '-recursive', TF], { stdio: 'pipe' })).not.toThrow();
  });

  it('has one Cloud Function per folder under functions/, with its entry point and trigger', () => {
    const fns = tf['resource']['google_cloudfunctions2_function'];
    expect(Object.keys(fns)).toEqual(['functions']);
    expect(fns.functions[0].for_each).toBe('${local.functions}');
    expect(Object.keys(tf['locals'].functions).sort()).toEqual([...functionDirs].sort());
    for (const spec of FUNCTIONS) {
      const local = tf['locals'].functions[spec.dir];
      expect(local.entry_point, spec.dir).toBe(spec.entryPoint);
      // trigger is a key of var.topics whose default is the catalog's topic
      expect(tf['variable'].topics[0].default[local.trigger], spec.dir).toBe(spec.triggerTopic(config));
      expect([local.concurrency, local.memory, local.max_instances], spec.dir).toEqual([spec.concurrency, spec.memory, spec.maxInstances]);
    }
  });

  it('runs every function on nodejs22, retrying its event trigger', () => {
    const fn = tf['resource']['google_cloudfunctions2_function'].functions[0];
    expect(fn.build_config[0].runtime).toBe('nodejs22');
    expect(fn.event_trigger[0].retry_policy).toBe('RETRY_POLICY_RETRY');
    expect(fn.event_trigger[0].event_type).toBe('google.cloud.pubsub.topic.v1.messagePublished');
  });

  it('deploys the source zip under a content-hash name', () => {
    expect(tf['resource']['google_storage_bucket_object'].source[0].name).toContain('data.archive_file.source.output_sha256');
  });

  it('runs each function as its own service account, holding the roles the catalog lists', () => {
    const fn = tf['resource']['google_cloudfunctions2_function'].functions[0];
    expect(fn.service_config[0].service_account_email).toBe('${google_service_account.functions[each.key].email}');
    expect(tf['resource']['google_service_account'].functions[0].for_each).toBe('${local.functions}');
    for (const spec of FUNCTIONS) {
      const tfGrants = (tf['locals'].functions[spec.dir].grants as { role: string; on: string; target: string }[]).map((g) => `${g.role}@${g.on}:${g.target}`).sort();
      const catalog = spec.grants
        .map((g) => `${g.role}@${g.on}:${g.on === 'topic' ? snake(g.topic) : g.on === 'bucket' ? g.bucket : ''}`)
        .sort();
      expect(tfGrants, spec.dir).toEqual(catalog);
    }
  });

  it('backs every schema file with a BigQuery table, partitioned and clustered as laid out', () => {
    const table = tf['resource']['google_bigquery_table'].tables[0];
    expect(table.for_each).toContain('local.schema_files');
    expect(tf['locals'].schema_files).toContain('fileset');
    expect(tf['locals'].table_layout).toBe('${local.resources.tables}');
    expect(Object.keys(deployResources().tables).sort()).toEqual([...loadSchemas().keys()].sort());
  });

  it('gives every table a view that keeps one row per row_id (insertId dedupes for a minute only)', () => {
    const view = tf['resource']['google_bigquery_table'].latest[0];
    expect(view.for_each).toBe('${google_bigquery_table.tables}');
    expect(view.view[0].query).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY row_id.*\) AS _n FROM .*WHERE _n = 1/);
    // rows revised by late events: the highest row_revision wins, for exactly the tables whose schema has it
    expect(view.view[0].query).toMatch(/PARTITION BY row_id%\{if contains\(local\.revised_tables, each\.key\)\} ORDER BY row_revision DESC%\{endif\}\)/);
    expect(tf['locals'].revised_tables).toContain('row_revision');
  });

  it('has no public IAM member anywhere', () => {
    for (const f of readdirSync(TF).filter((x) => x.endsWith('.tf'))) {
      expect(readFileSync(join(TF, f), 'utf8'), f).not.toMatch(/allUsers|allAuthenticatedUsers/);
    }
    const buckets = tf['resource']['google_storage_bucket'];
    for (const [name, [b]] of Object.entries(buckets) as [string, Hcl[]][]) {
      expect([b!.uniform_bucket_level_access, b!.public_access_prevention], name).toEqual([true, 'enforced']);
    }
  });

  it('creates every topic, the Firestore TTL policies and the flush schedule', () => {
    expect(Object.keys(tf['variable'].topics[0].default).map((k) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())).sort()).toEqual(Object.keys(config.topics).sort());
    expect(tf['resource']['google_pubsub_topic'].topics[0].for_each).toBe('${var.topics}');
    expect(tf['resource']['google_firestore_field'].ttl[0].ttl_config).toBeDefined();
    expect(tf['resource']['google_cloud_scheduler_job'].flush[0].pubsub_target[0].topic_name).toContain('flush_ticks');
  });

  it('passes SPEEDCAM_PIPELINES (var.pipelines_json) to every function', () => {
    expect(tf['variable'].pipelines_json[0].default).toBe('');
    expect(tf['locals'].function_env).toContain('var.pipelines_json == "" ? {} : { SPEEDCAM_PIPELINES = var.pipelines_json }');
    expect(tf['resource']['google_cloudfunctions2_function'].functions[0].service_config[0].environment_variables).toBe('${local.function_env}');
  });
});

describe('speedcam deploy --dry-run', () => {
  const steps = deploySteps({ project: 'my-proj', region: 'us-east1', prefix: 'speedcam', firestoreLocation: 'nam5', bigqueryLocation: 'US', source: '.deploy/source' });
  const lines = steps.map(render);

  it('prints one gcloud functions deploy per function, with its entry point, trigger, retry and service account', () => {
    const deploys = lines.filter((l) => l.startsWith('gcloud functions deploy '));
    expect(deploys).toHaveLength(FUNCTIONS.length);
    expect(functionDirs.sort()).toEqual(FUNCTIONS.map((f) => f.dir).sort());
    for (const spec of FUNCTIONS) {
      const line = deploys.filter((l) => l.startsWith(`gcloud functions deploy ${functionName('speedcam', spec)} `));
      expect(line, spec.dir).toHaveLength(1);
      expect(line[0]).toContain(`--entry-point=${spec.entryPoint} `);
      expect(line[0]).toContain(`--trigger-topic=${spec.triggerTopic(config)} `);
      expect(line[0]).toContain(' --retry ');
      expect(line[0]).toContain('--runtime=nodejs22');
      expect(line[0]).toContain(`--service-account=speedcam-${spec.dir}`.slice(0, 48));
    }
  });

  it('gives each trigger subscription an acknowledgement deadline as long as the function timeout (a flush run lasts up to a minute)', () => {
    const updates = lines.filter((l) => l.startsWith('gcloud pubsub subscriptions update '));
    expect(updates.length).toBe(FUNCTIONS.length - 1);
    for (const l of updates) expect(l).toContain('--ack-deadline=120');
    expect(lines.filter((l) => l.startsWith('gcloud functions deploy ')).every((l) => l.includes('--timeout=120s'))).toBe(true);
  });

  it('passes --pipelines to every function as SPEEDCAM_PIPELINES, checked first', () => {
    const json = '{ "transactions": { "event_time": "payload", "timezone": "Europe/Madrid" } }';
    const withPipelines = deploySteps({ project: 'my-proj', region: 'us-east1', prefix: 'speedcam', firestoreLocation: 'nam5', bigqueryLocation: 'US', source: '.deploy/source', pipelines: json }).map(render);
    const deploys = withPipelines.filter((l) => l.startsWith('gcloud functions deploy '));
    expect(deploys).toHaveLength(FUNCTIONS.length);
    for (const l of deploys) expect(l).toContain(';SPEEDCAM_PIPELINES={"transactions":{"event_time":"payload","timezone":"Europe/Madrid"}}');
    expect(lines.filter((l) => l.includes('SPEEDCAM_PIPELINES'))).toEqual([]);
    expect(() => deploySteps({ project: 'p', region: 'r', prefix: 'speedcam', firestoreLocation: 'nam5', bigqueryLocation: 'US', source: 's', pipelines: '{"transactions":{"late":"drop"}}' })).toThrow(
      'SPEEDCAM_PIPELINES: transactions.late: "drop" is not valid; valid: dead_letter, update',
    );
  });

  it('creates a table per schema file and grants nothing public', () => {
    for (const table of loadSchemas().keys()) {
      expect(lines.some((l) => l.includes(`my-proj:speedcam.${table} `)), table).toBe(true);
      const revised = loadSchemas().get(table)!.some((f) => f.name === 'row_revision');
      const partition = revised ? 'PARTITION BY row_id ORDER BY row_revision DESC)' : 'PARTITION BY row_id)';
      expect(lines.some((l) => l.endsWith(`my-proj:speedcam.${table}_latest`) && l.includes(partition)), `${table}_latest`).toBe(true);
    }
    expect(lines.join('\n')).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });
});
