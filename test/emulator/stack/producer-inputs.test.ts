import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clickRow, ga4UserId, pythonJsonDumps, randomUserResponse, transactionMessage } from '../../../cli/generators/events.js';
import { startStack, type Stack } from '../../../cli/stack.js';
import type { UserRow } from '../../../shared/registrations/registrations.js';
import { expectedTransactionWindows, queryWarehouse, stackOnTestEmulators } from '../../support/fixtures.js';

/**
 * The seeds' own producers' output, unchanged, through the real local stack under the default
 * configuration (publish-time windows, as every seed's Beam pipeline): the rows the seeds compute.
 */
let stack: Stack;
let ps: PubSub;
let dataDir: string;
/** what each input topic carried, with the publish time Pub/Sub gave it */
const seen = new Map<string, { data: string; publishTimeMs: number }[]>();
const saves: number[] = [];
let userBatches = 0;

beforeAll(async () => {
  const at = stackOnTestEmulators();
  dataDir = mkdtempSync(join(tmpdir(), 'speedcam-seeds-'));
  stack = await startStack({ ...at, flushIntervalMs: 1000, dataDir, echoSeverity: 'ERROR' });
  ps = new PubSub({ projectId: at.project });
  for (const topic of [stack.info.topics.clickEvents, stack.info.topics.transactions]) {
    const [sub] = await ps.topic(topic).createSubscription(`seed-watch-${topic}`);
    sub.on('message', (m: Message) => {
      seen.set(topic, [...(seen.get(topic) ?? []), { data: m.data.toString(), publishTimeMs: m.publishTime.getTime() }]);
      m.ack();
    });
  }
  // Count the registrations' writes: one batched commit per response, not one round trip per user.
  const users = stack.runtime.stores.users as unknown as { db: Firestore; save(rows: readonly UserRow[]): Promise<void> };
  const db = users.db;
  users.db = new Proxy(db, {
    get: (t, p) => {
      if (p === 'batch') return () => (userBatches++, t.batch());
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const save = users.save.bind(users);
  users.save = async (rows) => {
    saves.push(rows.length);
    await save(rows);
  };
});

afterAll(async () => {
  await ps?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function rng(seed: number) {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

const query = (sql: string) => queryWarehouse(stack.info.warehouse, sql);

const random = rng(42);
// GA4 clicks: the data simulator POSTs lines of the 2018-10-03 export; the Cloud Run proxy publishes
// JSON.stringify(req.body), without attributes
const ga4Users = Array.from({ length: 30 }, () => ga4UserId(random));
const ga4 = Array.from({ length: 240 }, (_, i) =>
  JSON.stringify(JSON.parse(clickRow(ga4Users[i % 30]!, Date.parse('2018-10-03T08:00:00Z') + i * 61_733, random))),
);
// sales transactions: test_pipeline.py's integration fixtures, and publisher_simulator.py on machines at UTC+2 and
// UTC-5 (datetime.now().isoformat(): local time, no zone), all serialised by json.dumps
const fixtures = [
  { transaction_id: '1', amount: 100.0, timestamp: '2025-01-01T12:00:00', store_id: 'NYC01' },
  { transaction_id: '2', amount: 200.0, timestamp: '2025-01-01T12:00:05', store_id: 'LA03' },
  { transaction_id: '3', amount: 150.0, timestamp: '2025-01-01T12:00:10', store_id: 'MIA05' },
].map(pythonJsonDumps);
const local = [
  ...Array.from({ length: 10 }, () => transactionMessage(Date.now(), random, 'Africa/Johannesburg')),
  ...Array.from({ length: 10 }, () => transactionMessage(Date.now(), random, 'America/Bogota')),
];
// randomuser.me registrations: topic_writer.py publishes requests.get(...).content: the response bytes as they came
const hundred = randomUserResponse(100, random);
const one = randomUserResponse(1, random);

/** Published once, all three seeds at the same time; each test waits for its own rows. */
let published: Promise<unknown>;
beforeAll(() => {
  const topic = (t: string) => ps.topic(t);
  published = Promise.all([
    ...ga4.map((d) => topic(stack.info.topics.clickEvents).publishMessage({ data: Buffer.from(d) })),
    ...[...fixtures, ...local].map((d) => topic(stack.info.topics.transactions).publishMessage({ data: Buffer.from(d) })),
    topic(stack.info.topics.userRegistrations).publishMessage({ data: Buffer.from(hundred) }),
    topic(stack.info.topics.userRegistrations).publishMessage({ data: Buffer.from(one) }),
  ]);
});

/** Waits until `sql` (one row, one column n) reaches `n`; windows close 30 s (the default lateness) after their end. */
async function waitFor(sql: string, n: number) {
  await published;
  await vi.waitFor(async () => expect((await query(sql).catch(() => [{ n: -1 }]))[0]!['n']).toBe(n), { timeout: 150_000, interval: 1000 });
}

describe("the seeds' producers, unchanged, against the local stack with the default configuration", () => {
  it('GA4 clicks: 240 GA4 rows exported in 2018, replayed now, count per user per publish-time minute', async () => {
    await waitFor('SELECT coalesce(sum(event_count), 0) AS n FROM speedcam.user_event_counts', 240);
    // independent computation from the publish times Pub/Sub gave each message
    const clicks = seen.get(stack.info.topics.clickEvents)!;
    expect(clicks).toHaveLength(240);
    const perUserMinute = new Map<string, number>();
    for (const c of clicks) {
      const k = `${new Date(Math.floor(c.publishTimeMs / 60_000) * 60_000).toISOString()}|${(JSON.parse(c.data) as { user_pseudo_id: string }).user_pseudo_id}`;
      perUserMinute.set(k, (perUserMinute.get(k) ?? 0) + 1);
    }
    const got = await query(
      "SELECT strftime(window_start, '%Y-%m-%dT%H:%M:%S.000Z') AS ws, user_pseudo_id, event_count FROM speedcam.user_event_counts",
    );
    expect(got.map((r) => `${r['ws']}|${r['user_pseudo_id']}=${r['event_count']}`).sort()).toEqual(
      [...perUserMinute].map(([k, n]) => `${k}=${n}`).sort(),
    );
    expect(await query("SELECT reason FROM speedcam.dead_letters WHERE source = 'click-events'")).toEqual([]);
  }, 200_000);

  it('sales transactions: its three test fixtures of 2025-01-01 and local time from UTC+2 and UTC-5 give the 30 s statistics of their publish times', async () => {
    await waitFor('SELECT coalesce(sum(total_transactions), 0) AS n FROM speedcam.transaction_windows', 23);
    const txs = seen.get(stack.info.topics.transactions)!;
    // counted in their publish time's 30 s window, as the seed does
    const expected = expectedTransactionWindows(
      txs.map((t) => ({ utcMs: t.publishTimeMs, amount: (JSON.parse(t.data) as { amount: number }).amount })),
      30_000,
    );
    expect(
      await query(
        "SELECT strftime(window_start_time, '%Y-%m-%dT%H:%M:%S.000Z') AS start, total_transactions, total_amount_sum, avg_transaction_amount, max_amount, min_amount FROM speedcam.transaction_windows ORDER BY start",
      ),
    ).toEqual(expected);
    expect(await query("SELECT reason FROM speedcam.dead_letters WHERE source = 'transactions'")).toEqual([]);
  }, 200_000);

  it("randomuser.me registrations: a 100-result randomuser.me response (105 KiB) gives 100 users in one batched write, and the seed's 1-result one, 1", async () => {
    expect(Buffer.byteLength(hundred)).toBeGreaterThan(100 * 1024);
    await waitFor('SELECT count(*) AS n FROM speedcam.users', 101);
    // the seed's eight columns, one row per result, postcodes as text whatever the country
    const results = [
      ...(JSON.parse(hundred) as { results: Record<string, any>[] }).results,
      ...(JSON.parse(one) as { results: Record<string, any>[] }).results,
    ];
    const expected = results
      .map((u) =>
        [
          u['login']['username'],
          u['name']['first'],
          u['name']['last'],
          u['gender'],
          u['dob']['date'],
          String(u['location']['postcode']),
          u['location']['country'],
          u['email'],
        ].join('|'),
      )
      .sort();
    const got = await query('SELECT login_username, first_name, last_name, gender, dob, postcode, country, email FROM speedcam.users');
    expect(
      got
        .map((r) =>
          [r['login_username'], r['first_name'], r['last_name'], r['gender'], r['dob'], r['postcode'], r['country'], r['email']].join('|'),
        )
        .sort(),
    ).toEqual(expected);
    expect(saves.sort((a, b) => a - b)).toEqual([1, 100]);
    expect(userBatches).toBe(2);
    expect(await query("SELECT reason FROM speedcam.dead_letters WHERE source = 'user-registrations'")).toEqual([]);
  }, 200_000);
});
