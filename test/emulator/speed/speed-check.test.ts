import { beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../shared/dead-letters/dead-letter.js';
import type { FaultPoint } from '../../../shared/core/faults.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import { inbound, testWorld, WAREHOUSES, warehouseEnv, useWarehouseWorlds } from '../../support/fixtures.js';

useWarehouseWorlds((stats) => {
  // The write-api cases did go through the stand-in, and it never saw two different rows under one row_id and sequence.
  expect(stats.applied).toBeGreaterThan(0);
  expect(stats.conflicts).toBe(0);
});

/** A fresh world per test: the production wiring, its own collections, clock, faults and warehouse. */
function world(env: Record<string, string> = {}) {
  const t = testWorld(env);
  return { ...t, ops: t.rt.ops, store: t.rt.stores.passages, check: t.rt.speedCheck };
}
type World = ReturnType<typeof world>;

const pts = (w: World) => {
  const r = w.config.radars.get(w.config.defaultRadarId)!;
  return sectionPoints(r.entry, r.exit, 10);
};
const SPEEDS = [61, 44, 38, 72, 55, 49, 80, 66, 43, 58];

/** One seed-format vehicle: 10 messages with stable message ids (a redelivery reuses them). */
function vehicle(w: World, id: string, speeds = SPEEDS, publishTimeMs = w.clock.now()) {
  return pts(w).map((p, i) => inbound(spotSpeedMessage(id, speeds[i]!, p), { messageId: `${id}-${i}`, publishTimeMs: publishTimeMs + i }));
}

/** Delivers messages concurrently, as push does; returns which were acked (resolved) and which failed. */
async function deliver(w: World, msgs: ReturnType<typeof vehicle>) {
  const settled = await Promise.allSettled(msgs.map((m) => w.check.handle(m)));
  return { failed: msgs.filter((_, i) => settled[i]!.status === 'rejected'), results: settled };
}

/** Pub/Sub semantics: redeliver what failed until everything is acked. */
async function deliverUntilAcked(w: World, msgs: ReturnType<typeof vehicle>) {
  let pending = msgs;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 5) throw new Error('messages never acked');
    pending = (await deliver(w, pending)).failed;
  }
}

const warehouseRows = (w: World, sql: string) => w.query(sql);

