import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTerraformSchema, schemaOf } from '../../support/terraform-schema.js';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of terraform/ with one edit; the edit must have applied. */
function brokenCopy(file: string, from: string | RegExp, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'speedcam-tf-'));
  temps.push(dir);
  cpSync('terraform', dir, { recursive: true });
  const text = readFileSync(join(dir, file), 'utf8');
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`edit did not apply to ${file}`);
  writeFileSync(join(dir, file), edited);
  return dir;
}

describe('terraform/ against the google provider schema (hashicorp/google 6.50 via @cdktf/provider-google)', () => {
  it('reads the schema from the bindings (sanity: known arguments, blocks and required ones)', () => {
    const sub = schemaOf('resource', 'google_pubsub_subscription')!;
    expect(sub.args.get('ack_deadline_seconds')).toEqual({ required: false });
    expect(sub.args.get('topic')).toEqual({ required: true });
    expect([...sub.blocks.get('push_config')!.blocks.keys()]).toContain('oidc_token');
    expect(schemaOf('resource', 'google_cloudfunctions2_function')!.blocks.get('service_config')!.reads.has('uri')).toBe(true);
    expect(schemaOf('resource', 'time_sleep')!.args.has('create_duration')).toBe(true);
    expect(schemaOf('data', 'archive_file')!.reads.has('output_sha256')).toBe(true);
    expect(schemaOf('resource', 'google_no_such_thing')).toBeNull();
  });

  it('every resource type, argument, block and referenced attribute exists', async () => {
    expect(await checkTerraformSchema('terraform')).toEqual([]);
  });

  it('fails on a broken copy: an unknown argument, block, resource type, attribute read, or a missing required argument', async () => {
    const cases: [string, string | RegExp, string, RegExp][] = [
      ['pubsub.tf', 'ack_deadline_seconds', 'ack_deadline_secs', /unknown argument "ack_deadline_secs"/],
      ['pubsub.tf', 'retry_policy {', 'retry_policies {', /unknown block "retry_policies"/],
      [
        'storage.tf',
        'retention_period',
        'retention_days',
        /unknown argument "retention_days"[\s\S]*required argument "retention_period" missing/,
      ],
      ['scheduler.tf', 'google_cloud_scheduler_job', 'google_cloud_scheduler_jobs', /no resource type "google_cloud_scheduler_jobs"/],
      ['pubsub.tf', '.service_config[0].uri}/projects', '.service_config[0].url}/projects', /no attribute "url"/],
      ['iam.tf', / {2}topic {4}= google_pubsub_topic\.topics\[each\.value\.target\]\.name\n/, '', /required argument "topic" missing/],
      ['monitoring.tf', 'dynamic "condition_absent"', 'dynamic "condition_missing"', /dynamic block "condition_missing"/],
    ];
    for (const [file, from, to, expected] of cases) {
      const problems = await checkTerraformSchema(brokenCopy(file, from, to));
      expect(problems.join('\n'), `${file}: ${String(from)} → ${to}`).toMatch(expected);
    }
  });
});
