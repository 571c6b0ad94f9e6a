import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploySteps, substitute, type DeployOptions } from '../../../cli/deploy.js';
import { FUNCTIONS } from '../../../functions/catalog.js';

/**
 * Every command `speedcam deploy` runs, replayed through this machine's gcloud and bq. Each logs its
 * requests (gcloud --log-http, bq --apilog) to a local stand-in of the Google APIs that answers GET with
 * 404 and anything else with 400, so each command goes as far as its first write and stops, offline.
 * A decoy default project shows any request that ignores --project.
 */
const PROJECT = 'my-proj';
const DECOY = 'decoy-default-project';
/**
 * The Cloud SDK where test/support/prerequisites.sh (run by `npm test`) finds it: CLOUDSDK_ROOT_DIR or a
 * standard place. When it is there, this replay must run: its gcloud is looked up on PATH and in its bin/.
 */
const sdkOfPrerequisites =
  process.env['CLOUDSDK_ROOT_DIR'] ||
  ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk', '/opt/google-cloud-sdk'].find((d) => existsSync(join(d, 'platform'))) ||
  '';
if (sdkOfPrerequisites && existsSync(join(sdkOfPrerequisites, 'bin', 'gcloud'))) {
  process.env['PATH'] = `${process.env['PATH'] ?? ''}:${join(sdkOfPrerequisites, 'bin')}`;
}
const gcloudPath = (() => {
  try {
    return execFileSync('bash', ['-c', 'command -v gcloud'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
/** Skipped (its name says so) only where the prerequisites found no SDK either, i.e. outside `npm test`. */
const skipReplay = !gcloudPath && !sdkOfPrerequisites;
const sdk = gcloudPath
  ? execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    }).trim()
  : '';
const bqDiscovery = join(sdk, 'platform/bq/discovery_next/bigquery.json');
const bqIamDiscovery = join(sdk, 'platform/bq/discovery_next/iam-policy.json');

/** The APIs the deploy talks to, each pointed at the stand-in. */
const APIS = [
  'serviceusage',
  'cloudresourcemanager',
  'pubsub',
  'firestore',
  'storage',
  'artifactregistry',
  'iam',
  'cloudfunctions',
  'run',
  'cloudscheduler',
  'logging',
  'monitoring',
];

let server: Server;
let base = '';
let work = '';

beforeAll(async () => {
  if (!gcloudPath && sdkOfPrerequisites) {
    throw new Error(
      `the prerequisites found the Cloud SDK at ${sdkOfPrerequisites}, but gcloud is neither on PATH nor in its bin/: the replay cannot run`,
    );
  }
  if (!gcloudPath) return;
  work = mkdtempSync(join(tmpdir(), 'speedcam-replay-'));
  mkdirSync(join(work, 'config'));
  writeFileSync(join(work, 'token'), 'placeholder-token');
  writeFileSync(join(work, 'bigqueryrc'), '');
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url.includes('$discovery')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(readFileSync(url.includes('iam') && existsSync(bqIamDiscovery) ? bqIamDiscovery : bqDiscovery));
        return;
      }
      if (req.method === 'GET' && /\/runtimes(\?|$)/.test(url)) {
        // gcloud functions deploy checks the runtime against this list before it writes anything.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ runtimes: [{ name: 'nodejs22', stage: 'GA', environment: 'GEN_2' }] }));
        return;
      }
      if (req.method === 'GET' && /\/services\/[a-z]+\.googleapis\.com(\?|$)/.test(url)) {
        // "is this API enabled?" (gcloud functions deploy asks before it writes)
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ name: url.split('?')[0], state: 'ENABLED' }));
        return;
      }
      const project = /^\/v[0-9]\/projects\/([a-z0-9-]+)(\?|$)/.exec(url);
      if (req.method === 'GET' && project) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ projectId: project[1], projectNumber: '123456789012', lifecycleState: 'ACTIVE' }));
        return;
      }
      const get = req.method === 'GET';
      res.writeHead(get ? 404 : 400, { 'content-type': 'application/json' });
      const message = get ? 'not found (offline replay)' : 'offline replay stops here';
      // The Google API error shape (bq reads errors[].reason: notFound lets `bq mk` go on to its insert).
      res.end(
        JSON.stringify({
          error: {
            code: get ? 404 : 400,
            message,
            status: get ? 'NOT_FOUND' : 'FAILED_PRECONDITION',
            errors: [{ reason: get ? 'notFound' : 'invalid', message }],
          },
        }),
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  if (server) await new Promise<void>((ok) => server.close(() => ok()));
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Replay {
  command: string;
  output: string;
  requests: string[];
}

function replay(argv: string[]): Promise<Replay> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLOUDSDK_CONFIG: join(work, 'config'),
    CLOUDSDK_CORE_PROJECT: DECOY,
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: '1',
    ...Object.fromEntries(
      APIS.map((a) => [`CLOUDSDK_API_ENDPOINT_OVERRIDES_${a.toUpperCase()}`, a === 'storage' ? `${base}storage/v1/` : base]),
    ),
  };
  const bqFlags = [
    `--bigqueryrc=${join(work, 'bigqueryrc')}`,
    '--oauth_access_token=placeholder-token',
    `--api=${base.replace(/\/$/, '')}`,
    '--apilog=stderr',
  ];
  // bq.py under the SDK's bundled Python; the `bq` wrapper on PATH where the SDK ships no Python of its own.
  const python = join(sdk, 'platform/bundledpythonunix/bin/python3');
  const [program, args] =
    argv[0] === 'bq'
      ? existsSync(python)
        ? [python, [join(sdk, 'platform/bq/bq.py'), ...bqFlags, ...argv.slice(1)]]
        : ['bq', [...bqFlags, ...argv.slice(1)]]
      : ['gcloud', [...argv.slice(1), '--log-http', `--access-token-file=${join(work, 'token')}`]];
  return new Promise((ok) => {
    execFile(program, args, { env, encoding: 'utf8', timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (_err, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      // gcloud: "uri: …" and the JSON body; bq (--apilog): the request line and its body.
      const requests = [
        ...output.matchAll(/==== request start ====([\s\S]*?)==== request end ====/g),
        ...output.matchAll(/--request-start--([\s\S]*?)--request-end--[^\n]*\n[^\n]*URL being requested[^\n]*/g),
      ].map((m) => m[0]!);
      ok({ command: argv.join(' '), output, requests });
    });
  });
}

