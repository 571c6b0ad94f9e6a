import { describe, expect, it } from 'vitest';
import { clickRow, ga4UserId, transactionMessage } from '../../../cli/generators/events.js';
import type { FaultPoint } from '../../../shared/core/faults.js';
import type { Row, Warehouse } from '../../../shared/export/warehouse.js';
import type { WindowIngest } from '../../../shared/windows/window-ingest.js';
import {
  expectedTransactionWindows,
  inbound,
  testWorld,
  WAREHOUSES,
  warehouseEnv,
  useWarehouseWorlds,
  seededRandom,
} from '../../support/fixtures.js';
import type { RuntimeOverrides } from '../../../shared/runtime.js';
import type { WindowStore } from '../../../shared/windows/window-store.js';

useWarehouseWorlds((stats) => {
  // The write-api cases did go through the stand-in, and it never saw two different rows under one row_id and sequence.
  expect(stats.applied).toBeGreaterThan(0);
  expect(stats.conflicts).toBe(0);
});

type Msg = ReturnType<typeof inbound>;

const pipelinesEnv = (p: unknown) => ({ SPEEDCAM_PIPELINES: JSON.stringify(p), SPEEDCAM_FLUSH_LEASE_S: '5' });

/** Every upsert as BigQuery keeps it (append-only), beside the local warehouse's upsert. */
function recordAppends(appended: Map<string, Row[]>): RuntimeOverrides['warehouse'] {
  return async (configured): Promise<Warehouse> => {
    const wh = await configured();
    return {
      upsert: async (table, rows) => {
        appended.set(table, [...(appended.get(table) ?? []), ...rows]);
        return wh.upsert(table, rows);
      },
      pseudonymise: wh.pseudonymise?.bind(wh),
      close: () => wh.close(),
    };
  };
}

/** What BigQuery's <table>_latest view shows: per row_id the row with the highest row_revision. */
function latestView(rows: readonly Row[]): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const r of rows) {
    const prev = out.get(r.row_id);
    // two different rows under one (row_id, row_revision) would make the view pick either
    if (prev && prev['row_revision'] === r['row_revision']) expect(r).toEqual(prev);
    if (!prev || (r['row_revision'] as number) >= (prev['row_revision'] as number)) out.set(r.row_id, r);
  }
  return out;
}

const TX_QUERY =
  "SELECT strftime(window_start_time, '%Y-%m-%dT%H:%M:%S.000Z') AS start, total_transactions, total_amount_sum, avg_transaction_amount, max_amount, min_amount FROM speedcam.transaction_windows ORDER BY start";

