import { randomInt, randomUUID } from 'node:crypto';
import type { PubSub } from '@google-cloud/pubsub';

export type EventKind = 'clicks' | 'transactions' | 'users';

export interface EventOptions {
  kind: EventKind;
  count: number;
  /** messages per second; undefined = as fast as Pub/Sub takes them */
  rate?: number;
  duplicateShare: number;
  malformedShare: number;
  topic: string;
  /** clicks: how many distinct users */
  users?: number;
  /** event time of the i-th message (default: now) */
  eventTime?: (i: number) => number;
  random?: () => number;
  onProgress?: (p: { sent: number; duplicates: number; malformed: number }) => void;
}

export interface GeneratedEvents {
  /** the distinct well-formed messages sent (duplicates once), for checking results against */
  messages: string[];
  duplicates: number;
  malformed: number;
}

const STORES = ['NYC01', 'NYC02', 'BOS01', 'CHI01', 'LAX01', 'MIA01'];
const EVENT_NAMES = ['page_view', 'scroll', 'click', 'view_item', 'add_to_cart', 'session_start', 'user_engagement'];
const FIRST = ['Ana', 'Luis', 'Maria', 'John', 'Aisha', 'Chen', 'Olga', 'Kwame', 'Sofia', 'Liam'];
const LAST = ['Silva', 'Garcia', 'Smith', 'Khan', 'Wang', 'Ivanova', 'Mensah', 'Rossi', 'Murphy', 'Kim'];
const COUNTRIES: [string, () => string | number][] = [
  ['Brazil', () => randomInt(10000, 99999)],
  ['United States', () => randomInt(10000, 99999)],
  ['Canada', () => `${'ABCEGHJKLMNPRSTVXY'[randomInt(18)]}${randomInt(10)}${'ABCEGHJKLMNPRSTVWXYZ'[randomInt(20)]} ${randomInt(10)}${'ABCEGHJKLMNPRSTVWXYZ'[randomInt(20)]}${randomInt(10)}`],
  ['Germany', () => randomInt(10000, 99999)],
  ['United Kingdom', () => `SW${randomInt(1, 20)} ${randomInt(1, 9)}AB`],
];

/** seed 002: a GA4 BigQuery-export row (the fields speedcam reads, and some it ignores). */
export function clickRow(userPseudoId: string, timeMs: number, random: () => number): string {
  const us = timeMs * 1000 + Math.floor(random() * 1000);
  return JSON.stringify({
    event_date: new Date(timeMs).toISOString().slice(0, 10).replace(/-/g, ''),
    event_timestamp: us,
    event_name: EVENT_NAMES[Math.floor(random() * EVENT_NAMES.length)],
    event_params: [{ key: 'page_location', value: { string_value: `https://shop.example/p/${Math.floor(random() * 500)}` } }],
    user_pseudo_id: userPseudoId,
    platform: 'WEB',
    device: { category: random() < 0.6 ? 'mobile' : 'desktop' },
  });
}

/** seed 003's publisher_simulator: TXN-6 digits, amount 10–500 with 2 decimals, naive UTC ISO time with µs. */
export function transactionMessage(timeMs: number, random: () => number): string {
  const iso = new Date(timeMs).toISOString().replace('Z', '') + String(Math.floor(random() * 1000)).padStart(3, '0');
  return JSON.stringify({
    transaction_id: `TXN-${String(Math.floor(random() * 1_000_000)).padStart(6, '0')}`,
    amount: Math.round((10 + random() * 490) * 100) / 100,
    timestamp: iso,
    store_id: STORES[Math.floor(random() * STORES.length)],
  });
}

