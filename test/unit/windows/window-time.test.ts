import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/config.js';
import { isDue } from '../../../shared/windows/window-flush.js';
import { windowPipeline } from '../../../shared/windows/pipeline.js';
import { parseAttributeTime, parseZonedTimestamp } from '../../../shared/windows/event-time.js';
import { pythonFloat } from '../../../shared/contracts/transaction.js';
import { DigestSet, digestOf, shardCount, shardOfDigest, shardOfKey, splitShards } from '../../../shared/windows/window-state.js';
import { pythonIsoformat, pythonJsonDumps, replayClock, transactionMessage } from '../../../cli/generators/events.js';
import { inbound } from '../../support/fixtures.js';

const pipelines = (v: unknown) => loadConfig({ SPEEDCAM_PIPELINES: typeof v === 'string' ? v : JSON.stringify(v) }).pipelines;

describe('SPEEDCAM_PIPELINES', () => {
  it('defaults to what the seeds do: publish time, 60 s clicks (an early pane every 60 s), 30 s transactions, 30 s lateness, late events dead-lettered', () => {
    expect(loadConfig({}).pipelines).toEqual({
      clicks: {
        eventTime: { kind: 'publish_time' },
        timezone: 'UTC',
        windowMs: 60_000,
        latenessMs: 30_000,
        late: 'dead_letter',
        earlyMs: 60_000,
      },
      transactions: {
        eventTime: { kind: 'publish_time' },
        timezone: 'UTC',
        windowMs: 30_000,
        latenessMs: 30_000,
        late: 'dead_letter',
        earlyMs: null,
      },
    });
    // SPEEDCAM_WINDOW_LATENESS_S stays the default lateness
    expect(loadConfig({ SPEEDCAM_WINDOW_LATENESS_S: '45' }).pipelines.clicks.latenessMs).toBe(45_000);
  });

  it('reads every setting per pipeline', () => {
    const p = pipelines({
      transactions: { event_time: 'payload', timezone: 'Europe/Madrid', window_s: 3600, lateness_s: 120, late: 'update' },
      clicks: { event_time: 'attribute:ts' },
    });
    expect(p.transactions).toEqual({
      eventTime: { kind: 'payload' },
      timezone: 'Europe/Madrid',
      windowMs: 3_600_000,
      latenessMs: 120_000,
      late: 'update',
      earlyMs: null,
    });
    expect(p.clicks.eventTime).toEqual({ kind: 'attribute', name: 'ts' });
    expect(p.clicks.windowMs).toBe(60_000);
  });

  it.each([
    ['not json', 'SPEEDCAM_PIPELINES: not JSON'],
    ['[]', 'expected an object keyed by pipeline (clicks, transactions)'],
    [{ orders: {} }, 'unknown pipeline "orders"; valid: clicks, transactions'],
    [{ clicks: 5 }, 'clicks: expected an object with event_time, timezone, window_s, lateness_s, late'],
    [
      { clicks: { event_time: 'ingest_time' } },
      'clicks.event_time: "ingest_time" is not valid; valid: publish_time, payload, attribute:NAME',
    ],
    [{ clicks: { event_time: 'attribute:' } }, 'clicks.event_time: "attribute:" is not valid'],
    [{ clicks: { event_time: 'attribute:googTime' } }, 'clicks.event_time: "attribute:googTime" is not valid'],
    [{ transactions: { timezone: 'CEST+2' } }, 'transactions.timezone: "CEST+2" is not an IANA time zone'],
    [{ transactions: { window_s: 0 } }, 'transactions.window_s: 0 is not valid; valid: a whole number of seconds from 1 to 86400'],
    [{ transactions: { window_s: 2.5 } }, 'transactions.window_s: 2.5 is not valid'],
    [{ transactions: { lateness_s: -1 } }, 'transactions.lateness_s: -1 is not valid; valid: seconds from 0 to 86400'],
    [{ transactions: { late: 'drop' } }, 'transactions.late: "drop" is not valid; valid: dead_letter, update'],
    [{ transactions: { window: 30 } }, 'transactions.window: unknown setting; valid: event_time, timezone, window_s, lateness_s, late'],
  ])('rejects %j naming the key and the valid values', (value, message) => {
    expect(() => pipelines(value)).toThrow(ConfigError);
    expect(() => pipelines(value)).toThrow(message);
  });
});