describe.each(WAREHOUSES)('a replay of history with event time from the payload, warehouse: %s', (kind) => {
  it("a day of transactions published in 5 minutes through two instances gives exactly that day's windows, with redeliveries and a crash at each step, and no dead letters", async () => {
    // the sales simulator on a machine in New York: local time without a zone, 15-minute windows
    const w = testWorld({
      ...pipelinesEnv({ transactions: { event_time: 'payload', timezone: 'America/New_York', window_s: 900 } }),
      ...warehouseEnv(kind),
    });
    const random = seededRandom(2025);
    const dayStart = Date.parse('2025-01-01T05:00:00Z'); // midnight in New York (UTC-5 in January)
    const N = 720;
    const times = Array.from({ length: N }, () => dayStart + Math.floor(random() * 86_400_000)).sort((a, b) => a - b);
    // roughly in time order: neighbours swapped now and then
    for (let i = 1; i < N; i++) if (random() < 0.3) [times[i - 1], times[i]] = [times[i]!, times[i - 1]!];
    const bodies = times.map((t) => transactionMessage(t, random, 'America/New_York'));
    const A = w.instance().windows.transactions;
    const B = w.instance().windows.transactions;

    // Pub/Sub: a failed delivery comes back later; a fifth of the acked ones are delivered once more,
    // some soon, some long after their window was exported.
    const queue: { msg: Msg; at: number; again?: true }[] = bodies.map((b, i) => ({ msg: inbound(b, { messageId: `day-${i}` }), at: i }));
    const ingestFaults: FaultPoint[] = ['window.beforeCommit', 'window.afterCommit'];
    const flushFaults: FaultPoint[] = ['window.afterWarehouse', 'window.afterMark', 'flush.afterWarehouse'];
    let step = 0;
    let flushes = 0;
    let crashedFlushes = 0;
    while (queue.length > 0) {
      queue.sort((a, b) => a.at - b.at);
      const chunk = queue.splice(0, 6);
      step++;
      if (step % 40 === 0 && ingestFaults.length) w.faults.arm(ingestFaults.shift()!);
      w.clock.advance(400 * chunk.length); // 720 messages in under 5 minutes
      const settled = await Promise.allSettled(
        chunk.map(({ msg }) => (random() < 0.5 ? A : B).handle({ ...msg, publishTimeMs: w.clock.now() })),
      );
      settled.forEach((s, i) => {
        const { msg, again } = chunk[i]!;
        if (s.status === 'rejected') queue.push({ msg, at: step * 6 + 1 + Math.floor(random() * 12), ...(again ? { again } : {}) });
        else if (!again && random() < 0.2) queue.push({ msg, at: step * 6 + Math.floor(random() * 600), again: true });
      });
      if (step % 8 === 0) {
        flushes++;
        if (flushes % 6 === 0 && flushFaults.length) w.faults.arm(flushFaults.shift()!);
        await w.rt.flush.run().catch(() => crashedFlushes++);
      }
      if (step > 2000) throw new Error('replay never drained');
    }
    const duringReplay = (await w.query('SELECT count(*) AS n FROM speedcam.transaction_windows'))[0]!['n'] as number;
    // the input goes idle: what is left closes once nothing was written for the lateness
    for (let i = 0; i < 6; i++) {
      w.clock.advance(40_000);
      await w.rt.flush.run().catch(() => crashedFlushes++);
    }
    expect(await w.rt.stores.windows.probe('transactions')).toBeNull();

    const expected = expectedTransactionWindows(
      bodies.map((b) => {
        const { amount, timestamp } = JSON.parse(b) as { amount: number; timestamp: string };
        // independent of the code under test: New York is UTC-5 all of January
        return { utcMs: Date.parse(timestamp.slice(0, 23) + 'Z') + 5 * 3_600_000, amount };
      }),
      900_000,
    );
    expect(await w.query(TX_QUERY)).toEqual(expected);
    expect(expected.every((e) => e.start >= '2025-01-01T05:00:00.000Z' && e.start < '2025-01-02T05:00:00.000Z')).toBe(true);
    expect(w.publisher.on(w.config.topics.deadLetters)).toEqual([]);
    // the windows closed as the replay moved on, not at the end
    expect(duringReplay).toBeGreaterThan(expected.length * 0.9);
    for (const p of ['window.beforeCommit', 'window.afterCommit', 'window.afterWarehouse', 'window.afterMark', 'flush.afterWarehouse']) {
      expect(w.faults.injected.get(p), p).toBeGreaterThanOrEqual(1);
    }
    expect(crashedFlushes).toBeGreaterThanOrEqual(3);
  }, 180_000);
});

