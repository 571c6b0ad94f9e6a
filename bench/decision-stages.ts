import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDbWarehouse } from '../shared/platform/duckdb-warehouse.js';

/**
 * Where a demo run's decision latency went: reads `<data-dir>/stack.log` (the speed check's DEBUG `passage
 * timing` lines, the demo's `event loop delay` lines) and `<data-dir>/warehouse.duckdb` (read-only), and
 * prints p50/p95 per stage for timed-format passages (method entry_exit) and the others, and the overall
 * latency per format from the warehouse (decided_at − last_published, what the demo reports).
 *
 *   node dist/bench/decision-stages.js .speedcam/lat
 */
const dataDir = resolve(process.argv[2] ?? '.speedcam');

interface Timing {
  time: string;
  path: 'whole' | 'sweep';
  method: string;
  arrived: number | null;
  commit_start: number | null;
  appended: number | null;
  episode_start: number | null;
  read: number | null;
  sweep_commit_start: number | null;
  decided: number;
  committed: number;
  published: number;
  attempts: number | null;
  message_id: string | null;
}

const pct = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const fmt = (xs: readonly number[]) => (xs.length === 0 ? '–' : `${pct(xs, 0.5)} / ${pct(xs, 0.95)} (n=${xs.length})`);

const lines = readFileSync(join(dataDir, 'stack.log'), 'utf8')
  .split('\n')
  .filter((l) => l.includes('"passage timing"') || l.includes('"event loop delay"') || l.includes('"push relay delivered"'))
  .map((l) => JSON.parse(l) as Record<string, unknown>);
const timings = lines.filter((l) => l['message'] === 'passage timing') as unknown as Timing[];
const loop = lines.filter((l) => l['message'] === 'event loop delay');
/** the push relay's delivery of each message: ms after its publish that the relay received and posted it */
const relay = new Map(
  lines
    .filter((l) => l['message'] === 'push relay delivered')
    .map((l) => [String(l['message_id']), l as { received: number; posted: number }]),
);

/** A stage's duration: the difference of two stage offsets, when both are known. */
const stage = (rows: readonly Timing[], from: (t: Timing) => number | null, to: (t: Timing) => number | null) =>
  rows.flatMap((t) => {
    const a = from(t);
    const b = to(t);
    return a === null || b === null ? [] : [b - a];
  });

const groups: [string, Timing[]][] = [
  ['timed (entry_exit)', timings.filter((t) => t.method === 'entry_exit')],
  ['seed format', timings.filter((t) => t.method !== 'entry_exit')],
];
for (const [name, rows] of groups) {
  if (rows.length === 0) continue;
  const sweep = rows.filter((t) => t.path === 'sweep');
  const fresh = sweep.filter((t) => t.appended !== null && t.episode_start !== null && t.episode_start >= t.appended);
  console.log(`\n${name}: ${rows.length} decisions (${rows.length - sweep.length} whole, ${sweep.length} by the sweep)`);
  console.log('  stage (ms, p50 / p95)');
  const zero = () => 0;
  const via = (t: Timing) => (t.message_id === null ? undefined : relay.get(t.message_id));
  const whole = rows.filter((t) => t.path === 'whole');
  type At = (t: Timing) => number | null;
  const stages: [string, readonly Timing[], At, At][] = [
    ['publish → arrival (delivery)', rows, zero, (t) => t.arrived],
    ['  Pub/Sub → the relay received it', rows, zero, (t) => via(t)?.received ?? null],
    ['  relay: received → posted', rows, (t) => via(t)?.received ?? null, (t) => via(t)?.posted ?? null],
    ['  posted → the handler has it (HTTP)', rows, (t) => via(t)?.posted ?? null, (t) => t.arrived],
    ['arrival → commit start (group waits)', rows, (t) => t.arrived, (t) => t.commit_start],
    ['whole: commit start → decided', whole, (t) => t.commit_start, (t) => t.decided],
    ['sweep: log append', sweep, (t) => t.commit_start, (t) => t.appended],
    ['sweep: appended → read by the episode', sweep, (t) => t.appended, (t) => t.read],
    [`  of which a new episode (${fresh.length}): appended → episode start`, fresh, (t) => t.appended, (t) => t.episode_start],
    ['sweep: read → commit start', sweep, (t) => t.read, (t) => t.sweep_commit_start],
    ['sweep: commit start → decided (tx reads)', sweep, (t) => t.sweep_commit_start, (t) => t.decided],
    ['decided → committed', rows, (t) => t.decided, (t) => t.committed],
    ['committed → published (and marked)', rows, (t) => t.committed, (t) => t.published],
  ];
  for (const [label, of, from, to] of stages) console.log(`  ${label.padEnd(44)} ${fmt(stage(of, from, to))}`);
  console.log(`  total: publish → decided                 ${fmt(rows.map((t) => t.decided))}`);
  const attempts = sweep.map((t) => t.attempts ?? 1);
  console.log(`  sweep commits' attempts: max ${Math.max(0, ...attempts)}, retried ${attempts.filter((a) => a > 1).length}`);
}

if (loop.length > 0) {
  const p99 = loop.map((l) => Number(l['p99_ms']));
  const firstTimed = timings.find((t) => t.method === 'entry_exit')?.time;
  const inTimed = firstTimed ? loop.filter((l) => String(l['time']) >= firstTimed) : [];
  console.log(`\nevent loop delay (stack process), per second: p99 median ${pct(p99, 0.5)} ms, worst ${Math.max(...p99)} ms`);
  if (inTimed.length > 0)
    console.log(
      `  from the first timed decision on: p99 median ${pct(
        inTimed.map((l) => Number(l['p99_ms'])),
        0.5,
      )} ms, worst ${Math.max(...inTimed.map((l) => Number(l['max_ms'])))} ms`,
    );
}

const wh = await DuckDbWarehouse.open(join(dataDir, 'warehouse.duckdb'), { readOnly: true });
try {
  const rows = await wh.query(
    'SELECT method, epoch_ms(decided_at) - epoch_ms(last_published) AS ms FROM speedcam.vehicle_passages ORDER BY decided_at',
  );
  const ms = (f: (m: string) => boolean) => rows.filter((r) => f(String(r['method']))).map((r) => Number(r['ms']));
  console.log('\nwarehouse: decided_at − last_published, ms p50 / p95');
  console.log(`  timed (entry_exit)  ${fmt(ms((m) => m === 'entry_exit'))}`);
  console.log(`  seed format         ${fmt(ms((m) => m !== 'entry_exit'))}`);
  console.log(`  all                 ${fmt(ms(() => true))}`);
} finally {
  await wh.close();
}
