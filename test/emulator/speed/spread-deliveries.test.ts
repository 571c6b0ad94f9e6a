import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { Faults, type FaultPoint } from '../../../shared/core/faults.js';
import type { InboundMessage } from '../../../shared/core/pubsub-message.js';
import { createRuntime, type Runtime } from '../../../shared/runtime.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import {
  expectedSpaceMean,
  inbound,
  ManualClock,
  queryWarehouse,
  RecordingPublisher,
  useEmulatorProject,
  WAREHOUSES,
  type WarehouseKind,
} from '../../support/fixtures.js';
import { WriteApiStandIn } from '../../../cli/bigquery-write-stand-in.js';

/**
 * The observation function as Cloud Run runs it under load: several instances (each its own runtime:
 * own group commits, own sweeper) on one Firestore, and a vehicle's 10 deliveries spread over them at
 * random. Outputs are compared with an independent computation of each vehicle's average speed.
 */
let project: string;
const runtimes: Runtime[] = [];
const dirs: string[] = [];
/** The BigQuery Write API stand-in, for fleets on the write-api warehouse: each fleet its own dataset (DuckDB file). */
const datasets = new Map<string, string>();
let standIn: WriteApiStandIn;
beforeAll(async () => {
  project = useEmulatorProject();
  standIn = await new WriteApiStandIn({ pathFor: (_p, d) => datasets.get(d)! }).start();
});
afterAll(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
  // The write-api cases did go through the stand-in, and it never saw two different rows under one row_id and sequence.
  expect(standIn.stats.applied).toBeGreaterThan(0);
  expect(standIn.stats.conflicts).toBe(0);
  await standIn.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let fleets = 0;
/** `n` instances sharing collections, topics (a recording publisher) and a clock; each its own fault switch. */
function fleet(n: number, kind: WarehouseKind = 'duckdb') {
  const dir = mkdtempSync(join(tmpdir(), 'speedcam-spread-'));
  dirs.push(dir);
  const whPath = join(dir, 'wh.duckdb');
  datasets.set(`spread${fleets + 1}`, whPath);
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: project,
    SPEEDCAM_WAREHOUSE: kind === 'duckdb' ? 'duckdb' : 'bigquery',
    SPEEDCAM_DUCKDB_PATH: whPath,
    ...(kind === 'duckdb' ? {} : { SPEEDCAM_DATASET: `spread${fleets + 1}`, SPEEDCAM_BIGQUERY_WRITE_ENDPOINT: standIn.endpoint }),
    SPEEDCAM_COLLECTION_PREFIX: `spread${++fleets}_`,
    SPEEDCAM_GROUP_COMMIT_WAIT_MS: '20',
    SPEEDCAM_EXPORT_GRACE_S: '30',
    SPEEDCAM_GAP_CLOSE_DELAY_S: '0',
    SPEEDCAM_OBJECTS: 'local',
    SPEEDCAM_OBJECTS_DIR: join(dir, 'objects'),
    SPEEDCAM_OCR: 'model',
  });
  const clock = new ManualClock(Date.now());
  const publisher = new RecordingPublisher();
  const instances = Array.from({ length: n }, () => {
    const faults = new Faults();
    const rt = createRuntime(config, { logger: silentLogger, clock, faults, publisher });
    runtimes.push(rt);
    return { rt, faults };
  });
  let seed = 42;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const radar = config.radars.get(config.defaultRadarId)!;
  const points = sectionPoints(radar.entry, radar.exit, 10);
  const ops = () => {
    const total = { reads: 0, writes: 0, transactions: 0 };
    for (const { rt } of instances) {
      const s = rt.ops.snapshot();
      total.reads += s.reads;
      total.writes += s.writes;
      total.transactions += s.transactions;
    }
    return total;
  };
  /** Pub/Sub push through a load balancer: each delivery to a random instance, failures redelivered (elsewhere). */
  const deliver = async (msgs: readonly InboundMessage[]) => {
    let pending = [...msgs];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('messages never acked');
      const settled = await Promise.allSettled(pending.map((m) => instances[Math.floor(random() * n)]!.rt.speedCheck.handle(m)));
      pending = pending.filter((_, i) => settled[i]!.status === 'rejected');
    }
  };
  const vehicle = (id: string) => {
    const speeds = points.map(() => (random() < 0.75 ? 25 + random() * 15 : 40 + random() * 50));
    const t = clock.now();
    return {
      id,
      speeds,
      msgs: points.map((p, i) => inbound(spotSpeedMessage(id, speeds[i]!, p), { messageId: `${id}-${i}`, publishTimeMs: t + i })),
    };
  };
  const decisions = () =>
    publisher.messages.filter((m) => m.topic === config.topics.nonFinedVehicles || m.topic === config.topics.speedingVehicles);
  const query = (sql: string) => queryWarehouse(whPath, sql);
  return { config, clock, publisher, instances, ops, deliver, vehicle, decisions, query, radar, points };
}