describe.each(WAREHOUSES)('late: update, warehouse: %s', (kind) => {
  it('revises the exported row to include late events, exactly once under redelivery and a crash, and the revision supersedes the row', async () => {
    const appended = new Map<string, Row[]>();
    const w = testWorld(
      { ...pipelinesEnv({ transactions: { event_time: 'payload', late: 'update' } }), ...warehouseEnv(kind) },
      { warehouse: recordAppends(appended) },
    );
    const random = seededRandom(7);
    const ws = Math.floor((w.clock.now() - 120_000) / 30_000) * 30_000; // a window that ended 90-120 s ago
    const at = (i: number) => ws + 1_000 + i * 2_000;
    const onTime = Array.from({ length: 10 }, (_, i) => transactionMessage(at(i), random));
    const A = w.instance().windows.transactions;
    const B = w.instance().windows.transactions;
    for (const [i, m] of onTime.entries()) await A.handle(inbound(m, { messageId: `on-${i}` }));
    w.clock.advance(40_000);
    await w.rt.flush.run();
    expect((await w.query(TX_QUERY)).map((r) => r['total_transactions'])).toEqual([10]);

    // Late: three new sales, two redeliveries of counted ones, and one of the new ones published twice.
    const late = Array.from({ length: 3 }, (_, i) => transactionMessage(at(10 + i), random));
    const deliveries = [
      ...late.map((m, i) => inbound(m, { messageId: `late-${i}` })),
      inbound(onTime[2]!, { messageId: 'on-2' }),
      inbound(onTime[7]!, { messageId: 'on-7' }),
      inbound(late[1]!, { messageId: 'late-1-again' }),
    ];
    for (const d of deliveries) expect(await B.handle(d)).toEqual({ accepted: 1, late: 0 });
    w.clock.advance(40_000);
    w.faults.arm('window.afterWarehouse'); // the revision reaches the warehouse, then the flush dies
    await expect(w.rt.flush.run()).rejects.toThrow('window.afterWarehouse');
    w.clock.advance(6_000); // the crashed run's lease expires
    w.faults.arm('window.afterMark'); // the retry records the revision, then dies before deleting the batches
    await expect(w.rt.flush.run()).rejects.toThrow('window.afterMark');
    w.clock.advance(6_000);
    const retry = await w.rt.flush.run();
    expect(retry.windows).toMatchObject({ revised: 0, duplicates: 5 }); // the batches left behind (5 distinct events): all counted now

    // Everything delivered again, long after: nothing changes.
    for (const [i, m] of onTime.entries()) await A.handle(inbound(m, { messageId: `on-${i}` }));
    for (const d of deliveries) await B.handle(d);
    w.clock.advance(40_000);
    const again = await w.rt.flush.run();
    expect(again.windows).toMatchObject({ revised: 0, duplicates: 13 });

    const expected = expectedTransactionWindows(
      [...onTime, ...late].map((m) => ({
        utcMs: Date.parse((JSON.parse(m) as { timestamp: string }).timestamp.slice(0, 23) + 'Z'),
        amount: (JSON.parse(m) as { amount: number }).amount,
      })),
      30_000,
    );
    expect(await w.query(TX_QUERY)).toEqual(expected);
    expect(expected[0]!.total_transactions).toBe(13);
    // What was sent: the first row, the revision written by the crashed run and the one of its retry. Through
    // the Write API the table itself holds the revision (above); an append-only table (insertAll) needed the
    // highest row_revision per row_id, as the _latest alias view did.
    const rows = appended.get('transaction_windows')!;
    const view = latestView(rows);
    expect(view.size).toBe(1);
    const latest = [...view.values()][0]!;
    expect({
      start: latest['window_start_time'],
      total_transactions: latest['total_transactions'],
      total_amount_sum: latest['total_amount_sum'],
    }).toEqual({
      start: expected[0]!.start,
      total_transactions: 13,
      total_amount_sum: expected[0]!.total_amount_sum,
    });
    expect(rows.map((r) => r['total_transactions'])).toEqual([10, 13, 13]);
    expect(rows[1]!['row_revision'] as number).toBeGreaterThan(rows[0]!['row_revision'] as number);
    expect(w.publisher.on(w.config.topics.deadLetters)).toEqual([]);
  });

  it("a late click revises only its user's row", async () => {
    const w = testWorld({ ...pipelinesEnv({ clicks: { event_time: 'payload', late: 'update' } }), ...warehouseEnv(kind) });
    const random = seededRandom(9);
    const ws = Math.floor((w.clock.now() - 150_000) / 60_000) * 60_000;
    const [u1, u2] = [ga4UserId(random), ga4UserId(random)];
    const rows = [clickRow(u1, ws + 1000, random), clickRow(u1, ws + 2000, random), clickRow(u2, ws + 3000, random)];
    for (const r of rows) await w.rt.windows.clicks.handle(inbound(r));
    w.clock.advance(40_000);
    await w.rt.flush.run();
    const before = await w.query(
      'SELECT user_pseudo_id, event_count, row_revision FROM speedcam.user_event_counts ORDER BY user_pseudo_id',
    );
    await w.rt.windows.clicks.handle(inbound(clickRow(u2, ws + 59_000, random)));
    await w.rt.windows.clicks.handle(inbound(rows[0]!)); // counted already
    w.clock.advance(40_000);
    expect((await w.rt.flush.run()).windows).toMatchObject({ revised: 1, duplicates: 1 });
    const after = await w.query('SELECT user_pseudo_id, event_count, row_revision FROM speedcam.user_event_counts ORDER BY user_pseudo_id');
    const byUser = (rs: Record<string, unknown>[]) => Object.fromEntries(rs.map((r) => [r['user_pseudo_id'], r]));
    expect(byUser(after)[u1]).toEqual(byUser(before)[u1]);
    expect(byUser(after)[u2]!['event_count']).toBe(2);
    expect(byUser(after)[u2]!['row_revision'] as number).toBeGreaterThan(byUser(before)[u2]!['row_revision'] as number);
  });
});

