import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { DuckDbWarehouse } from '../shared/adapters/duckdb-warehouse.js';
import { haversineKm } from '../shared/geo.js';
import { FUNCTIONS } from '../functions/catalog.js';
import { runEventGenerator, runGenerator, type DemoOptions } from '../cli/demo.js';
import { startStack } from '../cli/stack.js';

/**
 * `npm run chaos`: the whole local stack under faults, then every output compared with an independent
 * computation. Every function runs in its own process; processes are killed (SIGKILL) and restarted
 * at random; the adapters fail transiently at random points (SPEEDCAM_FAULTS); the relay replays
 * delivered messages with the same messageId. Prints what was sent and injected, and the differences.
 */
const { values: args } = parseArgs({ options: { vehicles: { type: 'string', default: '150' }, seconds: { type: 'string', default: '300' } } });
const log = (s: string) => process.stderr.write(s + '\n');
const FAULTS = [
  'observation.beforeCommit:0.02', 'observation.afterCommit:0.03', 'decision.afterPublish:0.03', 'deadLetter.beforePublish:0.02',
  'deadLetterSink.beforeWrite:0.03', 'fine.beforeRecord:0.03', 'fine.afterRecord:0.03', 'fine.afterPublish:0.03',
  'window.beforeCommit:0.02', 'window.afterCommit:0.03', 'window.afterWarehouse:0.1', 'window.afterMark:0.1', 'flush.afterWarehouse:0.1',
].join(',');

