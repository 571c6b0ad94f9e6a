import { describe, expect, it } from 'vitest';
import { Rejection } from '../../../shared/core/rejection.js';
import { parseObservation, type Observation } from '../../../shared/speed/observation.js';
import { applyObservations, type PassageDecision, type PassageState } from '../../../shared/speed/passage.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import { inbound, testConfig } from '../../support/fixtures.js';

const config = testConfig();
const radar = config.radars.get(config.defaultRadarId)!;
const pts = sectionPoints(radar.entry, radar.exit, 10);
const T0 = Date.parse('2026-11-21T10:00:00Z');
const SPEEDS = [52.1, 48.3, 61.0, 55.5, 47.2, 58.8, 50.4, 49.9, 63.3, 51.7];

/**
 * The radar producer's messages as it publishes them, parsed by the real parser: the content id does not depend
 * on time, so a vehicle that comes back with the same spot speeds at the same points has the same ids.
 */
function burst(vehicleId: string, publishMs: number, messageIdPrefix: string): Observation[] {
  return pts.map((p, i) => {
    const o = parseObservation(
      inbound(spotSpeedMessage(vehicleId, SPEEDS[i]!, p), { publishTimeMs: publishMs + i, messageId: `${messageIdPrefix}-${i}` }),
      config,
      publishMs,
    );
    if (o instanceof Rejection) throw new Error(`rejected: ${o.reason} ${o.detail}`);
    return o;
  });
}

function run(state: PassageState | null, batches: Observation[][], nowMs: number) {
  const decided: PassageDecision[] = [];
  const outcomes: string[] = [];
  for (const b of batches) {
    const r = applyObservations(state, b, radar, nowMs);
    state = r.state;
    decided.push(...r.decided);
    outcomes.push(...b.map((o) => r.outcomes.get(o.obsId)!.kind));
  }
  return { state: state!, decided, outcomes };
}

describe('a vehicle seen again', () => {
  it('after its passage closed, with the same spot speeds at the same points, is a new passage and decided again', () => {
    const first = burst('aB3xY9', T0, 'a');
    const again = burst('aB3xY9', T0 + 60_000, 'b');
    expect(again.map((o) => o.obsId)).toEqual(first.map((o) => o.obsId)); // same content, same ids
    const r1 = run(null, [first], T0 + 100);
    expect(r1.decided).toHaveLength(1);
    const r2 = run(r1.state, [again], T0 + 60_100);
    expect(r2.outcomes.every((k) => k === 'added')).toBe(true);
    expect(r2.decided).toHaveLength(1);
    expect(r2.decided[0]).toMatchObject({ closeReason: 'count', observations: 10, firstSeenMs: T0 + 60_000 });
    expect(r2.decided[0]!.passageId).not.toBe(r1.decided[0]!.passageId);
    expect(r2.decided[0]!.avgSpeedKmh).toBeCloseTo(r1.decided[0]!.avgSpeedKmh!, 9);
  });

  it('a redelivery of the first passage keeps its publish time, so it is a duplicate', () => {
    const first = burst('aB3xY9', T0, 'a');
    const r1 = run(null, [first], T0 + 100);
    // redelivered ten minutes later: same messageId and publish time, processing time later
    const redelivered = run(r1.state, [first], T0 + 600_000);
    expect(redelivered.outcomes.every((k) => k === 'duplicate')).toBe(true);
    expect(redelivered.decided).toHaveLength(0);
    expect(redelivered.state).toEqual(r1.state);
  });

  it('a publisher-side duplicate within the gap stays a duplicate', () => {
    const first = burst('aB3xY9', T0, 'a');
    const republished = burst('aB3xY9', T0 + 5_000, 'c'); // new messageIds, 5 s later: within the 15 s gap
    const r = run(null, [first.slice(0, 6), republished.slice(0, 6), first.slice(6)], T0 + 6_000);
    expect(r.outcomes.slice(6, 12).every((k) => k === 'duplicate')).toBe(true);
    expect(r.decided).toHaveLength(1);
    expect(r.decided[0]).toMatchObject({ observations: 10, firstSeenMs: T0 });
  });

  it('the first and the returning burst in one batch: two passages, each decided once', () => {
    const first = burst('aB3xY9', T0, 'a');
    const again = burst('aB3xY9', T0 + 60_000, 'b');
    const r = applyObservations(null, [...again, ...first], radar, T0 + 60_100);
    expect(r.decided.map((d) => d.firstSeenMs)).toEqual([T0, T0 + 60_000]);
    expect(r.displaced).toHaveLength(1);
    expect(r.outcomes.get(first[0]!.obsId)).toEqual({ kind: 'added' });
  });
});