describe('a large window', () => {
  it('60,000 clicks in one minute: the export is sharded; a late click and a redelivered one after it are told apart', async () => {
    const w = testWorld(pipelinesEnv({ clicks: { event_time: 'payload', late: 'update' } }));
    const ws = Math.floor((w.clock.now() - 150_000) / 60_000) * 60_000;
    const events = Array.from({ length: 60_000 }, (_, i) => ({
      id: `click-${i}`,
      key: `user-${i % 3000}`,
      timeMs: ws + (i % 60_000),
      values: {},
    }));
    for (let i = 0; i < events.length; i += 2000) await w.rt.stores.windows.append('clicks', 60_000, events.slice(i, i + 2000));
    w.clock.advance(40_000);
    expect((await w.rt.flush.run()).windows.exported).toBe(1);
    const state = await w.rt.stores.windows.getState('clicks', ws);
    expect([state.exported, state.shards > 1, state.inline]).toEqual([true, true, null]);
    // a new click of user-7 and one counted already, both after the export
    await w.rt.stores.windows.append('clicks', 60_000, [
      { id: 'click-late', key: 'user-7', timeMs: ws + 59_000, values: {} },
      events[3007]!,
    ]);
    w.clock.advance(40_000);
    expect((await w.rt.flush.run()).windows).toMatchObject({ revised: 1, duplicates: 1 });
    const rows = await w.query(
      "SELECT user_pseudo_id, event_count FROM speedcam.user_event_counts WHERE user_pseudo_id IN ('user-7', 'user-8') ORDER BY 1",
    );
    expect(rows).toEqual([
      { user_pseudo_id: 'user-7', event_count: 21 },
      { user_pseudo_id: 'user-8', event_count: 20 },
    ]);
    expect((await w.query('SELECT sum(event_count) AS n FROM speedcam.user_event_counts'))[0]!['n']).toBe(60_001);
  }, 120_000);
});

describe('late: dead_letter (the default)', () => {
  it('an event counted already and delivered again after the export is recognised, not dead-lettered; a new late one is, once', async () => {
    const w = testWorld(pipelinesEnv({ transactions: { event_time: 'payload' } }));
    const random = seededRandom(3);
    const ws = Math.floor((w.clock.now() - 120_000) / 30_000) * 30_000;
    const counted = transactionMessage(ws + 5_000, random);
    await w.rt.windows.transactions.handle(inbound(counted, { messageId: 'c1' }));
    w.clock.advance(40_000);
    await w.rt.flush.run();
    // another instance (nothing cached) gets the redelivery and a late sale, each twice
    const other = w.instance().windows.transactions;
    const lateSale = transactionMessage(ws + 6_000, random);
    expect(await other.handle(inbound(counted, { messageId: 'c1' }))).toEqual({ accepted: 0, late: 0, duplicates: 1 });
    expect(await other.handle(inbound(lateSale, { messageId: 'l1' }))).toEqual({ accepted: 0, late: 1 });
    expect(await other.handle(inbound(lateSale, { messageId: 'l1' }))).toEqual({ accepted: 0, late: 1 });
    const dls = w.publisher.on(w.config.topics.deadLetters);
    expect(dls.map((d) => [d.data['reason'], d.data['payload']])).toEqual([
      ['late', lateSale],
      ['late', lateSale],
    ]);
    expect(new Set(dls.map((d) => d.data['dead_letter_id'])).size).toBe(1); // one row in dead_letters
    // the late event's dead letter carries one event_id however often it is published: a consumer drops the repeat
    expect(dls.map((d) => d.attributes['event_id'])).toEqual(dls.map((d) => d.data['dead_letter_id']));
    expect((await w.query(TX_QUERY)).map((r) => r['total_transactions'])).toEqual([1]);
  });
});

