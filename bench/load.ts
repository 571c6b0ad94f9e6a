import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchArgs, STACK_OPTIONS } from './options.js';
import { PubSub, type Message, type Topic } from '@google-cloud/pubsub';
import type { Radar } from '../shared/speed/radar.js';
import { haversineKm } from '../shared/core/geo.js';
import { ensureEmulator, freePort, type Emulator } from '../cli/emulators.js';
import { shortVehicleId, spotSpeedVehicleMessages } from '../cli/generators/traffic.js';
import { startStack, type Stack } from '../cli/stack.js';
import type { DispatchStrategy } from '../cli/dispatcher.js';
import { renderTable, type CellMeasurement, type Ops } from './load-report.js';

/**
 * `npm run bench:load`: the observation function under the seed format's own load, as Cloud Run
 * delivers it: the seeds' rate (the radar generator: 3 threads × 5 vehicles × 10 observations, then a
 * 1-10 s pause, about 2.7 vehicles/s) and 10× (ten such generators), each with 1, 4 and 16 instances
 * behind a dispatcher that spreads deliveries at random. One table, a column per cell.
 *
 * Every cell gets its own stack (own project on the same emulators) and the same pseudo-random
 * sequence of pauses and speeds, starts with a warm-up that is not counted, and ends when every
 * vehicle is decided; then the flush exports the passages and its operations are counted apart.
 */
const args = benchArgs({
  seconds: '60',
  rates: '1,10',
  instances: '1,4,16',
  dispatch: 'random',
  quick: false,
  'drain-seconds': '120',
  json: undefined,
  ...STACK_OPTIONS,
});
const quick = args.quick;
const SECONDS = quick ? 4 : Number(args.seconds);
const RATES = (quick ? '1' : args.rates).split(',').map(Number);
const INSTANCES = (quick ? '1,2' : args.instances).split(',').map(Number);
const DISPATCH = args.dispatch as DispatchStrategy;
if (!['random', 'round-robin'].includes(DISPATCH)) throw new Error(`--dispatch: "${DISPATCH}" is not random or round-robin`);
for (const n of [...RATES, ...INSTANCES, SECONDS]) if (!(n > 0)) throw new Error('--seconds, --rates and --instances take numbers > 0');
const log = (s: string) => process.stderr.write(s + '\n');
const dataDir = resolve(args['data-dir'] ?? '.speedcam/load');
mkdirSync(dataDir, { recursive: true });
const port = async (text: string) => (Number(text) > 0 ? Number(text) : freePort());

/** Mulberry32: the same pauses and speeds in every cell of a rate. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SentVehicle {
  vehicleId: string;
  speeds: number[];
  points: [number, number][];
}

/**
 * The radar producer's run_generator: 3 threads of 5 vehicles, each vehicle's 10 observations published one after
 * the other (the client batches them, as Python's does within 10 ms), then sleep uniform(1, 10) s.
 * `generators` of them run side by side (10× = ten generators). Publishes until `seconds` have passed.
 */
async function spotSpeedGenerators(
  topic: Topic,
  radar: Radar,
  generators: number,
  seconds: number,
  random: () => number,
  sent: SentVehicle[],
): Promise<void> {
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: generators }, async () => {
      while (Date.now() < end) {
        const publishes: Promise<string>[] = [];
        for (let thread = 0; thread < 3; thread++) {
          for (let v = 0; v < 5; v++) {
            const msgs = spotSpeedVehicleMessages(radar, random, 0.25, shortVehicleId());
            sent.push({
              vehicleId: msgs.vehicleId,
              speeds: msgs.speeds,
              points: msgs.messages.map((m) => (JSON.parse(m) as { location: [number, number] }).location),
            });
            for (const m of msgs.messages) publishes.push(topic.publishMessage({ data: Buffer.from(m) }));
          }
        }
        await Promise.all(publishes);
        const pause = 1000 + random() * 9000;
        if (Date.now() + pause >= end) break;
        await new Promise((r) => setTimeout(r, pause));
      }
    }),
  );
}

/** Independent computation of a seed vehicle's average speed (space-mean over the pair means). */
function expectedSpeed(v: SentVehicle): number {
  let d = 0;
  let h = 0;
  for (let i = 0; i + 1 < v.speeds.length; i++) {
    const seg = haversineKm(v.points[i]!, v.points[i + 1]!);
    d += seg;
    h += seg / ((v.speeds[i]! + v.speeds[i + 1]!) / 2);
  }
  return d / h;
}

const CLK_TCK = 100;
/** CPU time (user + system) of every process in a process group, from /proc, ms; null if unknown. */
function groupCpuMs(pgid: number | null): number | null {
  if (pgid === null) return null;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* the process ended meanwhile */
    }
  }
  return (ticks * 1000) / CLK_TCK;
}

const ZERO: Ops = { reads: 0, writes: 0, deletes: 0, transactions: 0 };
const addOps = (a: Ops, b: Ops): Ops => ({
  reads: a.reads + b.reads,
  writes: a.writes + b.writes,
  deletes: a.deletes + b.deletes,
  transactions: a.transactions + b.transactions,
});
const subOps = (a: Ops, b: Ops): Ops => ({
  reads: a.reads - b.reads,
  writes: a.writes - b.writes,
  deletes: a.deletes - b.deletes,
  transactions: a.transactions - b.transactions,
});

