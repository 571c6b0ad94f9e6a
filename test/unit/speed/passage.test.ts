import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../shared/core/group-commit.js';
import type { Observation } from '../../../shared/speed/observation.js';
import { applyObservations, closeIfExpired, type PassageState } from '../../../shared/speed/passage.js';
import { sectionPoints } from '../../../cli/generators/traffic.js';
import { testConfig } from '../../support/fixtures.js';

const radar = testConfig().radars.values().next().value!;
const pts = sectionPoints(radar.entry, radar.exit, 10);
const T0 = Date.parse('2026-11-21T10:00:00Z');
let n = 0;
function obs(over: Partial<Observation> & { t: number }): Observation {
  const { t, ...rest } = over;
  return {
    obsId: `o${++n}`,
    format: 'seed',
    radarId: radar.id,
    vehicleId: 'aB3xY9',
    eventTimeMs: t,
    publishTimeMs: t,
    location: pts[0]!,
    speedKmh: 30,
    camera: null,
    plate: null,
    imageUri: null,
    messageId: `m${n}`,
    ...rest,
  };
}
const burst = (t: number, speeds: number[]) => speeds.map((v, i) => obs({ t: t + i, location: pts[i]!, speedKmh: v }));

describe('close rules', () => {
  it('closes on the expected observation count (10 for the seed generator), whatever the batching', () => {
    const b = burst(T0, [30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    const one = applyObservations(null, b, radar, T0);
    expect(one.decided).toHaveLength(1);
    expect(one.decided[0]).toMatchObject({ closeReason: 'count', observations: 10, passageId: `${radar.id}~aB3xY9~${T0}` });
    // same observations in three batches, out of order: the same decision
    let s: PassageState | null = null;
    const decided = [];
    for (const part of [
      [b[7]!, b[2]!, b[9]!],
      [b[0]!, b[5]!, b[1]!, b[8]!],
      [b[3]!, b[6]!, b[4]!],
    ]) {
      const r = applyObservations(s, part, radar, T0);
      s = r.state;
      decided.push(...r.decided);
    }
    expect(decided).toHaveLength(1);
    expect(decided[0]!.avgSpeedKmh).toBeCloseTo(one.decided[0]!.avgSpeedKmh!, 12);
    expect(decided[0]!.passageId).toBe(one.decided[0]!.passageId);
  });

  it('closes when the exit is seen after the entry, even if the exit arrives first', () => {
    const exit = obs({ t: T0 + 40_000, camera: 'exit', location: radar.exit, speedKmh: null, format: 'timed' });
    const entry = obs({ t: T0, camera: 'entry', location: radar.entry, speedKmh: null, format: 'timed' });
    const r1 = applyObservations(null, [exit], radar, T0 + 41_000);
    expect(r1.decided).toHaveLength(0);
    const r2 = applyObservations(r1.state, [entry], radar, T0 + 42_000);
    expect(r2.decided).toHaveLength(1);
    expect(r2.decided[0]).toMatchObject({ closeReason: 'exit', method: 'entry_exit', firstSeenMs: T0 });
    expect(r2.decided[0]!.avgSpeedKmh).toBeCloseTo(radar.lengthKm / (40 / 3600), 9);
  });

  it('keeps an entry-only passage open for the longest plausible travel time, not just the 15 s gap', () => {
    const entry = obs({ t: T0, camera: 'entry', location: radar.entry, speedKmh: null, format: 'timed' });
    const r = applyObservations(null, [entry], radar, T0);
    expect(closeIfExpired(r.state, radar, T0 + 16_000)).toBeNull();
    expect(closeIfExpired(r.state, radar, T0 + radar.maxTravelMs + 1)).not.toBeNull();
  });

  it('closes by gap expiry (processing time) with the observations it has', () => {
    const r = applyObservations(null, burst(T0, [50, 60, 70]), radar, T0);
    expect(closeIfExpired(r.state, radar, T0 + 14_999)).toBeNull();
    const closed = closeIfExpired(r.state, radar, T0 + 15_000)!;
    expect(closed.decision).toMatchObject({ closeReason: 'gap', observations: 3, method: 'space_mean' });
  });

  it('waits the delivery slack beyond the gap before closing by gap, so observations delayed by an outage still join', () => {
    const slow = { ...radar, gapCloseDelayMs: 120_000 };
    const r = applyObservations(null, burst(T0, [50, 60, 70]), slow, T0);
    expect(closeIfExpired(r.state, slow, T0 + 60_000)).toBeNull();
    const more = applyObservations(
      r.state,
      burst(T0 + 3, [55, 65]).map((o, i) => ({ ...o, location: pts[3 + i]! })),
      slow,
      T0 + 66_000,
    );
    expect(Object.keys(more.state.obs)).toHaveLength(5);
    expect(closeIfExpired(more.state, slow, T0 + 66_000 + 15_000 + 120_000)).not.toBeNull();
  });

  it('a passage closed by gap short of its expected observations is never fined, only flagged', () => {
    const r = applyObservations(null, burst(T0, [90, 95, 99]), radar, T0);
    expect(closeIfExpired(r.state, radar, T0 + 15_000)!.decision).toMatchObject({
      isTicketed: false,
      reviewReason: 'incomplete_passage',
      observations: 3,
    });
  });

  it('an observation beyond the gap starts a new passage and closes the old one by gap', () => {
    const r1 = applyObservations(null, burst(T0, [30, 30, 30]), radar, T0);
    const r2 = applyObservations(r1.state, [obs({ t: T0 + 60_000, speedKmh: 45 })], radar, T0 + 60_000);
    expect(r2.decided).toHaveLength(1);
    expect(r2.decided[0]).toMatchObject({ closeReason: 'gap', observations: 3 });
    expect(r2.displaced).toHaveLength(1);
    expect(r2.state).toMatchObject({ status: 'open', firstSeenMs: T0 + 60_000 });
  });
});

describe('duplicates and late observations', () => {
  it('a redelivered observation changes nothing', () => {
    const b = burst(T0, [30, 31, 32]);
    const r1 = applyObservations(null, b, radar, T0);
    const r2 = applyObservations(r1.state, [b[1]!, b[1]!], radar, T0 + 100);
    expect(r2.changed).toBe(false);
    expect(r2.outcomes.get(b[1]!.obsId)).toEqual({ kind: 'duplicate' });
    expect(r2.state).toEqual(r1.state);
  });

  it('an observation arriving after its passage closed is late and changes no decision', () => {
    const b = burst(T0, [30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    const r1 = applyObservations(null, b, radar, T0);
    const straggler = obs({ t: T0 + 3, speedKmh: 120, location: pts[4]! });
    const r2 = applyObservations(r1.state, [straggler], radar, T0 + 5000);
    expect(r2.outcomes.get(straggler.obsId)).toMatchObject({ kind: 'late' });
    expect(r2.changed).toBe(false);
    expect(r2.decided).toHaveLength(0);
    expect(r2.state.decision).toEqual(r1.state.decision);
  });

  it('an observation from well before the open passage is late', () => {
    const r1 = applyObservations(null, burst(T0, [30]), radar, T0);
    const old = obs({ t: T0 - 60_000 });
    expect(applyObservations(r1.state, [old], radar, T0).outcomes.get(old.obsId)).toMatchObject({ kind: 'late' });
  });
});

describe('GroupCommitter', () => {
  it('commits concurrent submissions for a key as one batch and answers each caller', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommitter<number, number>(
      async (_k, items) => {
        batches.push([...items]);
        return items.map((x) => x * 2);
      },
      { waitMs: 20, maxBatch: () => 100 },
    );
    const results = await Promise.all([1, 2, 3].map((x) => gc.submit('k', x)));
    expect(results).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('commits at once when the batch is full, and keeps batches of one key in order', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommitter<number, number>(
      async (_k, items) => {
        batches.push([...items]);
        await new Promise((r) => setTimeout(r, 5));
        return [...items];
      },
      { waitMs: 10_000, maxBatch: () => 2 },
    );
    await Promise.all([1, 2, 3, 4].map((x) => gc.submit('k', x)));
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('rejects every caller of a failed batch (so each message is redelivered)', async () => {
    const gc = new GroupCommitter<number, number>(
      async () => {
        throw new Error('ABORTED');
      },
      { waitMs: 5, maxBatch: () => 10 },
    );
    const settled = await Promise.allSettled([gc.submit('k', 1), gc.submit('k', 2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });
});