/** Shuffles the messages of many vehicles together, as a burst of the seed generator arrives. */
function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

describe('deliveries spread over instances', () => {
  it('15 vehicles, each burst spread over 4 instances: one exact decision each, far fewer Firestore operations than one transaction per instance touched', async () => {
    const f = fleet(4);
    const vehicles = Array.from({ length: 15 }, (_, i) => f.vehicle(`Spr${String(i).padStart(3, '0')}`));
    await f.deliver(interleave(vehicles.map((v) => v.msgs)));
    const got = f.decisions();
    expect(got).toHaveLength(15);
    for (const v of vehicles) {
      const mine = got.filter((d) => d.data['vehicle_id'] === v.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.data['avg_speed'] as number).toBeCloseTo(expectedSpaceMean(v.speeds, f.points), 6);
      expect(mine[0]!.data).toMatchObject({ observations: 10, close_reason: 'count' });
    }
    // One transaction per instance a vehicle's burst touched would be about 3.8 per vehicle here (57),
    // and a write each (0.38 per observation); the log and the sweep batch them across vehicles.
    const ops = f.ops();
    expect(ops.transactions).toBeLessThan(15);
    expect(ops.writes / 150).toBeLessThan(0.35);
    // Every passage lands in the warehouse once.
    f.clock.advance(60_000);
    await f.instances[0]!.rt.flush.run();
    expect(await f.query('SELECT count(*) AS n, count(DISTINCT vehicle_id) AS d FROM speedcam.vehicle_passages')).toEqual([
      { n: 15, d: 15 },
    ]);
    expect(f.decisions()).toHaveLength(15);
  });

  it('every observation delivered twice, to random instances: still one decision per vehicle, none wrong', async () => {
    const f = fleet(3);
    const vehicles = Array.from({ length: 6 }, (_, i) => f.vehicle(`Twc${String(i).padStart(3, '0')}`));
    const msgs = interleave(vehicles.map((v) => v.msgs));
    await f.deliver([...msgs, ...msgs.map((m) => ({ ...m, messageId: `again-${m.messageId}` }))]);
    await f.deliver(msgs); // redelivered after the ack (same messageId)
    const ids = new Set(f.decisions().map((d) => d.attributes['passage_id']));
    expect(ids.size).toBe(6);
    for (const v of vehicles) {
      const d = f.decisions().find((x) => x.data['vehicle_id'] === v.id)!;
      expect(d.data['avg_speed'] as number).toBeCloseTo(expectedSpaceMean(v.speeds, f.points), 6);
    }
  });

  it('a late observation that reaches another instance is dead-lettered late by the sweep, with its payload, and changes no decision', async () => {
    const f = fleet(3);
    const v = f.vehicle('Late77');
    await f.deliver(v.msgs);
    const late = inbound(spotSpeedMessage('Late77', 120, f.points[4]!), { messageId: 'late-77', publishTimeMs: f.clock.now() + 3000 });
    await f.deliver([late]);
    const dead = f.publisher.on(f.config.topics.deadLetters);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.data).toMatchObject({
      reason: 'late',
      source: f.config.topics.vehicleObservations,
      payload: late.data.toString(),
      message_id: 'late-77',
    });
    expect(f.decisions()).toHaveLength(1);
    expect(f.decisions()[0]!.data['avg_speed'] as number).toBeCloseTo(expectedSpaceMean(v.speeds, f.points), 6);
  });

  const sweepFaults: FaultPoint[] = ['sweep.beforeCommit', 'sweep.afterCommit', 'observation.afterCommit', 'decision.afterPublish'];
  it.each(sweepFaults.flatMap((p) => WAREHOUSES.map((k) => [p, k] as const)))(
    'a crash at %s on every instance once: each vehicle decided once, exactly, and exported once (%s)',
    async (point, kind) => {
      const f = fleet(3, kind);
      for (const { faults } of f.instances) faults.arm(point);
      const vehicles = Array.from({ length: 5 }, (_, i) => f.vehicle(`Crs${String(i).padStart(3, '0')}`));
      await f.deliver(interleave(vehicles.map((v) => v.msgs)));
      expect(f.instances.reduce((n, { faults }) => n + (faults.injected.get(point) ?? 0), 0)).toBeGreaterThan(0);
      // A sweep that committed and crashed before publishing leaves flagged decisions: the flush publishes them.
      // (An instance whose armed fault was not hit yet crashes its flush: it is rerun once the lease expired.)
      f.clock.advance(60_000);
      for (let run = 0; ; run++) {
        const done = await f.instances[1]!.rt.flush.run().then(
          () => true,
          (err: unknown) => (run < 2 ? false : Promise.reject(err)),
        );
        if (done) break;
        f.clock.advance(f.config.flushLeaseMs + 1);
      }
      const byVehicle = new Map<string, Set<string>>();
      for (const d of f.decisions())
        byVehicle.set(
          String(d.data['vehicle_id']),
          new Set([...(byVehicle.get(String(d.data['vehicle_id'])) ?? []), String(d.attributes['passage_id'])]),
        );
      expect([...byVehicle.keys()].sort()).toEqual(vehicles.map((v) => v.id).sort());
      for (const v of vehicles) {
        expect(byVehicle.get(v.id)!.size).toBe(1);
        expect(f.decisions().find((d) => d.data['vehicle_id'] === v.id)!.data['avg_speed'] as number).toBeCloseTo(
          expectedSpaceMean(v.speeds, f.points),
          6,
        );
      }
      expect(await f.query('SELECT count(*) AS n, count(DISTINCT vehicle_id) AS d FROM speedcam.vehicle_passages')).toEqual([
        { n: 5, d: 5 },
      ]);
    },
  );

  it('a sweeper that died holding the lease: the observations wait in the log, and the flush sweeps them once the lease expired', async () => {
    const f = fleet(2);
    const store = f.instances[0]!.rt.stores.passages;
    expect(await store.acquireSweep(f.radar.id, 'a-sweeper-that-died', 15_000, await store.sweepLease(f.radar.id))).toBe(true);
    const v = f.vehicle('Wait01');
    await f.deliver(v.msgs);
    expect(f.decisions()).toHaveLength(0); // acked: durable in the log, nobody sweeps while the lease looks alive
    await f.instances[0]!.rt.flush.run();
    expect(f.decisions()).toHaveLength(0);
    f.clock.advance(16_000);
    await f.instances[1]!.rt.flush.run();
    expect(f.decisions()).toHaveLength(1);
    expect(f.decisions()[0]!.data['avg_speed'] as number).toBeCloseTo(expectedSpaceMean(v.speeds, f.points), 6);
  });

  it('part of a burst, spread, then nothing: the flush closes it by gap with what arrived, flagged incomplete, never fined', async () => {
    const f = fleet(3);
    const v = f.vehicle('Part01');
    await f.deliver(v.msgs.slice(0, 4));
    expect(f.decisions()).toHaveLength(0);
    f.clock.advance(16_000);
    await f.instances[2]!.rt.flush.run();
    expect(f.decisions()).toHaveLength(1);
    expect(f.decisions()[0]!.data).toMatchObject({
      vehicle_id: 'Part01',
      observations: 4,
      close_reason: 'gap',
      is_Ticketed: false,
      review_reason: 'incomplete_passage',
    });
  });
});