describe('reading times', () => {
  it('reads local time without a zone in the configured IANA zone, and honours a zone when there is one', () => {
    // datetime.now().isoformat() on a machine at UTC+2 (summer in Madrid) and at UTC-5 (winter in New York)
    expect(new Date(parseZonedTimestamp('2026-07-01T14:00:00.123456', 'Europe/Madrid')).toISOString()).toBe('2026-07-01T12:00:00.123Z');
    expect(new Date(parseZonedTimestamp('2026-01-15T07:00:00', 'America/New_York')).toISOString()).toBe('2026-01-15T12:00:00.000Z');
    expect(new Date(parseZonedTimestamp('2025-01-01T12:00:00', 'UTC')).toISOString()).toBe('2025-01-01T12:00:00.000Z');
    expect(new Date(parseZonedTimestamp('2026-07-01T14:00:00+02:00', 'America/New_York')).toISOString()).toBe('2026-07-01T12:00:00.000Z');
    expect(new Date(parseZonedTimestamp('2026-07-01 14:00:00', 'Europe/Madrid')).toISOString()).toBe('2026-07-01T12:00:00.000Z');
    expect(parseZonedTimestamp('yesterday', 'UTC')).toBeNaN();
    expect(parseZonedTimestamp('', 'UTC')).toBeNaN();
  });

  it('reads a timestamp attribute as Beam does: epoch milliseconds or RFC 3339', () => {
    expect(parseAttributeTime('1538604000123', 'UTC')).toBe(1538604000123);
    expect(parseAttributeTime('2018-10-03T22:00:00.123Z', 'UTC')).toBe(Date.parse('2018-10-03T22:00:00.123Z'));
  });

  it('takes amounts as Python float() does, refusing what is not a finite number', () => {
    const ok: [unknown, number][] = [
      [150.25, 150.25],
      ['99.99', 99.99],
      ['1e3', 1000],
      [' 12.5 ', 12.5],
      ['\t7\n', 7],
      ['1_000.5', 1000.5],
      ['.5', 0.5],
      ['5.', 5],
      ['+3', 3],
      ['-2', -2],
      [10, 10],
    ];
    for (const [v, n] of ok) expect(pythonFloat(v), JSON.stringify(v)).toBe(n);
    for (const v of ['', 'abc', '1,5', '0x10', '1__0', '_1', 'NaN', 'inf', '1e999', true, null, [1], { a: 1 }, Infinity, NaN])
      expect(pythonFloat(v), JSON.stringify(v)).toBeNull();
  });
});