describe('speed check on the Firestore emulator', () => {
  let w: World;
  beforeEach(() => {
    w = world();
  });

  it('decides a seed burst that reached one instance whole with one create: no read, no transaction', async () => {
    await deliverUntilAcked(w, vehicle(w, 'aB3xY9'));
    expect(w.ops.transactions).toBe(0);
    expect(w.ops.reads).toBe(0);
    expect(w.ops.writes).toBe(2); // the passage (with its decision) + the published mark
    const out = w.publisher.on(w.config.topics.speedingVehicles);
    expect(out).toHaveLength(1);
    // independent computation: space-mean over 9 equal segments with pair-mean speeds
    const hours = SPEEDS.slice(1).reduce((h, v, i) => h + 1 / ((SPEEDS[i]! + v) / 2), 0) / 9;
    expect(out[0]!.data['avg_speed'] as number).toBeCloseTo(1 / hours, 3);
    expect(out[0]!.data).toMatchObject({
      vehicle_id: 'aB3xY9',
      is_Ticketed: true,
      observations: 10,
      close_reason: 'count',
      license_plate: null,
    });
    expect(out[0]!.attributes['passage_id']).toBe(out[0]!.data['passage_id']);
  });

  it('a slow vehicle goes to non-fined-vehicles', async () => {
    await deliverUntilAcked(w, vehicle(w, 'Slow01', [30, 31, 29, 33, 35, 30, 28, 32, 34, 30]));
    expect(w.publisher.on(w.config.topics.nonFinedVehicles)).toHaveLength(1);
    expect(w.publisher.on(w.config.topics.speedingVehicles)).toHaveLength(0);
    expect(w.publisher.on(w.config.topics.nonFinedVehicles)[0]!.data).toMatchObject({ is_Ticketed: false, license_plate: null });
  });

  it('the whole burst delivered twice: one decision, no new writes', async () => {
    const msgs = vehicle(w, 'Dup001');
    await deliverUntilAcked(w, msgs);
    const writes = w.ops.writes;
    const results = await Promise.all(msgs.map((m) => w.check.handle(m)));
    expect(results.every((r) => r.status === 'duplicate')).toBe(true);
    expect(w.ops.writes).toBe(writes);
    expect(w.publisher.messages).toHaveLength(1);
  });

  it('publisher-side duplicates (same content, new message ids) are one observation', async () => {
    const msgs = vehicle(w, 'Pub001');
    const again = msgs.map((m, i) => ({ ...m, messageId: `other-${i}` }));
    await deliverUntilAcked(w, [...msgs, ...again.slice(0, 4)]);
    expect(w.publisher.messages).toHaveLength(1);
    expect(w.publisher.messages[0]!.data['observations']).toBe(10);
  });

  const crashPoints: FaultPoint[] = ['observation.beforeCommit', 'observation.afterCommit'];
  it.each(crashPoints.flatMap((p) => WAREHOUSES.map((k) => [p, k] as const)))(
    'a crash at %s and the redelivery give exactly one decision message and one row (%s)',
    async (point, kind) => {
      w = world(warehouseEnv(kind));
      w.faults.arm(point);
      await deliverUntilAcked(w, vehicle(w, 'Crash1'));
      expect(w.publisher.messages).toHaveLength(1);
      w.clock.advance(60_000);
      await w.rt.flush.run();
      expect(await warehouseRows(w, 'SELECT vehicle_id FROM speedcam.vehicle_passages')).toEqual([{ vehicle_id: 'Crash1' }]);
    },
  );

  it('a publish failure is retried by redelivery: decision published once', async () => {
    w.publisher.failNext = 1;
    await deliverUntilAcked(w, vehicle(w, 'PubErr'));
    expect(w.publisher.messages).toHaveLength(1);
  });

  it.each(WAREHOUSES)(
    'a crash between publish and mark: the retry republishes with the same passage_id (documented at-least-once on the topic), the warehouse still has one row (%s)',
    async (kind) => {
      w = world(warehouseEnv(kind));
      w.faults.arm('decision.afterPublish');
      await deliverUntilAcked(w, vehicle(w, 'Crash2'));
      const ids = w.publisher.messages.map((m) => m.attributes['passage_id']);
      expect(ids).toHaveLength(2);
      expect(new Set(ids).size).toBe(1);
      expect(w.publisher.messages[0]!.data).toEqual(w.publisher.messages[1]!.data);
      // a stable event_id on every publish: a consumer drops the repeat by it
      expect(w.publisher.messages.map((m) => m.attributes['event_id'])).toEqual(ids);
      w.clock.advance(60_000);
      await w.rt.flush.run();
      expect(await warehouseRows(w, 'SELECT count(*) AS n FROM speedcam.vehicle_passages')).toEqual([{ n: 1 }]);
    },
  );

  it('a late observation goes to the dead letters with reason late and changes no decision', async () => {
    await deliverUntilAcked(w, vehicle(w, 'Late01'));
    const late = inbound(spotSpeedMessage('Late01', 200, pts(w)[5]!), { messageId: 'late-1', publishTimeMs: w.clock.now() + 2000 });
    const r = await w.check.handle(late);
    expect(r).toMatchObject({ status: 'dead_letter', reason: 'late' });
    const dl = w.publisher.on(w.config.topics.deadLetters);
    expect(dl).toHaveLength(1);
    expect(dl[0]!.data).toMatchObject({ reason: 'late', source: 'vehicle-observations', payload: late.data.toString() });
    expect(w.publisher.on(w.config.topics.speedingVehicles)).toHaveLength(1);
  });

  it('bad input is dead-lettered with the original payload and attributes, and the message is acked', async () => {
    const bad = inbound('{"vehicle_id": "x", "speed": ', { attributes: { radar_id: 'nyc-5th-ave-apple-zara', origin: 'cam-7' } });
    await expect(w.check.handle(bad)).resolves.toMatchObject({ status: 'dead_letter', reason: 'malformed_json' });
    const [dl] = w.publisher.on(w.config.topics.deadLetters);
    expect(dl!.data).toMatchObject({
      payload: '{"vehicle_id": "x", "speed": ',
      payload_encoding: 'utf8',
      attributes: { radar_id: 'nyc-5th-ave-apple-zara', origin: 'cam-7' },
    });
  });

  it('if the dead-letter publish fails, the message is retried, not lost', async () => {
    w.publisher.failNext = 1;
    const bad = inbound('not json');
    await expect(w.check.handle(bad)).rejects.toThrow(/UNAVAILABLE/);
    await expect(w.check.handle(bad)).resolves.toMatchObject({ status: 'dead_letter' });
    expect(w.publisher.on(w.config.topics.deadLetters)).toHaveLength(1);
  });
});