describe('several instances', () => {
  /** A window store whose commits wait until released: an instance holding events in its buffer. */
  function gated() {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const wrap = (store: WindowStore): WindowStore => ({
      probe: (...a) => store.probe(...a),
      batchesEndingBy: (...a) => store.batchesEndingBy(...a),
      readWindow: (...a) => store.readWindow(...a),
      getState: (...a) => store.getState(...a),
      getShards: (...a) => store.getShards(...a),
      saveState: (...a) => store.saveState(...a),
      deleteBatches: (...a) => store.deleteBatches(...a),
      saveEarlyPane: (...a) => store.saveEarlyPane(...a),
      append: async (...a) => (await gate, store.append(...a)),
    });
    return { release, wrap };
  }

  it.each(['dead_letter', 'update'] as const)(
    'late: %s — a window exported while another instance still held events of it: nothing lost, nothing counted twice',
    async (late) => {
      const w = testWorld(pipelinesEnv({ transactions: { event_time: 'payload', late } }));
      const random = seededRandom(13);
      const ws = Math.floor((w.clock.now() - 120_000) / 30_000) * 30_000;
      const g = gated();
      const slow = w.instance({ windowStore: g.wrap }).windows.transactions;
      const fast = w.instance().windows.transactions;
      const held = transactionMessage(ws + 10_000, random);
      const pending = slow.handle(inbound(held, { messageId: 'held' }));
      const stored = Array.from({ length: 5 }, (_, i) => transactionMessage(ws + 1_000 + i * 1_000, random));
      for (const m of stored) await fast.handle(inbound(m));
      w.clock.advance(40_000);
      await w.rt.flush.run(); // exports the window without the held event
      g.release();
      expect(await pending).toEqual({ accepted: 1, late: 0 });
      w.clock.advance(40_000);
      const r = await w.rt.flush.run();
      const counts = (await w.query(TX_QUERY)).map((x) => x['total_transactions']);
      const dls = w.publisher.on(w.config.topics.deadLetters);
      if (late === 'update') {
        expect([counts, r.windows.revised, dls.length]).toEqual([[6], 1, 0]);
      } else {
        // dead-lettered by the flush: the stored event stands in for the message it came from
        expect([counts, r.windows.late]).toEqual([[5], 1]);
        expect(dls.map((d) => d.data['reason'])).toEqual(['late']);
        expect(JSON.parse(String(dls[0]!.data['payload']))).toMatchObject({
          pipeline: 'transactions',
          values: { amount: (JSON.parse(held) as { amount: number }).amount },
        });
      }
    },
  );

  it("a window stays open while an instance is still writing to it, even when another instance's data has moved past it (publish-time skew)", async () => {
    // publish time: instance B's deliveries are current, instance A's lag 35 s behind (its backlog), more
    // than the lateness: a watermark that followed only the data seen (B's) would close windows A still fills
    const w = testWorld({ SPEEDCAM_FLUSH_LEASE_S: '5' });
    const t0 = Math.floor(w.clock.now() / 30_000) * 30_000 + 60_000;
    w.clock.t = t0;
    const random = seededRandom(21);
    const A = w.instance().windows.transactions;
    const B = w.instance().windows.transactions;
    const sent: { publishTimeMs: number; amount: number }[] = [];
    const deliver = async (ingest: WindowIngest, publishTimeMs: number) => {
      const m = transactionMessage(publishTimeMs, random);
      sent.push({ publishTimeMs, amount: (JSON.parse(m) as { amount: number }).amount });
      expect(await ingest.handle(inbound(m, { publishTimeMs }))).toEqual({ accepted: 1, late: 0 });
    };
    // 90 s of processing time, a message every 2 s on each instance; A's are 35 s old when they arrive
    for (let s = 0; s < 90; s += 2) {
      w.clock.t = t0 + s * 1000;
      await deliver(B, w.clock.t);
      if (s % 4 === 0) await w.rt.flush.run();
      await deliver(A, w.clock.t - 35_000);
    }
    w.clock.advance(60_000);
    await w.rt.flush.run();
    w.clock.advance(60_000);
    await w.rt.flush.run();
    expect(w.publisher.on(w.config.topics.deadLetters)).toEqual([]);
    expect(await w.query(TX_QUERY)).toEqual(
      expectedTransactionWindows(
        sent.map((s) => ({ utcMs: s.publishTimeMs, amount: s.amount })),
        30_000,
      ),
    );
  }, 120_000);
});