const dataDir = mkdtempSync(join(tmpdir(), 'speedcam-chaos-'));
const stack = await startStack({
  project: `demo-chaos-${Date.now()}`,
  functionsPort: 0,
  flushIntervalMs: 1000,
  dataDir,
  isolate: 'all',
  replayShare: 0.05,
  echoSeverity: 'ERROR',
  env: {
    SPEEDCAM_FAULTS: FAULTS,
    SPEEDCAM_WINDOW_LATENESS_S: '30',
    // the independent computation below windows on the events' own times
    SPEEDCAM_PIPELINES: JSON.stringify({ clicks: { event_time: 'payload' }, transactions: { event_time: 'payload' } }),
    SPEEDCAM_SECTION_TRAFFIC_LATENESS_S: '45',
    SPEEDCAM_EXPORT_GRACE_S: '3',
    // A killed flush must not hold the lease for long.
    SPEEDCAM_FLUSH_LEASE_S: '8',
  },
});
const opts: DemoOptions = { seedVehicles: 0, timedVehicles: 0, rate: 0, timeoutMs: 0, dataDir, log };
const { info } = stack;
const crashes: string[] = [];
let stopCrashing = false;
try {
  // Watch the topics: decisions and fines, by id (repeats of one id are the documented at-least-once).
  const ps = new PubSub({ projectId: info.project });
  const seen = new Map<string, number>();
  for (const topic of [info.topics.nonFinedVehicles, info.topics.speedingVehicles, info.topics.fineNotifications]) {
    const [sub] = await ps.topic(topic).createSubscription(`chaos-${topic}`);
    sub.on('message', (m: Message) => {
      const id = `${topic}|${m.attributes['fine_id'] ?? m.attributes['passage_id']}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      m.ack();
    });
  }

  // Kill a function's process every 1-2.5 s (each function in turn, in a shuffled order), down 0.3-2 s.
  const crasher = (async () => {
    let order: string[] = [];
    while (!stopCrashing) {
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1500));
      if (stopCrashing) break;
      if (order.length === 0) order = FUNCTIONS.map((f) => f.entryPoint).sort(() => Math.random() - 0.5);
      const victim = order.pop()!;
      crashes.push(victim);
      await stack.crashFunction(victim, 300 + Math.random() * 1700).catch((err: unknown) => log(`restart of ${victim} failed: ${String(err)}`));
    }
  })();

  const vehicles = Number(args.vehicles);
  log(`chaos: ${vehicles} seed vehicles, ${Math.round(vehicles / 4)} timed, 1,000 clicks, 500 transactions, 40 registrations; crashes every 2-5 s; faults ${FAULTS}`);
  const [seed, timed, clicks, transactions, users] = await Promise.all([
    runGenerator(opts, info, 'seed', vehicles, 8, 'speedcam-captures'),
    runGenerator(opts, info, 'timed', Math.round(vehicles / 4), 2, 'speedcam-captures'),
    runEventGenerator(opts, info, 'clicks', 1000, 60),
    runEventGenerator(opts, info, 'transactions', 500, 30),
    runEventGenerator(opts, info, 'users', 40, 3),
  ]);
  const sentAt = Date.now();
  log('all sent; waiting for every output (crashes go on for 30 s more)…');
  await new Promise((r) => setTimeout(r, 30_000));
  stopCrashing = true;
  await crasher;

  // Independent computation of what must come out.
  const radar = stack.runtime.config.radars.get(stack.runtime.config.defaultRadarId)!;
  const expectedSpeed = new Map<string, number>();
  for (const v of seed) {
    const obs = v.messages.map((m) => JSON.parse(m) as { speed: number; location: [number, number] });
    let d = 0;
    let h = 0;
    for (let i = 0; i + 1 < obs.length; i++) {
      const seg = haversineKm(obs[i]!.location, obs[i + 1]!.location);
      d += seg;
      h += seg / ((obs[i]!.speed + obs[i + 1]!.speed) / 2);
    }
    expectedSpeed.set(v.vehicleId, d / h);
  }
  for (const v of timed) {
    const [entry, exit] = v.messages.map((m) => Date.parse((JSON.parse(m) as { timestamp: string }).timestamp));
    expectedSpeed.set(v.vehicleId, radar.lengthKm / ((exit! - entry!) / 3_600_000));
  }
  const expectedFines = [...expectedSpeed.values()].filter((s) => s > radar.speedLimitKmh + radar.toleranceKmh).length;
  const clickKeys = new Map<string, number>();
  for (const m of clicks.messages) {
    const r = JSON.parse(m) as { user_pseudo_id: string; event_timestamp: number };
    const k = `${Math.floor(r.event_timestamp / 1000 / 60_000) * 60_000}|${r.user_pseudo_id}`;
    clickKeys.set(k, (clickKeys.get(k) ?? 0) + 1);
  }
  const txCents = new Map<number, number[]>();
  for (const m of transactions.messages) {
    const t = JSON.parse(m) as { amount: number; timestamp: string };
    const w = Math.floor(Date.parse(t.timestamp.slice(0, 23) + 'Z') / 30_000) * 30_000;
    txCents.set(w, [...(txCents.get(w) ?? []), Math.round(t.amount * 100)]);
  }
  const userCount = users.messages.reduce((n, m) => n + (JSON.parse(m) as { results: unknown[] }).results.length, 0);
  const malformed = clicks.malformed + transactions.malformed + users.malformed;

  // Wait until the warehouse holds it all (or time runs out), then compare.
  const deadline = Date.now() + Number(args.seconds) * 1000;
  let diff: Record<string, number> = {};
  let details: string[] = [];
  for (;;) {
    await new Promise((r) => setTimeout(r, 3000));
    const wh = await DuckDbWarehouse.open(info.warehouse, { readOnly: true }).catch(() => null);
    if (!wh) continue;
    try {
      const passages = await wh.query('SELECT vehicle_id, avg_speed, is_Ticketed FROM speedcam.vehicle_passages');
      const fines = await wh.query('SELECT passage_id FROM speedcam.fined_vehicles');
      const clickRows = await wh.query('SELECT epoch_ms(window_start) AS w, user_pseudo_id AS u, event_count AS n FROM speedcam.user_event_counts');
      const txRows = await wh.query('SELECT epoch_ms(window_start_time) AS w, total_transactions AS n, total_amount_sum AS s, max_amount AS mx, min_amount AS mn FROM speedcam.transaction_windows');
      const userRows = await wh.query('SELECT count(*) AS n FROM speedcam.users');
      const dead = await wh.query("SELECT reason, source, count(*) AS n FROM speedcam.dead_letters GROUP BY reason, source");
      const late = Object.fromEntries(dead.filter((d) => d['reason'] === 'late').map((d) => [String(d['source']), Number(d['n'])]));
      const badDead = dead.filter((d) => d['reason'] !== 'late' && d['reason'] !== 'delivery_attempts_exhausted').reduce((n, d) => n + Number(d['n']), 0);
      details = [];
      const byVehicle = new Map<string, number>();
      for (const p of passages) byVehicle.set(String(p['vehicle_id']), (byVehicle.get(String(p['vehicle_id'])) ?? 0) + 1);
      const wrongSpeed = passages.filter((p) => Math.abs(Number(p['avg_speed']) - (expectedSpeed.get(String(p['vehicle_id'])) ?? NaN)) > 1e-6 || !expectedSpeed.has(String(p['vehicle_id'])));
      for (const p of wrongSpeed.slice(0, 3)) details.push(`passage ${String(p['vehicle_id'])}: ${String(p['avg_speed'])} vs ${expectedSpeed.get(String(p['vehicle_id']))}`);
      const gotClicks = new Map(clickRows.map((r) => [`${String(r['w'])}|${String(r['u'])}`, Number(r['n'])]));
      const clickDiff = [...clickKeys].filter(([k, n]) => gotClicks.get(k) !== n).length + [...gotClicks.keys()].filter((k) => !clickKeys.has(k)).length;
      const gotTx = new Map(txRows.map((r) => [Number(r['w']), r]));
      let txDiff = 0;
      for (const [w, cents] of txCents) {
        const r = gotTx.get(w);
        const sum = cents.reduce((a, b) => a + b, 0);
        if (!r || Number(r['n']) !== cents.length || Number(r['s']) !== sum / 100 || Number(r['mx']) !== Math.max(...cents) / 100 || Number(r['mn']) !== Math.min(...cents) / 100) txDiff++;
      }
      diff = {
        passages_lost: [...expectedSpeed.keys()].filter((v) => !byVehicle.has(v)).length,
        passages_duplicated: [...byVehicle.values()].filter((n) => n > 1).length,
        passages_wrong: wrongSpeed.length,
        fines_lost: Math.max(0, expectedFines - fines.length),
        fines_duplicated: fines.length - new Set(fines.map((f) => f['passage_id'])).size + Math.max(0, fines.length - expectedFines),
        click_windows_wrong: (late[info.topics.clickEvents] ?? 0) > 0 ? -1 : clickDiff,
        transaction_windows_wrong: (late[info.topics.transactions] ?? 0) > 0 ? -1 : txDiff,
        users_lost_or_duplicated: Math.abs(Number(userRows[0]!['n']) - userCount),
        malformed_not_dead_lettered: Math.max(0, malformed - badDead),
        events_late: (late[info.topics.clickEvents] ?? 0) + (late[info.topics.transactions] ?? 0),
      };
    } finally {
      await wh.close();
    }
    const open = Object.entries(diff).filter(([, n]) => n !== 0);
    if (open.length === 0 || Date.now() > deadline) break;
    log(`  waiting: ${open.map(([k, n]) => `${k}=${n}`).join(', ')}`);
  }
  await ps.close();

  const repeats = [...seen.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
  const delivery = stack.deliveryStats();
  const sent = seed.length * 10 + timed.length * 2 + clicks.messages.length + clicks.duplicates + clicks.malformed + transactions.messages.length + transactions.duplicates + transactions.malformed + users.messages.length + users.duplicates + users.malformed;
  const report = {
    messages_sent: sent,
    deliveries: delivery,
    function_processes_killed: crashes.length,
    kills_by_function: Object.fromEntries(FUNCTIONS.map((f) => [f.entryPoint, crashes.filter((c) => c === f.entryPoint).length])),
    transient_faults_configured: FAULTS,
    differences: diff,
    difference_details: details,
    topic_messages_repeated_with_same_id: repeats,
    seconds_from_last_send_to_all_outputs_checked: Math.round((Date.now() - sentAt) / 1000),
    result: Object.values(diff).every((n) => n === 0) ? '0 lost, 0 duplicated, 0 wrong' : 'DIFFERENCES FOUND',
  };
  console.log(JSON.stringify(report, null, 2));
  if (report.result !== '0 lost, 0 duplicated, 0 wrong') process.exitCode = 1;
} finally {
  stopCrashing = true;
  await stack.stop();
}
// Clients of the stack's own (tick publisher) may keep the event loop alive: everything is stopped.
process.exit(process.exitCode ?? 0);
