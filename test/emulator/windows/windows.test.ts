import { afterEach, describe, expect, it } from 'vitest';
import type { FaultPoint } from '../../../shared/core/faults.js';
import { clickRow, randomUserResponse, transactionMessage } from '../../../cli/generators/events.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import {
  expectedTransactionWindows,
  inbound,
  testWorld,
  WAREHOUSES,
  warehouseEnv,
  writeApiStandIn,
  type WarehouseKind,
  useWarehouseWorlds,
  seededRandom,
} from '../../support/fixtures.js';

useWarehouseWorlds((stats) => {
  // The write-api cases did go through the stand-in.
  expect(stats.applied).toBeGreaterThan(0);
});

type World = ReturnType<typeof testWorld>;
type Msg = ReturnType<typeof inbound>;

/**
 * Delivers like Pub/Sub: concurrently, every failed delivery again until all are acked, then a fifth
 * of the messages once more (a redelivery after the ack, so it lands in another batch).
 */
async function deliverAll(w: World, msgs: Msg[], handle: (m: Msg) => Promise<unknown>, random: () => number) {
  const again = msgs.filter(() => random() < 0.2);
  for (const round of [msgs, again]) {
    let pending = round;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 6) throw new Error('messages never acked');
      const settled = await Promise.allSettled(pending.map((m) => handle(m)));
      pending = pending.filter((_, i) => settled[i]!.status === 'rejected');
    }
  }
  expect(again.length).toBeGreaterThan(0);
}

/** Runs the flush until it completes (a crashed run is retried, as the next scheduler tick would). */
async function flushUntilDone(w: World) {
  for (let i = 0; i < 6; i++) {
    try {
      await w.rt.flush.run();
      return;
    } catch {
      w.clock.advance(200_000); // the crashed run's lease expires
    }
  }
  throw new Error('flush never completed');
}

/**
 * One fault case of the windows: the payloads (message ids `${idPrefix}0`, `${idPrefix}1`, …) delivered with the ingest
 * crash armed twice, the clock moved past their windows and the lateness, then the flush run with the flush crash armed
 * until it completes.
 */
async function deliverAndFlush(
  w: World,
  payloads: string[],
  idPrefix: string,
  handle: (m: Msg) => Promise<unknown>,
  random: () => number,
  [ingestFault, flushFault]: [FaultPoint | null, FaultPoint | null],
) {
  if (ingestFault) w.faults.arm(ingestFault, 2);
  await deliverAll(
    w,
    payloads.map((p, i) => inbound(p, { messageId: `${idPrefix}${i}` })),
    handle,
    random,
  );
  w.clock.advance(120_000);
  if (flushFault) w.faults.arm(flushFault);
  await flushUntilDone(w);
}

/** 20 s past a minute: events of the last 40 s span two windows, both still open (lateness 30 s). */
function aligned(w: World) {
  w.clock.t = Math.floor(w.clock.t / 60_000) * 60_000 + 20_000;
  return w.clock.t;
}

/** These tests check event-time windows: event time from the payload, as the generators stamp it. */
const EVENT_TIME = { SPEEDCAM_PIPELINES: JSON.stringify({ clicks: { event_time: 'payload' }, transactions: { event_time: 'payload' } }) };

const ingestFaults: FaultPoint[] = ['window.beforeCommit', 'window.afterCommit'];
const flushFaults: FaultPoint[] = ['window.afterWarehouse', 'window.afterMark', 'flush.afterWarehouse'];
/** No crash, then each ingest crash, then each flush crash. */
const FAULT_CASES = [[null, null], ...ingestFaults.map((f) => [f, null]), ...flushFaults.map((f) => [null, f])] as [
  FaultPoint | null,
  FaultPoint | null,
][];

/** A world on event time at 20 s past a minute, with its seeded random source. */
function eventTimeWorld(seed: number, kind: WarehouseKind) {
  const w = testWorld({ ...EVENT_TIME, ...warehouseEnv(kind) });
  return { w, random: seededRandom(seed), now: aligned(w) };
}