/** seed 004: a randomuser.me API response with `results` users. */
export function randomUserResponse(results: number, random: () => number): string {
  const users = Array.from({ length: results }, () => {
    const first = FIRST[Math.floor(random() * FIRST.length)]!;
    const last = LAST[Math.floor(random() * LAST.length)]!;
    const [country, postcode] = COUNTRIES[Math.floor(random() * COUNTRIES.length)]!;
    const dob = new Date(Date.UTC(1950 + Math.floor(random() * 55), Math.floor(random() * 12), 1 + Math.floor(random() * 28)));
    const username = `${['happy', 'blue', 'silver', 'quick', 'lazy'][Math.floor(random() * 5)]}${['cat', 'bird', 'lion', 'fish', 'wolf'][Math.floor(random() * 5)]}${Math.floor(random() * 1000)}`;
    return {
      gender: random() < 0.5 ? 'female' : 'male',
      name: { title: random() < 0.5 ? 'Ms' : 'Mr', first, last },
      location: { street: { number: Math.floor(random() * 9999), name: 'Main Street' }, city: 'Springfield', state: 'State', country, postcode: postcode(), coordinates: { latitude: '0.0', longitude: '0.0' }, timezone: { offset: '+0:00', description: 'UTC' } },
      email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
      login: { uuid: randomUUID(), username, password: 'secret', salt: 'x', md5: 'x', sha1: 'x', sha256: 'x' },
      dob: { date: dob.toISOString(), age: 2026 - dob.getUTCFullYear() },
      registered: { date: new Date().toISOString(), age: 0 },
      phone: '555-0100',
      cell: '555-0101',
      id: { name: '', value: null },
      picture: { large: 'https://randomuser.me/api/portraits/men/1.jpg', medium: '', thumbnail: '' },
      nat: 'US',
    };
  });
  return JSON.stringify({ results: users, info: { seed: randomUUID().slice(0, 16), results, page: 1, version: '1.4' } });
}

/** Malformed variants: truncated JSON, wrong types, missing fields, not JSON at all. */
export function malformed(kind: EventKind, good: string, random: () => number): string {
  const r = random();
  if (r < 0.25) return good.slice(0, Math.max(1, Math.floor(good.length / 2)));
  if (r < 0.5) return 'not json at all';
  const obj = JSON.parse(good) as Record<string, unknown>;
  if (kind === 'clicks') delete obj['user_pseudo_id'];
  if (kind === 'transactions') obj['amount'] = r < 0.75 ? -5 : 'a lot';
  if (kind === 'users') obj['results'] = 'none';
  return JSON.stringify(obj);
}

/** Publishes clicks, transactions or user registrations in the seeds' exact formats. */
export async function generateEvents(pubsub: PubSub, opts: EventOptions): Promise<GeneratedEvents> {
  const random = opts.random ?? Math.random;
  const topic = pubsub.topic(opts.topic, { batching: { maxMessages: 500, maxMilliseconds: 10 } });
  const userIds = Array.from({ length: opts.users ?? 50 }, () => `${randomInt(1e9)}.${Math.floor(Date.now() / 1000)}`);
  const out: GeneratedEvents = { messages: [], duplicates: 0, malformed: 0 };
  const started = Date.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < opts.count; i++) {
    if (opts.rate !== undefined) {
      const wait = started + (i * 1000) / opts.rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const t = opts.eventTime?.(i) ?? Date.now();
    const good =
      opts.kind === 'clicks'
        ? clickRow(userIds[Math.floor(random() * userIds.length)]!, t, random)
        : opts.kind === 'transactions'
          ? transactionMessage(t, random)
          : randomUserResponse(1 + Math.floor(random() * 3), random);
    if (random() < opts.malformedShare) {
      inFlight.push(topic.publishMessage({ data: Buffer.from(malformed(opts.kind, good, random)) }));
      out.malformed++;
    } else {
      out.messages.push(good);
      inFlight.push(topic.publishMessage({ data: Buffer.from(good) }));
      if (random() < opts.duplicateShare) {
        inFlight.push(topic.publishMessage({ data: Buffer.from(good) }));
        out.duplicates++;
      }
    }
    if (inFlight.length >= 1000) await Promise.all(inFlight.splice(0));
    if ((i + 1) % 100 === 0 || i + 1 === opts.count) opts.onProgress?.({ sent: i + 1, duplicates: out.duplicates, malformed: out.malformed });
  }
  await Promise.all(inFlight);
  await topic.flush();
  return out;
}