/** One command per distinct shape (program, sub-command words, flag names): the rest differ only in values. */
function shapes(commands: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const argv of commands) {
    // Command words, without the names of things (they carry the prefix or the project, or are paths).
    const words = argv.filter((a) => !a.startsWith('-') && !/speedcam|my-proj|^gs:|^\/|expireAt|^[a-z]+[A-Z]/.test(a));
    const key = `${words.join(' ')} ${argv
      .filter((a) => a.startsWith('--'))
      .map((a) => a.split('=')[0])
      .sort()
      .join(' ')}`;
    if (!seen.has(key)) seen.set(key, argv);
  }
  return [...seen.values()];
}

async function pool<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

/** Problems of a replay: arguments gcloud/bq refused, no request made, a project other than the target. */
export function problemsOf(r: Replay, project: string): string[] {
  const p: string[] = [];
  const refused =
    /unrecognized arguments?|argument [^\n]*: (invalid|expected|Bad value|must be)|Invalid value for|invalid choice|is not a valid|FATAL Flags parsing error|Unknown command line flag|too few arguments|ERROR: \(gcloud[^)]*\) (argument|Invalid|Missing|one of the arguments|The required property)/i.exec(
      r.output,
    );
  if (refused) p.push(`refused: ${r.output.slice(Math.max(0, refused.index - 100), refused.index + 300).trim()}`);
  if (r.requests.length === 0 && !refused) p.push(`no request logged: ${r.output.slice(-600)}`);
  for (const req of r.requests) {
    if (req.includes(DECOY)) p.push(`a request names the decoy default project: ${req.slice(0, 400)}`);
    for (const m of req.matchAll(
      /projects\/([a-z0-9-]+)|[?&]project=([a-z0-9-]+)|"projectId": ?"([^"]+)"|projectId: ([a-z0-9-]+)|x-goog-user-project: ([a-z0-9-]+)/g,
    )) {
      const named = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5];
      if (named !== project && named !== '123456789012' && named !== '-') p.push(`a request names project ${named}: ${req.slice(0, 300)}`);
    }
  }
  return p;
}