describe.each(WAREHOUSES)('flush on the Firestore emulator, warehouse: %s', (kind) => {
  it('closes passages whose gap expired, with the observations they have', async () => {
    const w = world(warehouseEnv(kind));
    await deliverUntilAcked(w, vehicle(w, 'Gap001').slice(0, 4));
    expect(w.publisher.messages).toHaveLength(0);
    w.clock.advance(10_000);
    expect((await w.rt.flush.run()).closedByGap).toBe(0);
    w.clock.advance(6_000);
    expect((await w.rt.flush.run()).closedByGap).toBe(1);
    expect(w.publisher.messages).toHaveLength(1);
    expect(w.publisher.messages[0]!.data).toMatchObject({ observations: 4, close_reason: 'gap' });
  });

  it('republishes a decision whose closer crashed before publishing and never got redelivered', async () => {
    const w = world(warehouseEnv(kind));
    w.faults.arm('observation.afterCommit');
    await deliver(w, vehicle(w, 'Lost01')); // fails after commit; pretend the redelivery never comes
    expect(w.publisher.messages).toHaveLength(0);
    w.clock.advance(60_000);
    const report = await w.rt.flush.run();
    expect(report.republished).toBe(1);
    expect(w.publisher.messages).toHaveLength(1);
    w.clock.advance(60_000);
    await w.rt.flush.run();
    expect(w.publisher.messages).toHaveLength(1);
  });

  it('a crash after the warehouse write and a rerun leave one row per passage', async () => {
    const w = world(warehouseEnv(kind));
    for (const id of ['Fl0001', 'Fl0002', 'Fl0003']) await deliverUntilAcked(w, vehicle(w, id));
    w.clock.advance(60_000);
    w.faults.arm('flush.afterWarehouse');
    await expect(w.rt.flush.run()).rejects.toThrow(/injected/);
    w.clock.advance(200_000); // the lease of the crashed run expires
    await w.rt.flush.run();
    expect(await warehouseRows(w, 'SELECT vehicle_id FROM speedcam.vehicle_passages ORDER BY vehicle_id')).toEqual([
      { vehicle_id: 'Fl0001' },
      { vehicle_id: 'Fl0002' },
      { vehicle_id: 'Fl0003' },
    ]);
  });

  it('a run that fails after its exports keeps their watermarks and releases the lease', async () => {
    const w = world(warehouseEnv(kind));
    for (const id of ['Fk0001', 'Fk0002']) await deliverUntilAcked(w, vehicle(w, id));
    w.clock.advance(60_000);
    w.faults.arm('flush.afterWarehouse');
    await expect(w.rt.flush.run()).rejects.toThrow(/injected/);
    const control = await w.rt.stores.db.collection(w.config.collections.control).doc('flush').get();
    expect(control.get('owner')).toBeNull();
    expect(control.get('watermarks')['passages:passages']).toBe(w.clock.now() - w.config.exportGraceMs);
    // No wait for the lease: the next run starts at once, from there.
    const report = await w.rt.flush.run();
    expect(report.skipped).toBeUndefined();
    expect(report.exported['vehicle_passages'] ?? 0).toBe(0);
  });

  it('a run slower than its lease renews it as it goes: no other run gets in, its watermarks land', async () => {
    // One passage per page and a clock that moves 2 s per page against a 3 s lease.
    const w = world({ SPEEDCAM_FLUSH_LEASE_S: '3', SPEEDCAM_FLUSH_BATCH_LIMIT: '1', ...warehouseEnv(kind) });
    for (const id of ['Sl0001', 'Sl0002', 'Sl0003']) await deliverUntilAcked(w, vehicle(w, id));
    w.clock.advance(60_000);
    const intruder = w.rt.stores.control;
    const intrusions: (object | null)[] = [];
    const store = w.rt.stores.passages;
    const scan = store.scanForExport.bind(store);
    store.scanForExport = async (...args: Parameters<typeof scan>) => {
      w.clock.advance(2_000);
      intrusions.push(await intruder.acquire('intruder', 60_000));
      return scan(...args);
    };
    for (let run = 0; run < 5 && (await w.rt.flush.run()).more; run++);
    expect(intrusions.length).toBeGreaterThan(3);
    expect(intrusions.every((x) => x === null)).toBe(true);
    expect(await warehouseRows(w, 'SELECT vehicle_id FROM speedcam.vehicle_passages ORDER BY vehicle_id')).toEqual([
      { vehicle_id: 'Sl0001' },
      { vehicle_id: 'Sl0002' },
      { vehicle_id: 'Sl0003' },
    ]);
    expect((await w.rt.stores.db.collection(w.config.collections.control).doc('flush').get()).get('owner')).toBeNull();
  });

  it('is fenced: a second flush while one holds the lease does nothing', async () => {
    const w = world(warehouseEnv(kind));
    expect(await w.rt.stores.control.acquire('other-run', 60_000)).not.toBeNull();
    expect(await w.rt.flush.run()).toMatchObject({ skipped: 'lease_held' });
  });

  it('a new passage of the same vehicle archives the old one; both reach the warehouse once', async () => {
    const w = world(warehouseEnv(kind));
    await deliverUntilAcked(w, vehicle(w, 'Twice1'));
    w.clock.advance(120_000);
    await deliverUntilAcked(
      w,
      vehicle(
        w,
        'Twice1',
        SPEEDS.map((v) => v / 2),
        w.clock.now(),
      ),
    );
    expect(w.publisher.messages).toHaveLength(2);
    w.clock.advance(60_000);
    await w.rt.flush.run();
    await w.rt.flush.run();
    const rows = await warehouseRows(w, 'SELECT passage_id, is_Ticketed FROM speedcam.vehicle_passages ORDER BY passage_id');
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r['is_Ticketed'])).toEqual([true, false]);
  });

  it('dead letters reach the dead_letters table once, even when delivered twice', async () => {
    const w = world(warehouseEnv(kind));
    await w.check.handle(inbound('[]', { messageId: 'dl-1' }));
    const [msg] = w.publisher.on(w.config.topics.deadLetters);
    const asDelivered = inbound(JSON.stringify(msg!.data), { attributes: msg!.attributes, messageId: 'x' });
    const saved: DeadLetter = await w.rt.deadLetterSink.handle(asDelivered);
    await w.rt.deadLetterSink.handle(asDelivered);
    // a raw message forwarded by a subscription's dead-letter policy is kept too
    await w.rt.deadLetterSink.handle(
      inbound('\u0001raw', {
        attributes: {
          CloudPubSubDeadLetterSourceSubscription: 'vehicle-observations--vehicleObservations',
          CloudPubSubDeadLetterSourceDeliveryCount: '10',
        },
      }),
    );
    w.clock.advance(10_000);
    await w.rt.flush.run();
    const rows = await warehouseRows(w, 'SELECT row_id, reason, payload FROM speedcam.dead_letters ORDER BY reason');
    expect(rows).toEqual([
      { row_id: expect.any(String), reason: 'delivery_attempts_exhausted', payload: '\u0001raw' },
      { row_id: saved.dead_letter_id, reason: 'not_an_object', payload: '[]' },
    ]);
  });
});
