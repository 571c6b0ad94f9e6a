import { describe, expect, it } from 'vitest';
import { clickRow } from '../../../cli/generators/events.js';
import { inbound, testWorld, WAREHOUSES, warehouseEnv, useWarehouseWorlds, seededRandom } from '../../support/fixtures.js';
import { loadConfig } from '../../../shared/config.js';

useWarehouseWorlds((stats) => {
  expect(stats.conflicts).toBe(0);
});

/** The setting: clicks on payload time, lateness 120 s, an early pane every 5 s. */
const EARLY = { SPEEDCAM_PIPELINES: JSON.stringify({ clicks: { event_time: 'payload', lateness_s: 120, early_s: 5 } }) };
const COUNTS = 'SELECT row_id, user_pseudo_id, event_count, is_final, row_revision FROM speedcam.user_event_counts ORDER BY row_id';

describe('early_s in SPEEDCAM_PIPELINES', () => {
  it('defaults to 60 s for clicks and off for the others; 0 turns it off; bad values are refused', () => {
    const c = loadConfig({});
    expect(c.pipelines.clicks.earlyMs).toBe(60_000);
    expect(c.pipelines.transactions.earlyMs).toBeNull();
    expect(loadConfig({ SPEEDCAM_PIPELINES: '{"clicks": {"early_s": 0}}' }).pipelines.clicks.earlyMs).toBeNull();
    expect(loadConfig({ SPEEDCAM_PIPELINES: '{"transactions": {"early_s": 10}}' }).pipelines.transactions.earlyMs).toBe(10_000);
    expect(() => loadConfig({ SPEEDCAM_PIPELINES: '{"clicks": {"early_s": 0.5}}' })).toThrow(
      'SPEEDCAM_PIPELINES: clicks.early_s: 0.5 is not valid; valid: seconds from 1 to 86400, or 0 / null for none',
    );
  });
});

describe.each(WAREHOUSES)('early panes, warehouse: %s', (kind) => {
  it('rows with is_final = false within 15 s of the first events, a pane only when there is news, then the exact final rows replace them', async () => {
    const w = testWorld({ ...EARLY, ...warehouseEnv(kind) });
    const random = seededRandom(21);
    // 20 s into a minute: the window [minute, minute + 60 s) is open.
    w.clock.t = Math.floor(w.clock.t / 60_000) * 60_000 + 20_000;
    const now = w.clock.t;
    const users = ['u1', 'u2', 'u3'];
    const first = Array.from({ length: 30 }, (_, i) => clickRow(users[i % 3]!, now - Math.floor(random() * 20_000), random));
    await Promise.all(first.map((r, i) => w.rt.windows.clicks.handle(inbound(r, { messageId: `a${i}` }))));
    const expected = (rows: string[]) => {
      const n = new Map<string, number>();
      for (const r of rows)
        n.set(
          (JSON.parse(r) as { user_pseudo_id: string }).user_pseudo_id,
          (n.get((JSON.parse(r) as { user_pseudo_id: string }).user_pseudo_id) ?? 0) + 1,
        );
      return n;
    };

    // Before early_s has passed since the first write: nothing yet.
    w.clock.advance(2_000);
    expect((await w.rt.flush.run()).windows).toMatchObject({ earlyPanes: 0, exported: 0 }); // (and no warehouse write)

    // 5 s after the first events (of processing time): the first pane.
    w.clock.advance(3_000);
    expect((await w.rt.flush.run()).windows.earlyPanes).toBe(1);
    const pane1 = await w.query(COUNTS);
    expect(pane1.map((r) => [r['user_pseudo_id'], r['event_count'], r['is_final']])).toEqual(
      users.map((u) => [u, expected(first).get(u), false]),
    );

    // No new events: no new pane, however long.
    w.clock.advance(10_000);
    expect((await w.rt.flush.run()).windows.earlyPanes).toBe(0);
    expect(await w.query(COUNTS)).toEqual(pane1);

    // More events, and a crash right after the pane's write: the retry writes the pane again (a newer revision, the same rows).
    const second = Array.from({ length: 12 }, (_, i) => clickRow(users[i % 2]!, now + 5_000 + Math.floor(random() * 10_000), random));
    await Promise.all(second.map((r, i) => w.rt.windows.clicks.handle(inbound(r, { messageId: `b${i}` }))));
    w.clock.advance(5_000);
    w.faults.arm('window.afterEarlyPane');
    await expect(w.rt.flush.run()).rejects.toThrow('window.afterEarlyPane');
    w.clock.advance(6_000);
    expect((await w.rt.flush.run()).windows.earlyPanes).toBe(1);
    const pane2 = await w.query(COUNTS);
    expect(pane2.map((r) => [r['user_pseudo_id'], r['event_count'], r['is_final']])).toEqual(
      users.map((u) => [u, expected([...first, ...second]).get(u), false]),
    );
    expect(
      pane2.every((r, i) => (r['row_revision'] as number) > (pane1[i]!['row_revision'] as number) || r['user_pseudo_id'] === 'u3'),
    ).toBe(true);

    // The window closes (lateness 120 s of processing time without a write): the final rows replace the panes.
    w.clock.advance(200_000);
    const report = await w.rt.flush.run();
    expect(report.windows.exported).toBe(1);
    const final = await w.query(COUNTS);
    expect(final.map((r) => [r['user_pseudo_id'], r['event_count'], r['is_final']])).toEqual(
      users.map((u) => [u, expected([...first, ...second]).get(u), true]),
    );
    expect(final.every((r, i) => (r['row_revision'] as number) > (pane2[i]!['row_revision'] as number))).toBe(true);
    expect(await w.query('SELECT count(*) AS n, count(DISTINCT row_id) AS d FROM speedcam.user_event_counts')).toEqual([{ n: 3, d: 3 }]);
    // A closed window gets no more panes.
    w.clock.advance(10_000);
    expect((await w.rt.flush.run()).windows.earlyPanes).toBe(0);
  });
});