describe('event time per pipeline', () => {
  const publishTimeMs = Date.parse('2026-11-21T10:00:07.250Z');
  it('publish time by default: a field the pipeline does not use is only required to be present', () => {
    const config = loadConfig({});
    const tx = windowPipeline('transactions', config).parse(
      inbound(JSON.stringify({ transaction_id: 1, amount: ' 12.5 ', timestamp: 'not a time', store_id: 42 }), { publishTimeMs }),
      publishTimeMs,
    );
    expect(tx).toEqual([expect.objectContaining({ key: 'all', timeMs: publishTimeMs, values: { amount: 12.5 } })]);
    const click = windowPipeline('clicks', config).parse(
      inbound(JSON.stringify({ user_pseudo_id: 'u1', event_name: 'level_start', event_timestamp: '1538604000000000' }), { publishTimeMs }),
      publishTimeMs,
    );
    expect(click).toEqual([expect.objectContaining({ key: 'u1', timeMs: publishTimeMs })]);
    // missing fields the seed requires are still refused
    const missing = windowPipeline('transactions', config).parse(
      inbound(JSON.stringify({ transaction_id: 'T', amount: 5, store_id: 'S' }), { publishTimeMs }),
      publishTimeMs,
    );
    expect(missing).toMatchObject({ reason: 'invalid_fields', detail: 'missing field(s) timestamp' });
  });

  it('payload time: GA4 µs as a string, the transaction timestamp in the configured zone', () => {
    const config = loadConfig({
      SPEEDCAM_PIPELINES: JSON.stringify({
        clicks: { event_time: 'payload' },
        transactions: { event_time: 'payload', timezone: 'Europe/Madrid' },
      }),
    });
    const click = windowPipeline('clicks', config).parse(
      inbound(JSON.stringify({ user_pseudo_id: 'u1', event_name: 'x', event_timestamp: '1538604000123456' }), { publishTimeMs }),
      publishTimeMs,
    );
    expect(click).toEqual([expect.objectContaining({ timeMs: 1538604000123 })]);
    const tx = windowPipeline('transactions', config).parse(
      inbound(JSON.stringify({ transaction_id: 'TXN-1', amount: 1, timestamp: '2026-11-21T11:00:00.5', store_id: 'NYC01' }), {
        publishTimeMs,
      }),
      publishTimeMs,
    );
    expect(tx).toEqual([expect.objectContaining({ timeMs: Date.parse('2026-11-21T10:00:00.500Z') })]);
  });

  it('attribute time: missing or implausible attributes are dead-lettered with the reason', () => {
    const config = loadConfig({ SPEEDCAM_PIPELINES: JSON.stringify({ transactions: { event_time: 'attribute:event_ts' } }) });
    const p = windowPipeline('transactions', config);
    const body = JSON.stringify({ transaction_id: 'TXN-1', amount: 1, timestamp: 'x', store_id: 'NYC01' });
    expect(p.parse(inbound(body, { attributes: { event_ts: '1795255200123' }, publishTimeMs }), publishTimeMs)).toEqual([
      expect.objectContaining({ timeMs: 1795255200123 }),
    ]);
    expect(p.parse(inbound(body, { publishTimeMs }), publishTimeMs)).toMatchObject({
      reason: 'timestamp_out_of_range',
      detail: expect.stringContaining('attribute event_ts'),
    });
    expect(p.parse(inbound(body, { attributes: { event_ts: '4102444800000' }, publishTimeMs }), publishTimeMs)).toMatchObject({
      reason: 'timestamp_out_of_range',
    });
  });
});

describe('when a window closes', () => {
  const L = 30_000;
  const end = 1_000_000;
  it('needs the data to move past end + lateness and no write to the window for the lateness', () => {
    // data past the end + lateness, but an instance wrote to the window 10 s ago: open
    expect(isDue({ end, lastWriteMs: 2_000_000 - 10_000 }, { maxSeenMs: end + L, newestWrittenMs: 2_000_000 }, L, 2_000_000)).toBe(false);
    // the same, 30 s after that write: due
    expect(isDue({ end, lastWriteMs: 2_000_000 - L }, { maxSeenMs: end + L, newestWrittenMs: 2_000_000 }, L, 2_000_000)).toBe(true);
    // the window idle but the data not yet past end + lateness, while the pipeline is busy: open
    expect(isDue({ end, lastWriteMs: end }, { maxSeenMs: end + L - 1, newestWrittenMs: end + 40_000 }, L, end + 45_000)).toBe(false);
  });

  it('closes everything once the pipeline has been idle for the lateness, but never before end + lateness of wall time', () => {
    expect(isDue({ end, lastWriteMs: end - 20_000 }, { maxSeenMs: end - 20_000, newestWrittenMs: end - 20_000 }, L, end + 15_000)).toBe(
      false,
    );
    expect(isDue({ end, lastWriteMs: end - 20_000 }, { maxSeenMs: end - 20_000, newestWrittenMs: end - 20_000 }, L, end + L)).toBe(true);
  });

  it('a replay: history from 2018 closes only as its own data moves on, not because the wall clock is past it', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    const w2018 = Date.parse('2018-10-03T10:01:00Z');
    // the replay has just reached this window's end: the data has not moved past it, the pipeline is busy
    expect(isDue({ end: w2018, lastWriteMs: now - 40_000 }, { maxSeenMs: w2018 + 5_000, newestWrittenMs: now }, L, now)).toBe(false);
    // the replay moved on by more than the lateness, and the window got nothing for 30 s: due
    expect(isDue({ end: w2018, lastWriteMs: now - L }, { maxSeenMs: w2018 + 3_600_000, newestWrittenMs: now }, L, now)).toBe(true);
  });
});

