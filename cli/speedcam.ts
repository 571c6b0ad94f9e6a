#!/usr/bin/env node
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { IANAZone } from 'luxon';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { DuckDbWarehouse } from '../shared/platform/duckdb-warehouse.js';
import { GcsObjectStore } from '../shared/platform/gcs-object-store.js';
import { LocalObjectStore } from '../shared/platform/local-object-store.js';
import { loadConfig } from '../shared/config.js';
import { repoPath } from '../shared/export/schemas.js';
import { runDemo } from './demo/index.js';
import { formatSummary, reviewPageHowTo } from './demo/summary.js';
import {
  carsApiEnv,
  checkReviewers,
  defaultSource,
  deploySteps,
  packageSource,
  pipelinesEnv,
  render,
  runSteps,
  zipSource,
} from './deploy.js';
import { generateEvents, replayClock } from './generators/events.js';
import { generateTraffic } from './generators/traffic.js';
import { startStack } from './stack.js';
import { FUNCTIONS } from '../functions/catalog.js';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
};
const share = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a share between 0 and 1');
  return n;
};

/** An instant: ISO 8601 (a time without a zone is UTC) or epoch milliseconds. */
const instant = (v: string) => {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || !v.includes('T') ? v : `${v}Z`);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO 8601 time (e.g. 2025-01-01T00:00:00Z) or epoch milliseconds');
  return ms;
};

/** `--instances 4` (every function) or `--instances vehicleObservations=4,fines=2` (repeatable). */
const instancesOption = (v: string, previous: number | Record<string, number> | undefined) => {
  const count = (text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${text}" is not a whole number >= 1`);
    return n;
  };
  if (/^\d+$/.test(v)) return count(v);
  const out: Record<string, number> = typeof previous === 'object' ? { ...previous } : {};
  for (const part of v.split(',').filter(Boolean)) {
    const [name, n] = part.split('=');
    if (!name || n === undefined) throw new InvalidArgumentError(`"${part}" is not <function>=<count>`);
    if (!FUNCTIONS.some((f) => f.entryPoint === name))
      throw new InvalidArgumentError(`unknown function "${name}"; functions: ${FUNCTIONS.map((f) => f.entryPoint).join(', ')}`);
    out[name] = count(n);
  }
  return out;
};

const program = new Command()
  .name('speedcam')
  .description('Average-speed enforcement and event-time windows on Google Cloud Functions, locally on the emulators.')
  .showHelpAfterError('(run with --help for usage)');

/** Publishes to the emulator at `--emulator` (or PUBSUB_EMULATOR_HOST), if any. */
function usePubSubEmulator(emulator: string | undefined): void {
  if (emulator) process.env['PUBSUB_EMULATOR_HOST'] = emulator;
  // Against the emulator there is no metadata server to probe for credentials (saves ~200 ms and a warning).
  if (process.env['PUBSUB_EMULATOR_HOST']) process.env['METADATA_SERVER_DETECTION'] ??= 'none';
}