describe.skipIf(skipReplay)('speedcam deploy replayed through gcloud and bq (offline, --log-http)', () => {
  const options = (): DeployOptions => ({
    project: PROJECT,
    region: 'us-east1',
    prefix: 'speedcam',
    firestoreDatabase: 'create',
    firestoreLocation: 'nam5',
    bigqueryLocation: 'US',
    sourceZip: join(work, 'source.zip'),
    sourceSha256: 'ab'.repeat(32),
    filesDir: join(work, 'files'),
    iamWaitS: 0,
    reviewers: ['user:ana@city.example'],
  });
  const vars = {
    PROJECT_NUMBER: '123456789012',
    ...Object.fromEntries(
      FUNCTIONS.map((f) => [`URL_${f.name.replace(/-/g, '_').toUpperCase()}`, `https://speedcam-${f.name}-abc123-ue.a.run.app`]),
    ),
  };

  it('every command: no unrecognised flag or argument, and every request names only the target project', async () => {
    const steps = deploySteps(options());
    writeFileSync(join(work, 'source.zip'), 'zip');
    for (const s of steps)
      for (const [path, content] of Object.entries(s.files ?? {})) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, content);
      }
    const commands = steps
      .filter((s) => s.waitS === undefined)
      .flatMap((s) => [s.argv, ...(s.onExisting ? [s.onExisting] : []), ...(s.unless ? [s.unless] : [])])
      .map((a) => substitute(a, vars));
    const distinct = shapes(commands);
    const results = await pool(distinct, 3, replay);
    const problems = results.flatMap((r) => problemsOf(r, PROJECT).map((p) => `${r.command.slice(0, 140)}\n    ${p}`));
    expect(problems, problems.join('\n\n')).toEqual([]);
    // Writes are seen with their bodies: the scheduler job names the full topic path of the target project.
    const scheduler = results.find((r) => r.command.includes('scheduler jobs create'))!;
    expect(scheduler.requests.join('\n')).toContain(`"topicName": "projects/${PROJECT}/topics/flush-ticks"`);
    const deploy = results.find((r) => r.command.includes('functions deploy'))!;
    if (process.env['SPEEDCAM_REPLAY_LOG'])
      writeFileSync(
        process.env['SPEEDCAM_REPLAY_LOG'],
        results.map((r) => `$ ${r.command}\n${r.requests.length} requests\n${r.output}`).join('\n\n'),
      );
    expect(deploy.requests.join('\n')).toContain(
      `"serviceAccount": "projects/${PROJECT}/serviceAccounts/speedcam-build@${PROJECT}.iam.gserviceaccount.com"`,
    );
    const table = results.find((r) => r.command.startsWith('bq ') && r.command.includes('--time_partitioning_field'))!;
    // (bq's key order varies between runs)
    const body = table.requests.join('\n');
    expect(body).toMatch(/"tableReference": \{[^}]*"projectId": "my-proj"/);
    expect(body).toMatch(/"timePartitioning": \{[^}]*"field": "[a-z_]+"/);
    // The CDC script (primary key, max_staleness) goes out as a query job in the target project.
    const cdc = results.find((r) => r.command.startsWith('bq ') && r.command.includes(' query '))!;
    expect(cdc.requests.join('\n')).toContain('ADD PRIMARY KEY (row_id) NOT ENFORCED');
    expect(cdc.requests.join('\n')).toMatch(/max_staleness = INTERVAL '0-0 0 0:\d+:0' YEAR TO SECOND/);
  }, 240_000);

  it('fails on a broken copy: an unknown flag, a bare topic name resolved against the default project', async () => {
    const [bad, bare] = await Promise.all([
      replay([
        'gcloud',
        'pubsub',
        'subscriptions',
        'create',
        'speedcam-x',
        '--topic=projects/my-proj/topics/x',
        '--min-retry-delay=10s',
        '--retry-max=5',
        '--project=my-proj',
      ]),
      replay([
        'gcloud',
        'scheduler',
        'jobs',
        'create',
        'pubsub',
        'speedcam-flush',
        '--location=us-east1',
        '--schedule=* * * * *',
        '--topic=flush-ticks',
        '--message-body=x',
        '--project=my-proj',
      ]),
    ]);
    expect(problemsOf(bad, PROJECT).join('\n')).toMatch(/refused: .*unrecognized arguments/s);
    expect(problemsOf(bare, PROJECT).join('\n')).toMatch(/decoy default project/);
  }, 120_000);
});