/** The observation function's instances, summed: ops, CPU, busy time, requests (killed processes included). */
async function functionTotals(stack: Stack) {
  const stats = (await stack.instanceStats())['vehicleObservations'] ?? [];
  let ops = ZERO;
  let cpuMs = 0;
  const byKind: Record<string, Ops> = {};
  for (const s of stats) {
    for (const r of [...s.earlier, ...(s.report ? [s.report] : [])]) {
      ops = addOps(ops, r.ops);
      cpuMs += r.cpuMs;
      for (const [k, o] of Object.entries(r.passageOpsByKind)) byKind[k] = addOps(byKind[k] ?? ZERO, o);
    }
  }
  return {
    ops,
    cpuMs,
    byKind,
    durations: stats.map((s) => s.durationsMs),
    busyMs: stats.map((s) => s.busyMs),
    busyRoundedMs: stats.map((s) => s.busyRoundedMs),
    requests: stats.reduce((a, s) => a + s.requests, 0),
    failed: stats.reduce((a, s) => a + s.failed, 0),
  };
}

async function runCell(
  emulators: { pubsub: Emulator; firestore: Emulator },
  functionsPort: number,
  rate: number,
  instances: number,
  cell: number,
): Promise<CellMeasurement> {
  const project = `demo-load-${cell}-${Date.now()}`;
  const stack = await startStack({
    project,
    pubsubPort: Number(emulators.pubsub.host.split(':')[1]),
    firestorePort: Number(emulators.firestore.host.split(':')[1]),
    functionsPort,
    flushIntervalMs: 0,
    dataDir: join(dataDir, `cell-${cell}`),
    // The seed format's fines are not part of this bench (only the observation function runs).
    carsApi: false,
    only: ['vehicleObservations'],
    instances: { vehicleObservations: instances },
    dispatch: DISPATCH,
    echoSeverity: 'ERROR',
    // Production log level in the function processes (their CPU is measured); decisions exportable 1 s after.
    env: { LOG_LEVEL: 'INFO', SPEEDCAM_EXPORT_GRACE_S: '1' },
  });
  current = stack;
  let clean = false;
  const ps = new PubSub({ projectId: project });
  try {
    const radar = stack.runtime.config.radars.get(stack.runtime.config.defaultRadarId)!;
    const decisions = new Map<string, { at: number; body: Record<string, unknown> }[]>();
    for (const topic of [stack.info.topics.nonFinedVehicles, stack.info.topics.speedingVehicles]) {
      const [sub] = await ps.topic(topic).createSubscription(`load-${topic}`);
      sub.on('message', (m: Message) => {
        const body = JSON.parse(m.data.toString()) as Record<string, unknown>;
        const id = String(body['vehicle_id']);
        decisions.set(id, [...(decisions.get(id) ?? []), { at: Date.now(), body }]);
        m.ack();
      });
    }
    const topic = ps.topic(stack.info.topics.vehicleObservations, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
    const allDecided = async (ids: readonly string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !decisions.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };

    // Warm-up, not counted: every instance has served requests (JIT, Firestore channel) before measuring.
    const warm: SentVehicle[] = [];
    await spotSpeedGenerators(topic, radar, Math.max(1, Math.ceil(instances / 8)), 0.001, prng(999), warm);
    await allDecided(
      warm.map((v) => v.vehicleId),
      60_000,
    );

    const before = await functionTotals(stack);
    const cpu0 = { fs: groupCpuMs(emulators.firestore.pid), ps: groupCpuMs(emulators.pubsub.pid), bench: process.cpuUsage() };
    const sent: SentVehicle[] = [];
    const t0 = Date.now();
    log(`  ${rate}× · ${instances} instance(s): publishing for ${SECONDS} s…`);
    await spotSpeedGenerators(topic, radar, rate, SECONDS, prng(rate * 7919), sent);
    await allDecided(
      sent.map((v) => v.vehicleId),
      Number(args['drain-seconds']) * 1000,
    );
    const ids = sent.map((v) => v.vehicleId);
    const lastDecision = Math.max(t0, ...ids.flatMap((id) => (decisions.get(id) ?? []).map((d) => d.at)));
    const after = await functionTotals(stack);
    const benchCpu = process.cpuUsage(cpu0.bench);
    const cpu1 = { fs: groupCpuMs(emulators.firestore.pid), ps: groupCpuMs(emulators.pubsub.pid) };

    // The flush exports the passages (its reads and writes per observation are counted apart).
    // Its fixed cost per run (empty scans, the lease) is measured by one more run with nothing to do,
    // and taken out: in Google Cloud the flush runs once a minute whatever the load.
    const flushBefore = stack.runtime.ops.snapshot();
    await new Promise((r) => setTimeout(r, 1500));
    let runs = 0;
    for (; runs < 20; runs++) {
      const r = await stack.flush();
      if (!r.more && !r.skipped) break;
    }
    const flushWork = subOps(stack.runtime.ops.snapshot(), flushBefore);
    const idleBefore = stack.runtime.ops.snapshot();
    await stack.flush();
    const idle = subOps(stack.runtime.ops.snapshot(), idleBefore);
    const flushOps = subOps(flushWork, {
      reads: idle.reads * (runs + 1),
      writes: idle.writes * (runs + 1),
      deletes: idle.deletes * (runs + 1),
      transactions: idle.transactions * (runs + 1),
    });

    let wrong = 0;
    const wrongDetails: Record<string, unknown>[] = [];
    let duplicates = 0;
    const latencies: number[] = [];
    for (const v of sent) {
      const got = decisions.get(v.vehicleId) ?? [];
      if (got.length === 0) continue;
      duplicates += got.length - 1;
      const d = got[0]!;
      if (Math.abs(Number(d.body['avg_speed']) - expectedSpeed(v)) > 1e-6 || d.body['observations'] !== 10) {
        wrong++;
        wrongDetails.push({ vehicle_id: v.vehicleId, expected_avg_speed: expectedSpeed(v), ...d.body });
      }
      latencies.push(d.at - Date.parse(String(d.body['last_published'])));
    }
    clean = wrong === 0 && ids.every((id) => decisions.has(id));
    // What failed requests said (the function processes log to the stack log): kinds and counts.
    const errors: Record<string, number> = {};
    for (const line of readFileSync(stack.info.log, 'utf8').split('\n')) {
      const m = /(\w*Error[^\n]{0,100})/.exec(line);
      if (m && !line.includes('"severity":"INFO"') && !line.includes('"severity":"DEBUG"')) errors[m[1]!] = (errors[m[1]!] ?? 0) + 1;
    }
    return {
      rateMultiplier: rate,
      instances,
      dispatch: DISPATCH,
      vehicles: sent.length,
      observations: sent.length * 10,
      decided: ids.filter((id) => decisions.has(id)).length,
      wrong,
      duplicateDecisions: duplicates,
      latenciesMs: latencies,
      windowMs: lastDecision - t0,
      functionOps: subOps(after.ops, before.ops),
      functionOpsByKind: Object.fromEntries(Object.entries(after.byKind).map(([k, o]) => [k, subOps(o, before.byKind[k] ?? ZERO)])),
      requestMs: after.durations.flatMap((d, i) => d.slice(before.durations[i]!.length)),
      flushOps,
      functionCpuMs: after.cpuMs - before.cpuMs,
      busyMs: after.busyMs.map((b, i) => b - before.busyMs[i]!),
      busyRoundedMs: after.busyRoundedMs.map((b, i) => b - before.busyRoundedMs[i]!),
      requests: after.requests - before.requests,
      failedRequests: after.failed - before.failed,
      firestoreEmulatorCpuMs: cpu0.fs === null || cpu1.fs === null ? null : cpu1.fs - cpu0.fs,
      pubsubEmulatorCpuMs: cpu0.ps === null || cpu1.ps === null ? null : cpu1.ps - cpu0.ps,
      benchProcessCpuMs: (benchCpu.user + benchCpu.system) / 1000,
      wrongDetails,
      errors,
      undecided: sent.filter((v) => !decisions.has(v.vehicleId)).map((v) => v.vehicleId),
    };
  } finally {
    await ps.close().catch(() => undefined);
    current = null;
    await stack.stop();
    // A cell that went wrong keeps its logs (cell-N/stack.log) for a look.
    if (clean) rmSync(join(dataDir, `cell-${cell}`), { recursive: true, force: true });
  }
}

const [pubsubPort, firestorePort] = await Promise.all([port(args['pubsub-port']!), port(args['firestore-port']!)]);
const functionsPort = Number(args['functions-port']);
log(
  `load bench: seed format, rates ${RATES.map((r) => `${r}×`).join(', ')} of the radar generator, ${INSTANCES.join(', ')} instance(s), dispatch ${DISPATCH}, ${SECONDS} s each${quick ? ' (quick)' : ''}`,
);
const [pubsub, firestore] = await Promise.all([
  ensureEmulator('pubsub', pubsubPort, { logDir: dataDir }),
  ensureEmulator('firestore', firestorePort, { logDir: dataDir }),
]);
// Ctrl-C: stop what this run started (the cell's stack and its processes, the emulators) before leaving.
let current: Stack | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping…`);
    void Promise.allSettled([current?.stop(), pubsub.stop(), firestore.stop()]).then(() => process.exit(130));
  });
}
const cells: CellMeasurement[] = [];
try {
  let cell = 0;
  for (const rate of RATES) for (const n of INSTANCES) cells.push(await runCell({ pubsub, firestore }, functionsPort, rate, n, cell++));
} finally {
  await Promise.all([pubsub.stop(), firestore.stop()]);
}
const table = renderTable(cells);
process.stdout.write(table + '\n');
const out = args.json ?? join(dataDir, 'bench-load.json');
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, dispatch: DISPATCH, cells }, null, 2));
log(`(measurements in ${out})`);
process.exit(cells.every((c) => c.decided === c.vehicles && c.wrong === 0) ? 0 : 1);