/** Every test on DuckDB's own upsert and through the BigQuery Write API stand-in: base tables, exact. */
describe.each(WAREHOUSES)('warehouse: %s', (kind) => {
  afterEach(() => {
    // The stand-in saw no two different rows under one row_id and one sequence number.
    if (kind === 'write-api') expect(writeApiStandIn().stats.conflicts).toBe(0);
  });

  describe('click events → user_event_counts', () => {
    it.each(FAULT_CASES)('exact rows, a fifth of deliveries twice; ingest crash: %s, flush crash: %s', async (ingestFault, flushFault) => {
      const { w, random, now } = eventTimeWorld(11, kind);
      const users = ['111.1', '222.2', '333.3', '444.4'];
      const rows = Array.from({ length: 300 }, (_, i) => clickRow(users[i % 4]!, now - Math.floor(random() * 40_000), random));
      await deliverAndFlush(w, rows, 'c', (m) => w.rt.windows.clicks.handle(m), random, [ingestFault, flushFault]);

      // independent computation from the distinct rows
      const expected = new Map<string, number>();
      for (const r of rows) {
        const { user_pseudo_id, event_timestamp } = JSON.parse(r) as { user_pseudo_id: string; event_timestamp: number };
        const start = Math.floor(event_timestamp / 1000 / 60_000) * 60_000;
        const k = `${new Date(start).toISOString()}|${user_pseudo_id}`;
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      const got = await w.query(
        "SELECT strftime(window_start, '%Y-%m-%dT%H:%M:%S.000Z') AS ws, user_pseudo_id, event_count, epoch_ms(window_end) - epoch_ms(window_start) AS len FROM speedcam.user_event_counts ORDER BY ws, user_pseudo_id",
      );
      expect(got.map((r) => `${r['ws']}|${r['user_pseudo_id']}=${r['event_count']}`).sort()).toEqual(
        [...expected.entries()].map(([k, n]) => `${k}=${n}`).sort(),
      );
      expect(got.every((r) => r['len'] === 60_000)).toBe(true);
      expect(got.reduce((n, r) => n + Number(r['event_count']), 0)).toBe(300);
    });

    it('an event for a closed window goes to the dead letters with reason late, the row unchanged', async () => {
      const w = testWorld({ ...EVENT_TIME, ...warehouseEnv(kind) });
      const random = seededRandom(5);
      const now = aligned(w);
      await w.rt.windows.clicks.handle(inbound(clickRow('u1', now - 1000, random)));
      w.clock.advance(120_000);
      await w.rt.flush.run();
      const r = await w.rt.windows.clicks.handle(inbound(clickRow('u1', now - 900, random)));
      expect(r).toEqual({ accepted: 0, late: 1 });
      expect(w.publisher.on(w.config.topics.deadLetters)[0]!.data).toMatchObject({ reason: 'late', source: 'click-events' });
      expect(await w.query('SELECT event_count FROM speedcam.user_event_counts')).toEqual([{ event_count: 1 }]);
    });

    it('a batch stored after its window was exported is dead-lettered as late, never merged into the row', async () => {
      const w = testWorld({ ...EVENT_TIME, ...warehouseEnv(kind) });
      const now = aligned(w);
      await w.rt.windows.clicks.handle(inbound(clickRow('u1', now - 1000, seededRandom(3))));
      w.clock.advance(120_000);
      await w.rt.flush.run();
      // an instance that checked lateness before the close and committed after the export
      await w.rt.stores.windows.append('clicks', 60_000, [{ id: 'straggler', key: 'u1', timeMs: now - 500, values: {} }]);
      w.clock.advance(60_000); // the flush handles a window's batches once none was written for the lateness
      await w.rt.flush.run();
      expect(await w.query('SELECT event_count FROM speedcam.user_event_counts')).toEqual([{ event_count: 1 }]);
      expect(w.publisher.on(w.config.topics.deadLetters).map((m) => m.data['reason'])).toEqual(['late']);
    });

    it('malformed rows are dead-lettered with their reason', async () => {
      const w = testWorld({ ...EVENT_TIME, ...warehouseEnv(kind) });
      for (const bad of ['{"event_name":"x"', '{"user_pseudo_id":"u","event_name":"x","event_timestamp":"soon"}', '[]']) {
        expect(await w.rt.windows.clicks.handle(inbound(bad))).toHaveProperty('rejected');
      }
      expect(w.publisher.on(w.config.topics.deadLetters).map((m) => m.data['reason'])).toEqual([
        'malformed_json',
        'invalid_fields',
        'not_an_object',
      ]);
    });
  });

  describe('transactions → transaction_windows (one hot key)', () => {
    it.each(FAULT_CASES)(
      'exact statistics per 30 s window, a fifth of deliveries twice; ingest crash: %s, flush crash: %s',
      async (ingestFault, flushFault) => {
        const { w, random, now } = eventTimeWorld(23, kind);
        const txs = Array.from({ length: 400 }, () => transactionMessage(now - Math.floor(random() * 40_000), random));
        await deliverAndFlush(w, txs, 't', (m) => w.rt.windows.transactions.handle(m), random, [ingestFault, flushFault]);

        // independent: integer cents, naive timestamps read as UTC
        const expected = expectedTransactionWindows(
          txs.map((t) => {
            const { amount, timestamp } = JSON.parse(t) as { amount: number; timestamp: string };
            return { utcMs: Date.parse(timestamp.slice(0, 23) + 'Z'), amount };
          }),
          30_000,
        );
        const got = await w.query(
          "SELECT strftime(window_start_time, '%Y-%m-%dT%H:%M:%S.000Z') AS start, total_transactions, total_amount_sum, avg_transaction_amount, max_amount, min_amount FROM speedcam.transaction_windows ORDER BY start",
        );
        expect(got).toEqual(expected);
      },
    );

    it('rejects amounts <= 0 and accepts numeric strings', async () => {
      const w = testWorld({ ...EVENT_TIME, ...warehouseEnv(kind) });
      const now = aligned(w);
      const ts = new Date(now - 1000).toISOString().replace('Z', '');
      expect(
        await w.rt.windows.transactions.handle(
          inbound(JSON.stringify({ transaction_id: 'TXN-1', amount: 0, timestamp: ts, store_id: 'NYC01' })),
        ),
      ).toEqual({ rejected: 'invalid_fields' });
      expect(
        await w.rt.windows.transactions.handle(
          inbound(JSON.stringify({ transaction_id: 'TXN-2', amount: '12.50', timestamp: ts, store_id: 'NYC01' })),
        ),
      ).toEqual({ accepted: 1, late: 0 });
    });

    it('two different sales that share a TXN id (the sales simulator draws 6 random digits) both count', async () => {
      const w = testWorld({ ...EVENT_TIME, ...warehouseEnv(kind) });
      const now = aligned(w);
      const ts = new Date(now - 1000).toISOString().replace('Z', '');
      await w.rt.windows.transactions.handle(
        inbound(JSON.stringify({ transaction_id: 'TXN-000042', amount: 10, timestamp: ts, store_id: 'NYC01' })),
      );
      await w.rt.windows.transactions.handle(
        inbound(JSON.stringify({ transaction_id: 'TXN-000042', amount: 20, timestamp: ts, store_id: 'BOS01' })),
      );
      w.clock.advance(120_000);
      await w.rt.flush.run();
      expect(await w.query('SELECT total_transactions, total_amount_sum FROM speedcam.transaction_windows')).toEqual([
        { total_transactions: 2, total_amount_sum: 30 },
      ]);
    });
  });

  describe('user registrations → users', () => {
    it('one row per result, exactly once with duplicated deliveries', async () => {
      const w = testWorld(warehouseEnv(kind));
      const random = seededRandom(99);
      const responses = Array.from({ length: 40 }, () => randomUserResponse(1 + Math.floor(random() * 3), random));
      await deliverAll(
        w,
        responses.map((r, i) => inbound(r, { messageId: `u${i}` })),
        (m) => w.rt.registrations.handle(m),
        random,
      );
      w.clock.advance(10_000);
      await w.rt.flush.run();
      const expected = responses.flatMap((r) =>
        (
          JSON.parse(r) as {
            results: {
              login: { username: string };
              name: { first: string; last: string };
              gender: string;
              dob: { date: string };
              location: { country: string; postcode: string | number };
              email: string;
            }[];
          }
        ).results.map((u) => ({
          login_username: u.login.username,
          first_name: u.name.first,
          last_name: u.name.last,
          gender: u.gender,
          dob: u.dob.date,
          country: u.location.country,
          postcode: String(u.location.postcode),
          email: u.email,
        })),
      );
      const got = await w.query('SELECT login_username, first_name, last_name, gender, dob, country, postcode, email FROM speedcam.users');
      const key = (r: Record<string, unknown>) => JSON.stringify(r);
      expect(got.map(key).sort()).toEqual(expected.map(key).sort());
    });

    it('a response without results is dead-lettered', async () => {
      const w = testWorld(warehouseEnv(kind));
      expect(await w.rt.registrations.handle(inbound('{"results": [], "info": {}}'))).toBe(0);
      expect(w.publisher.on(w.config.topics.deadLetters)[0]!.data).toMatchObject({
        reason: 'invalid_fields',
        source: 'user-registrations',
      });
    });
  });

  describe('completed passages → section_traffic_minute', () => {
    it('per radar per minute: vehicles, fined, mean and max average speed, each passage once', async () => {
      const w = testWorld(warehouseEnv(kind));
      const now = aligned(w);
      const radar = w.config.radars.get(w.config.defaultRadarId)!;
      const pts = sectionPoints(radar.entry, radar.exit, 10);
      const random = seededRandom(77);
      const vehicles = Array.from({ length: 12 }, (_, i) => ({
        id: `Sec${String(i).padStart(3, '0')}`,
        speeds: pts.map(() => 25 + random() * 60),
        t: now - 30_000 + i * 5_000,
      }));
      for (const v of vehicles) {
        await Promise.all(
          pts.map((p, j) =>
            w.rt.speedCheck.handle(inbound(spotSpeedMessage(v.id, v.speeds[j]!, p), { messageId: `${v.id}-${j}`, publishTimeMs: v.t + j })),
          ),
        );
      }
      const decisions = [...w.publisher.on(w.config.topics.nonFinedVehicles), ...w.publisher.on(w.config.topics.speedingVehicles)].map(
        (m) => m.data,
      );
      expect(decisions).toHaveLength(12);
      w.clock.advance(60_000);
      await w.rt.flush.run();
      await w.rt.flush.run(); // a second export of the same passages changes nothing
      w.clock.advance(15 * 60_000);
      await w.rt.flush.run();
      // A window closes once nothing was written to it for its lateness (10 min) of processing time: the
      // passages may have reached it only in the run above (their export waits for Firestore's commit time).
      w.clock.advance(15 * 60_000);
      await w.rt.flush.run();

      const byMinute = new Map<string, { n: number; fined: number; speeds: number[] }>();
      for (const d of decisions) {
        const minute = new Date(Math.floor(Date.parse(String(d['last_seen'])) / 60_000) * 60_000).toISOString();
        const m = byMinute.get(minute) ?? { n: 0, fined: 0, speeds: [] };
        m.n++;
        m.fined += d['is_Ticketed'] ? 1 : 0;
        m.speeds.push(d['avg_speed'] as number);
        byMinute.set(minute, m);
      }
      const got = await w.query(
        "SELECT strftime(minute_start, '%Y-%m-%dT%H:%M:%S.000Z') AS minute, radar_id, vehicles, fined, mean_avg_speed, max_avg_speed FROM speedcam.section_traffic_minute ORDER BY minute",
      );
      expect(got).toEqual(
        [...byMinute.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([minute, m]) => ({
            minute,
            radar_id: radar.id,
            vehicles: m.n,
            fined: m.fined,
            mean_avg_speed: Math.round((m.speeds.reduce((a, b) => a + b, 0) / m.n) * 100) / 100,
            max_avg_speed: Math.round(Math.max(...m.speeds) * 100) / 100,
          })),
      );
      expect(w.publisher.on(w.config.topics.deadLetters)).toHaveLength(0);
    });
  });
});
