import { DEPLOYED_ENV, runChildScript } from './child-process.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { FUNCTIONS } from '../functions/catalog.js';

/**
 * Cold start per deployed function, as Cloud Run starts it: a fresh node process with FUNCTION_TARGET
 * set and the production configuration, importing the deployed entry module (dist/functions/index.js)
 * and building the function's runtime, as its first request does. No network is touched. Reports wall
 * time and process CPU time of each phase (median of --runs), the files loaded and which of the heavy
 * packages came in. `npm run bench:cold-start [-- --runs 5] [--json]`.
 */
const HEAVY = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  'onnxruntime-node',
  'sharp',
  '@google-cloud/vision',
  '@google-cloud/bigquery',
  '@google-cloud/storage',
  '@google-cloud/firestore',
  '@google-cloud/pubsub',
  '@google-cloud/functions-framework',
];

const here = dirname(fileURLToPath(import.meta.url));
const entry = pathToFileURL(join(here, '..', 'functions', 'index.js')).href;
const runtimeModule = pathToFileURL(join(here, '..', 'shared', 'runtime.js')).href;
const catalogModule = pathToFileURL(join(here, '..', 'functions', 'catalog.js')).href;
const registerModule = pathToFileURL(join(here, '..', 'functions', 'register.js')).href;

/** What the child process runs: import, build the runtime the handler uses, report. */
const CHILD = `
import { createRequire } from 'node:module';
const cpu0 = process.cpuUsage(); const t0 = performance.now();
await import(${JSON.stringify(entry)});
const t1 = performance.now(); const cpu1 = process.cpuUsage(cpu0);
const { runtime } = await import(${JSON.stringify(runtimeModule)});
const rt = runtime();
// The target's handler, as its first request builds it (the one its declaration names), short of the network.
const { FUNCTIONS } = await import(${JSON.stringify(catalogModule)});
const { handlerAt } = await import(${JSON.stringify(registerModule)});
handlerAt(rt, FUNCTIONS.find((f) => f.entryPoint === process.env.FUNCTION_TARGET).handler);
const t2 = performance.now(); const cpu2 = process.cpuUsage(cpu0);
// What the first request adds: the clients a function creates on first use (no call is made).
const require = createRequire(import.meta.url);
for (const m of JSON.parse(process.env.FIRST_USE || '[]')) m.startsWith('.') ? await import(new URL(m, ${JSON.stringify(runtimeModule)}).href) : require(m);
const t3 = performance.now(); const cpu3 = process.cpuUsage(cpu0);
const files = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ importMs: t1 - t0, importCpuMs: (cpu1.user + cpu1.system) / 1000, readyMs: t2 - t0, readyCpuMs: (cpu2.user + cpu2.system) / 1000, firstUseMs: t3 - t2, firstUseCpuMs: (cpu3.user + cpu3.system - cpu2.user - cpu2.system) / 1000, files }));
process.exit(0);
`;

/** Loaded on a function's first request (runtime.ts creates these on first use), in Google Cloud's configuration. */
const FIRST_USE: Record<string, string[]> = {
  fines: ['@google-cloud/storage', 'onnxruntime-node', './platform/ocr/paddle-text-detector.js'],
  flush: ['@google-cloud/bigquery', './platform/bigquery-warehouse.js'],
  review: ['@google-cloud/storage', 'google-auth-library', './review/http.js', './review/auth.js', './fines/evidence-photo.js'],
};

interface Sample {
  firstUseMs: number;
  firstUseCpuMs: number;
  importMs: number;
  importCpuMs: number;
  readyMs: number;
  readyCpuMs: number;
  files: string[];
}

function sample(target: string): Promise<Sample> {
  const env = {
    FUNCTION_TARGET: target,
    FIRST_USE: JSON.stringify(FIRST_USE[FUNCTIONS.find((f) => f.entryPoint === target)!.name] ?? []),
    GOOGLE_CLOUD_PROJECT: 'demo-cold-start',
    ...DEPLOYED_ENV,
    SPEEDCAM_OCR: 'model',
  };
  return runChildScript<Sample>(target, CHILD, env, 64 * 1024 * 1024);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function coldStart(runs: number) {
  const rows = [];
  for (const spec of FUNCTIONS) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) samples.push(await sample(spec.entryPoint));
    const files = samples[0]!.files;
    const heavy = HEAVY.filter((p) => files.some((f) => f.includes(`/node_modules/${p}/`)));
    rows.push({
      function: spec.name,
      import_ms: Math.round(median(samples.map((s) => s.importMs))),
      import_cpu_ms: Math.round(median(samples.map((s) => s.importCpuMs))),
      ready_ms: Math.round(median(samples.map((s) => s.readyMs))),
      ready_cpu_ms: Math.round(median(samples.map((s) => s.readyCpuMs))),
      first_request_extra_ms: Math.round(median(samples.map((s) => s.firstUseMs))),
      first_request_extra_cpu_ms: Math.round(median(samples.map((s) => s.firstUseCpuMs))),
      cjs_files: files.length,
      heavy_packages: heavy.map((p) => p.replace('@google-cloud/', 'gc/')),
    });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const rows = await coldStart(runs);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else {
    process.stdout.write(`cold start per function (median of ${runs} fresh processes; node ${process.version})\n`);
    process.stdout.write(
      'function              import ms  import CPU ms  ready ms  ready CPU ms  first use ms (CPU)  CJS files  heavy packages loaded (by the first request)\n',
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.function.padEnd(22)}${String(r.import_ms).padStart(9)}${String(r.import_cpu_ms).padStart(15)}${String(r.ready_ms).padStart(10)}${String(r.ready_cpu_ms).padStart(14)}${`${r.first_request_extra_ms} (${r.first_request_extra_cpu_ms})`.padStart(20)}${String(r.cjs_files).padStart(11)}  ${r.heavy_packages.join(', ')}\n`,
      );
    }
  }
}