describe('exported window state', () => {
  it('remembers counted ids as 8-byte digests, sharded for large windows', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `event-${i}`);
    const set = DigestSet.fromDigests(ids.map(digestOf));
    expect(set.size).toBe(2000);
    expect(set.bytes.length).toBe(16_000);
    expect(ids.every((id) => set.has(digestOf(id)))).toBe(true);
    expect(set.has(digestOf('event-2000'))).toBe(false);
    const more = set.with([digestOf('event-2000'), digestOf('event-1')]);
    expect([more.size, more.has(digestOf('event-2000'))]).toEqual([2001, true]);
    // a window of 120,000 clicks from 90,000 users: several shards, each key and id in exactly one
    const acc = new Map(Array.from({ length: 90_000 }, (_, i) => [`user-${i}`, { n: 1, fields: {} }] as const));
    const digests = Array.from({ length: 120_000 }, (_, i) => digestOf(`click-${i}`));
    const S = shardCount(acc, digests.length);
    expect(S).toBeGreaterThan(1);
    const shards = splitShards(acc, digests, S);
    expect(shards.reduce((n, s) => n + s.ids.size, 0)).toBe(120_000);
    expect(shards.reduce((n, s) => n + s.acc.size, 0)).toBe(90_000);
    expect(shards[shardOfDigest(digestOf('click-7'), S)]!.ids.has(digestOf('click-7'))).toBe(true);
    expect(shards[shardOfKey('user-7', S)]!.acc.has('user-7')).toBe(true);
    for (const s of shards) expect(s.ids.bytes.length).toBeLessThan(600_000);
  });
});

describe("the generators, as the seeds' producers write", () => {
  it('sales transactions: datetime.now().isoformat() is local time without a zone, µs, no fraction when zero; json.dumps spacing', () => {
    const t = Date.parse('2026-07-01T12:00:00.250Z');
    expect(pythonIsoformat(t, 'Africa/Johannesburg', 17)).toBe('2026-07-01T14:00:00.250017');
    expect(pythonIsoformat(Date.parse('2026-01-15T12:00:00Z'), 'America/Bogota', 0)).toBe('2026-01-15T07:00:00');
    expect(pythonJsonDumps({ transaction_id: 'TXN-1', amount: 100, timestamp: 't', store_id: 'NYC01' })).toBe(
      '{"transaction_id": "TXN-1", "amount": 100.0, "timestamp": "t", "store_id": "NYC01"}',
    );
    let x = 3;
    const msg = JSON.parse(transactionMessage(t, () => (x = (x * 48271) % 2147483647) / 2147483647, 'Europe/Madrid')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(msg)).toEqual(['transaction_id', 'amount', 'timestamp', 'store_id']);
    expect(msg['timestamp']).toMatch(/^2026-07-01T14:00:00\.250\d{3}$/);
  });

  it('a replay clock spreads events from --start, speed times faster than publishing', () => {
    const start = Date.parse('2025-01-01T05:00:00Z');
    const clock = replayClock(start, 288, 5, 0)!;
    expect([clock(0), clock(1), clock(1500)]).toEqual([start, start + 57_600, start + 86_400_000]);
    expect(replayClock(undefined, 1, 5, 0)).toBeUndefined();
  });
});