describe('publish time (the default)', () => {
  it('GA4 rows exported in 2018 and replayed now count in the minute they were published, as in the seed', async () => {
    const w = testWorld({ SPEEDCAM_FLUSH_LEASE_S: '5' });
    const random = seededRandom(2018);
    const users = Array.from({ length: 5 }, () => ga4UserId(random));
    const published = Math.floor(w.clock.now() / 60_000) * 60_000 - 120_000;
    const sent = Array.from({ length: 60 }, (_, i) => ({
      row: clickRow(users[i % 5]!, Date.parse('2018-10-03T10:00:00Z') + i * 7_919, random),
      publishTimeMs: published + i * 2_000,
    }));
    for (const s of sent)
      expect(await w.rt.windows.clicks.handle(inbound(s.row, { publishTimeMs: s.publishTimeMs }))).toEqual({ accepted: 1, late: 0 });
    w.clock.advance(40_000);
    await w.rt.flush.run();
    const expected = new Map<string, number>();
    for (const s of sent) {
      const k = `${new Date(Math.floor(s.publishTimeMs / 60_000) * 60_000).toISOString()}|${(JSON.parse(s.row) as { user_pseudo_id: string }).user_pseudo_id}`;
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    const got = await w.query(
      "SELECT strftime(window_start, '%Y-%m-%dT%H:%M:%S.000Z') AS ws, user_pseudo_id, event_count FROM speedcam.user_event_counts",
    );
    expect(got.map((r) => `${r['ws']}|${r['user_pseudo_id']}=${r['event_count']}`).sort()).toEqual(
      [...expected].map(([k, n]) => `${k}=${n}`).sort(),
    );
    expect(w.publisher.on(w.config.topics.deadLetters)).toEqual([]);
  });
});

describe('the flush between scheduler ticks', () => {
  it('exports each window as it falls due during a run, and a run with nothing open ends at once', async () => {
    const w = testWorld({ SPEEDCAM_FLUSH_LEASE_S: '120' });
    const random = seededRandom(5);
    const tick = Math.floor(w.clock.now() / 60_000) * 60_000;
    // transactions published through the minute before the tick, and through the run
    const publish = async (t: number) => {
      await w.rt.windows.transactions.handle(inbound(transactionMessage(t, random), { publishTimeMs: t }));
    };
    for (let t = tick - 60_000; t < tick; t += 500) {
      w.clock.t = t;
      await publish(t);
    }
    w.clock.t = tick;
    const exportedAt: { at: number; n: number }[] = [];
    let next = tick;
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      const until = w.clock.now() + ms;
      // data keeps arriving while the flush sleeps, until 40 s into the run
      for (; next < Math.min(until, tick + 40_000); next += 500) {
        w.clock.t = next;
        await publish(next);
      }
      w.clock.t = until;
      // (no warehouse file before the first export)
      const n = (await w.query('SELECT count(*) AS n FROM speedcam.transaction_windows').catch(() => [{ n: 0 }]))[0]!['n'] as number;
      exportedAt.push({ at: until, n });
    };
    const report = await w.rt.flush.run({ runUntilMs: tick + 58_000, sleep });
    // the windows ending at the tick - 30 s and at the tick fall due in this run, 30 s (the lateness) after their end
    const rows = await w.query('SELECT epoch_ms(window_end_time) AS e FROM speedcam.transaction_windows ORDER BY e');
    expect(rows.map((r) => r['e'])).toEqual([tick - 30_000, tick]);
    // each was in the warehouse within a second of end + lateness, by a pass of this run
    for (const [i, e] of [tick - 30_000, tick].entries()) {
      const seen = exportedAt.find((x) => x.n >= i + 1)!;
      expect(seen.at - (e + 30_000)).toBeLessThanOrEqual(1_000);
      expect(seen.at).toBeGreaterThanOrEqual(e + 30_000);
    }
    expect(w.clock.now()).toBeLessThanOrEqual(tick + 58_000);
    expect(report.windows.exported).toBe(2);
    expect(report.windows.passes).toBeLessThan(40);

    // a pass that fails releases the lease: the tick's redelivery is not kept out for the lease's length
    const f = testWorld({ SPEEDCAM_FLUSH_LEASE_S: '120' });
    const t = Math.floor(f.clock.now() / 30_000) * 30_000;
    f.clock.t = t - 10_000;
    await f.rt.windows.transactions.handle(inbound(transactionMessage(t - 10_000, random), { publishTimeMs: t - 10_000 }));
    f.clock.t = t;
    f.faults.arm('window.afterWarehouse');
    await expect(f.rt.flush.run({ runUntilMs: t + 58_000, sleep: async (ms) => void (f.clock.t += ms) })).rejects.toThrow(
      'window.afterWarehouse',
    );
    const retried = await f.rt.flush.run();
    expect([retried.skipped, retried.windows.exported]).toEqual([undefined, 1]);

    // nothing open: one pass, no sleep
    const quiet = testWorld({});
    const quietSleeps: number[] = [];
    const r = await quiet.rt.flush.run({ runUntilMs: quiet.clock.now() + 58_000, sleep: async (ms) => void quietSleeps.push(ms) });
    expect([r.windows.passes, quietSleeps]).toEqual([1, []]);
    expect(sleeps.length).toBeGreaterThan(0);
  });
});