program
  .command('stack')
  .description(
    'run the local stack in the foreground: emulators, every function on 127.0.0.1, DuckDB warehouse, flush tick; prints READY {json}',
  )
  .option('--project <id>', 'project id (demo- ids never reach Google Cloud)', 'demo-speedcam')
  .option('--pubsub-port <port>', 'Pub/Sub emulator port (reused if one answers there)', positiveInt, 8085)
  .option('--firestore-port <port>', 'Firestore emulator port (reused if one answers there)', positiveInt, 8080)
  .option('--functions-port <port>', 'first port of the function servers (0 = free ports)', positiveInt, 8090)
  .option('--flush-interval <seconds>', 'how often the flush runs (Cloud Scheduler in Google Cloud)', positive, 5)
  .option('--data-dir <dir>', 'where the warehouse file and logs go', '.speedcam')
  .option(
    '--cars-api-port <port>',
    'port of the local cars API that photographs vehicles for fines (0 = a free one; not started when SPEEDCAM_CARS_API is set)',
    (v: string) => Number(v),
    0,
  )
  .option('--no-cars-api', 'no local cars API (fines then find photos only in image_uri and the captures bucket)')
  .option(
    '--instances <n|function=n,…>',
    'processes per function behind a dispatcher, as Cloud Run runs instances: a number for every function, or per function (e.g. vehicleObservations=4)',
    instancesOption,
  )
  .addOption(
    new Option('--dispatch <strategy>', "how the dispatcher spreads requests over a function's instances")
      .choices(['random', 'round-robin'])
      .default('random'),
  )
  .addOption(
    new Option(
      '--warehouse <kind>',
      'the flush writes DuckDB directly, or through the BigQuery Storage Write API client to a local stand-in of it (bigquery-local) that applies CDC upserts into the same file',
    )
      .choices(['duckdb', 'bigquery-local'])
      .default('duckdb'),
  )
  .action(
    async (o: {
      project: string;
      pubsubPort: number;
      firestorePort: number;
      functionsPort: number;
      flushInterval: number;
      dataDir: string;
      carsApiPort: number;
      carsApi: boolean;
      instances?: number | Record<string, number>;
      dispatch: 'random' | 'round-robin';
      warehouse: 'duckdb' | 'bigquery-local';
    }) => {
      const stack = await startStack({
        warehouseKind: o.warehouse,
        project: o.project,
        pubsubPort: o.pubsubPort,
        firestorePort: o.firestorePort,
        functionsPort: o.functionsPort,
        flushIntervalMs: o.flushInterval * 1000,
        dataDir: o.dataDir,
        isolate: ['fines'],
        carsApi: o.carsApi ? o.carsApiPort : false,
        instances: o.instances,
        dispatch: o.dispatch,
      });
      process.stdout.write(`READY ${JSON.stringify(stack.info)}\n`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping the stack…\n`);
        await stack.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    },
  );

program
  .command('demo')
  .description('run the stack, publish a few hundred vehicles and some bad messages, wait for every decision, print a summary')
  .option('--seed-vehicles <n>', 'vehicles in the seed format (10 observations each)', positiveInt, 240)
  .option('--timed-vehicles <n>', 'vehicles in the timed format (entry and exit cameras)', positiveInt, 60)
  .option(
    '--rate <vehicles/s>',
    'publishing rate (12 keeps a 2-core machine, which also renders every photo and OCRs every fine, at low latency)',
    positive,
    12,
  )
  .option('--timeout <seconds>', 'give up after', positive, 180)
  .option('--data-dir <dir>', 'where the warehouse file, logs and summary go', '.speedcam')
  .option('--pubsub-port <port>', 'Pub/Sub emulator port (reused if one answers there)', positiveInt, 8085)
  .option('--firestore-port <port>', 'Firestore emulator port (reused if one answers there)', positiveInt, 8080)
  .option('--functions-port <port>', 'first port of the function servers (0 = free ports)', positiveInt, 0)
  .action(
    async (o: {
      seedVehicles: number;
      timedVehicles: number;
      rate: number;
      timeout: number;
      dataDir: string;
      pubsubPort: number;
      firestorePort: number;
      functionsPort: number;
    }) => {
      const log = (l: string) => process.stderr.write(l + '\n');
      const { summary, ok } = await runDemo({
        seedVehicles: o.seedVehicles,
        timedVehicles: o.timedVehicles,
        rate: o.rate,
        timeoutMs: o.timeout * 1000,
        dataDir: resolve(o.dataDir),
        log,
        ports: { pubsub: o.pubsubPort, firestore: o.firestorePort, functions: o.functionsPort },
      });
      process.stdout.write('\nspeedcam demo summary\n' + formatSummary(summary) + '\n');
      process.stdout.write(`(also in ${resolve(o.dataDir, 'demo-summary.json')})\n`);
      process.stdout.write(`\n${reviewPageHowTo(summary)}\n`);
      if (!ok) {
        process.stderr.write(
          `demo incomplete: not every passage was decided and exported in time; see ${resolve(o.dataDir, 'stack.log')}\n`,
        );
        process.exitCode = 1;
      }
    },
  );

const generate = program
  .command('generate')
  .description('publish synthetic input to Pub/Sub (the emulator when PUBSUB_EMULATOR_HOST is set)');
generate
  .command('traffic')
  .description(
    "radar observations: seed mode reproduces the radar producer's generator exactly; timed mode sends entry/exit cameras with timestamps",
  )
  .addOption(new Option('--mode <mode>', 'message format').choices(['seed', 'timed']).default('seed'))
  .option('--vehicles <n>', 'how many vehicles', positiveInt, 100)
  .option('--rate <vehicles/s>', "vehicles per second (default: the seed's cadence, 15 vehicles then a 1-10 s pause)", positive)
  .option('--speeding-share <p>', 'seed: share of 40-90 km/h spot speeds (seed 0.25); timed: share of speeding vehicles', share, 0.25)
  .option('--duplicate-share <p>', 'share of messages published twice', share, 0)
  .option('--radar-id <id>', 'radar (seed mode: sent as the radar_id attribute; default: the configured default radar)')
  .option('--project <id>', 'project id', process.env['GOOGLE_CLOUD_PROJECT'] ?? 'demo-speedcam')
  .option('--topic <name>', 'input topic', 'vehicle-observations')
  .option('--emulator <host:port>', 'Pub/Sub emulator (default: $PUBSUB_EMULATOR_HOST; unset = real Pub/Sub)')
  .option(
    '--no-photos',
    "timed mode: do not take the cameras' photos (seed mode takes none, as the radar producer: the stack's cars API photographs those vehicles)",
  )
  .option('--captures-bucket <bucket>', 'bucket for the photos', 'speedcam-captures')
  .option(
    '--objects-dir <dir>',
    'local Cloud Storage directory (default with the emulator: .speedcam/objects; without: real Cloud Storage)',
  )
  .option('--manifest <file>', 'write what was generated (vehicles, plates, photos) as JSON, for checking results against')
  .action(
    async (o: {
      manifest?: string;
      mode: 'seed' | 'timed';
      vehicles: number;
      rate?: number;
      speedingShare: number;
      duplicateShare: number;
      radarId?: string;
      project: string;
      topic: string;
      emulator?: string;
      photos: boolean;
      capturesBucket: string;
      objectsDir?: string;
    }) => {
      usePubSubEmulator(o.emulator);
      const config = loadConfig(process.env);
      const radarId = o.radarId ?? config.defaultRadarId;
      const radar = config.radars.get(radarId);
      if (!radar)
        throw new InvalidArgumentError(
          `radar "${radarId}" is not configured (SPEEDCAM_RADARS); known: ${[...config.radars.keys()].join(', ')}`,
        );
      const target = process.env['PUBSUB_EMULATOR_HOST'] ? `emulator ${process.env['PUBSUB_EMULATOR_HOST']}` : 'Google Cloud Pub/Sub';
      process.stderr.write(`publishing ${o.vehicles} vehicles (${o.mode}) to projects/${o.project}/topics/${o.topic} on ${target}\n`);
      const tty = process.stderr.isTTY;
      let lastLine = 0;
      const objectsDir = o.objectsDir ?? (process.env['PUBSUB_EMULATOR_HOST'] ? '.speedcam/objects' : undefined);
      const captures = o.photos
        ? {
            store: objectsDir ? new LocalObjectStore(objectsDir) : new GcsObjectStore(new Storage({ projectId: o.project })),
            bucket: o.capturesBucket,
          }
        : undefined;
      const vehicles = await generateTraffic(new PubSub({ projectId: o.project }), {
        captures,
        mode: o.mode,
        vehicles: o.vehicles,
        rate: o.rate,
        speedingShare: o.speedingShare,
        duplicateShare: o.duplicateShare,
        radar,
        radarAttribute: o.radarId,
        topic: o.topic,
        onProgress: (p) => {
          const line = `${p.vehicles}/${o.vehicles} vehicles, ${p.messages} messages (${p.duplicates} duplicates), ${(p.vehicles / Math.max(p.elapsedMs / 1000, 0.001)).toFixed(1)} vehicles/s`;
          if (tty) process.stderr.write(`\r${line}   `);
          else if (Date.now() - lastLine > 2000 || p.vehicles === o.vehicles) {
            process.stderr.write(line + '\n');
            lastLine = Date.now();
          }
        },
      });
      if (tty) process.stderr.write('\n');
      if (o.manifest) writeFileSync(o.manifest, JSON.stringify(vehicles));
      process.stderr.write(`done: ${vehicles.length} vehicles, ${vehicles.reduce((n, v) => n + v.messages.length, 0)} distinct messages\n`);
    },
  );

for (const [kind, what, topic] of [
  ['clicks', 'GA4 export rows (clicks) from a pool of users', 'click-events'],
  ['transactions', 'sales transactions: TXN-id, amount, naive UTC timestamp, store', 'transactions'],
  ['users', 'user registrations: randomuser.me responses of 1-3 users each', 'user-registrations'],
] as const) {
  generate
    .command(kind)
    .description(`${what}; publishes to the emulator when PUBSUB_EMULATOR_HOST is set`)
    .option('--count <n>', 'messages', positiveInt, 1000)
    .option('--rate <messages/s>', 'publishing rate (default: as fast as Pub/Sub takes them)', positive)
    .option('--duplicate-share <p>', 'share of messages published twice', share, 0)
    .option('--malformed-share <p>', 'share of malformed messages (truncated, wrong types, missing fields)', share, 0)
    .option('--project <id>', 'project id', process.env['GOOGLE_CLOUD_PROJECT'] ?? 'demo-speedcam')
    .option('--topic <name>', 'input topic', topic)
    .option('--emulator <host:port>', 'Pub/Sub emulator (default: $PUBSUB_EMULATOR_HOST; unset = real Pub/Sub)')
    .option('--manifest <file>', 'write what was sent as JSON: the distinct well-formed messages, and the duplicate and malformed counts')
    .option('--start <time>', 'replay history: event time of the first event (ISO 8601, or epoch ms); default: now', instant)
    .option(
      '--speed <x>',
      'replay speed: event time advances x times faster than publishing (with --rate: 1 message every x/rate s of event time)',
      positive,
      1,
    )
    .option(
      '--timezone <zone>',
      "transactions: the publisher's IANA time zone; its timestamps are local time without a zone, like datetime.now().isoformat()",
      'UTC',
    )
    .option('--results <n>', 'users: results per response (randomuser.me ?results=N; default 1-3)', positiveInt)
    .action(
      async (o: {
        count: number;
        rate?: number;
        duplicateShare: number;
        malformedShare: number;
        project: string;
        topic: string;
        emulator?: string;
        manifest?: string;
        start?: number;
        speed: number;
        timezone: string;
        results?: number;
      }) => {
        usePubSubEmulator(o.emulator);
        if (!IANAZone.isValidZone(o.timezone))
          throw new InvalidArgumentError(`--timezone ${o.timezone} is not an IANA time zone (e.g. Europe/Madrid)`);
        process.stderr.write(
          `publishing ${o.count} ${kind} messages to projects/${o.project}/topics/${o.topic}${o.start !== undefined ? ` from event time ${new Date(o.start).toISOString()} at ${o.speed}× speed` : ''}\n`,
        );
        const t0 = Date.now();
        const result = await generateEvents(new PubSub({ projectId: o.project }), {
          kind,
          count: o.count,
          rate: o.rate,
          eventTime: replayClock(o.start, o.speed, o.rate, t0),
          timezone: o.timezone,
          results: o.results,
          duplicateShare: o.duplicateShare,
          malformedShare: o.malformedShare,
          topic: o.topic,
          onProgress: (p) =>
            process.stderr.write(
              `${process.stderr.isTTY ? '\r' : ''}${p.sent}/${o.count} sent (${p.duplicates} duplicates, ${p.malformed} malformed)${process.stderr.isTTY ? '   ' : '\n'}`,
            ),
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        if (o.manifest) writeFileSync(o.manifest, JSON.stringify(result));
        process.stderr.write(
          `done: ${result.messages.length} distinct messages, ${result.duplicates} duplicates, ${result.malformed} malformed\n`,
        );
      },
    );
}

program
  .command('package')
  .description('stage the deployable source (compiled dist/, schemas/, lockfile) in .deploy/source for terraform or gcloud')
  .action(() => {
    packageSource(process.cwd(), defaultSource());
    process.stderr.write(`staged ${defaultSource()}\n`);
  });

program
  .command('terraform-catalog')
  .description(
    'write what Terraform reads of the declarations: terraform/functions.json (functions, scaling, grants, topics) and the declared keys of terraform/resources.json (Firestore TTLs and index exemptions, table layouts)',
  )
  .action(async () => {
    const { writeTerraformCatalog } = await import('./terraform-catalog.js');
    writeTerraformCatalog(dirname(repoPath('terraform/resources.json')));
    process.stderr.write('wrote terraform/functions.json and terraform/resources.json\n');
  });

program
  .command('config-doc')
  .description('rewrite the variables table of docs/configuration.md from the settings declarations (composed in shared/config.ts)')
  .action(async () => {
    const { writeConfigurationDoc } = await import('./config-doc.js');
    writeConfigurationDoc(repoPath('docs/configuration.md'));
    process.stderr.write('wrote docs/configuration.md\n');
  });

program
  .command('deploy')
  .description(
    'create everything Terraform creates, with gcloud and bq: topics, push subscriptions, Firestore TTLs and index exemptions, BigQuery tables and views, buckets, service accounts and grants, functions, scheduler, log exclusion, metrics, dashboard, alerts',
  )
  .requiredOption('--project <id>', 'Google Cloud project')
  .option('--region <region>', 'region', 'us-east1')
  .option('--prefix <name>', 'prefix of function, subscription, service account and bucket names (1-16 of a-z0-9-)', 'speedcam')
  .option('--firestore-database <mode>', '"create" the (default) database, or use the "existing" one', 'create')
  .option('--firestore-location <loc>', 'Firestore location', 'nam5')
  .option('--bigquery-location <loc>', 'BigQuery location', 'US')
  .option(
    '--env <KEY=VALUE>',
    'extra function environment, repeatable (Terraform: function_env)',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .option(
    '--alert-channel <id>',
    'notification channel of the alert policies, repeatable',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .option(
    '--reviewer <member>',
    'who may use the review page (roles/run.invoker on the review function): user:<e-mail>, group:<e-mail>, repeatable (Terraform: reviewers)',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .option(
    '--pipelines <json>',
    'SPEEDCAM_PIPELINES for the functions, e.g. \'{"transactions":{"event_time":"payload","timezone":"Europe/Madrid"}}\' (default: $SPEEDCAM_PIPELINES, else the seeds\' publish-time windows)',
    process.env['SPEEDCAM_PIPELINES'],
  )
  .option(
    '--cars-api <url>',
    'SPEEDCAM_CARS_API: the cars API that gives a vehicle\'s photo (GET <url>?vehicle_id=…&radar_id=… → {"image_url": …}) (default: $SPEEDCAM_CARS_API, else none)',
    process.env['SPEEDCAM_CARS_API'],
  )
  .option('--dry-run', 'print the exact commands as a bash script, run nothing')
  .action(
    async (o: {
      project: string;
      region: string;
      prefix: string;
      firestoreDatabase: string;
      firestoreLocation: string;
      bigqueryLocation: string;
      env: string[];
      alertChannel: string[];
      reviewer: string[];
      pipelines?: string;
      carsApi?: string;
      dryRun?: boolean;
    }) => {
      if (o.firestoreDatabase !== 'create' && o.firestoreDatabase !== 'existing')
        throw new Error(`--firestore-database: "create" or "existing" (got "${o.firestoreDatabase}")`);
      const env = Object.fromEntries(
        o.env.map((kv) => {
          const i = kv.indexOf('=');
          if (i <= 0) throw new Error(`--env: KEY=VALUE (got "${kv}")`);
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
      );
      if (o.pipelines) env['SPEEDCAM_PIPELINES'] = pipelinesEnv(o.pipelines);
      if (o.carsApi) env['SPEEDCAM_CARS_API'] = carsApiEnv(o.carsApi);
      packageSource(process.cwd(), defaultSource());
      const zip = resolve('.deploy/source.zip');
      const sha = await zipSource(defaultSource(), zip);
      // The functions' own configuration (their extra environment included) names the dataset and topics the deploy creates.
      const steps = deploySteps(
        {
          project: o.project,
          region: o.region,
          prefix: o.prefix,
          firestoreDatabase: o.firestoreDatabase,
          firestoreLocation: o.firestoreLocation,
          bigqueryLocation: o.bigqueryLocation,
          sourceZip: zip,
          sourceSha256: sha,
          env,
          alertChannels: o.alertChannel,
          filesDir: resolve('.deploy/gcloud'),
          reviewers: checkReviewers(o.reviewer),
        },
        loadConfig(env),
      );
      if (o.dryRun) {
        process.stdout.write(['set -euo pipefail', ...steps.map(render)].join('\n') + '\n');
        return;
      }
      runSteps(steps, (l) => process.stderr.write(l + '\n'));
    },
  );

program
  .command('query')
  .description('run SQL on the local warehouse (tables: speedcam.<table>); works while the stack runs')
  .argument('<sql>', 'e.g. "SELECT count(*) FROM speedcam.vehicle_passages"')
  .option('--json', 'print the rows as a JSON array (default: a table)')
  .option('--db <file>', 'warehouse file', '.speedcam/warehouse.duckdb')
  .action(async (sql: string, o: { json?: boolean; db: string }) => {
    if (!existsSync(o.db))
      throw new InvalidArgumentError(`no local warehouse at ${o.db}: run "npm run stack" or "npm run demo" first, or pass --db`);
    const wh = await DuckDbWarehouse.open(o.db, { readOnly: true });
    try {
      const rows = await wh.query(sql).catch(async (err: unknown) => {
        const tables = await wh
          .query("SELECT table_schema || '.' || table_name AS t FROM information_schema.tables ORDER BY t")
          .catch(() => []);
        throw new Error(
          `${String(err instanceof Error ? err.message : err).split('\n')[0]} (tables: ${tables.map((r) => r['t']).join(', ')})`,
        );
      });
      if (o.json) process.stdout.write(JSON.stringify(rows) + '\n');
      else console.table(rows);
    } finally {
      await wh.close();
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`speedcam: ${msg.split('\n')[0]}\n`);
  process.exit(1);
});
