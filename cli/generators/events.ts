import type { PubSub } from '@google-cloud/pubsub';
import { DateTime } from 'luxon';

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
  /** transactions: the publisher's time zone (its `datetime.now()` is local time without a zone) */
  timezone?: string;
  /** users: results per response (randomuser.me ?results=N; default 1-3) */
  results?: number;
  random?: () => number;
  onProgress?: (p: { sent: number; duplicates: number; malformed: number }) => void;
}

export interface GeneratedEvents {
  /** the distinct well-formed messages sent (duplicates once), for checking results against */
  messages: string[];
  duplicates: number;
  malformed: number;
}

/** the sales simulator's stores */
const STORES = ['NYC01', 'LA03', 'MIA05', 'CHI09', 'SF02', 'BOS07', 'SEA08', 'DEN06', 'ATL04', 'DAL10'];
/** event names of the Flood-It! export */
const EVENT_NAMES = [
  'screen_view',
  'user_engagement',
  'level_start_quickplay',
  'level_end_quickplay',
  'post_score',
  'level_complete_quickplay',
  'level_reset_quickplay',
  'select_content',
  'spend_virtual_currency',
  'session_start',
  'level_fail_quickplay',
  'use_extra_steps',
];

/**
 * GA4 clicks: a GA4 (Firebase) BigQuery-export row as the seed's data simulator sends it: a line of
 * `bq extract --destination_format=NEWLINE_DELIMITED_JSON` of firebase-public-project.analytics_153293282
 * (the Flood-It! game). That export writes INT64 columns as strings (event_timestamp in µs) and omits
 * NULLs; records and repeated records are nested.
 */
export function clickRow(userPseudoId: string, timeMs: number, random: () => number): string {
  const us = timeMs * 1000 + Math.floor(random() * 1000);
  const android = random() < 0.6;
  const name = oneOf(random, EVENT_NAMES);
  const int = (n: number) => ({ int_value: String(n) });
  const str = (v: string) => ({ string_value: v });
  const params: { key: string; value: Record<string, string> }[] = [
    {
      key: 'firebase_event_origin',
      value: str(name === 'screen_view' || name === 'user_engagement' || name === 'session_start' ? 'auto' : 'app'),
    },
    { key: 'firebase_screen_class', value: str(oneOf(random, ['GameSceneController', 'MainMenuActivity', 'LevelSelectViewController'])) },
    { key: 'firebase_screen_id', value: int(-Math.floor(random() * 9e15)) },
  ];
  if (name.startsWith('level_'))
    params.push(
      { key: 'board', value: str(oneOf(random, ['S', 'M', 'L'])) },
      { key: 'level_name', value: str(oneOf(random, ['Temple Of Bloom', 'Lunar Lanes', 'Frosty Flood', 'Sunny Side'])) },
    );
  if (name === 'user_engagement') params.push({ key: 'engagement_time_msec', value: int(Math.floor(random() * 60_000)) });
  if (name === 'post_score') params.push({ key: 'score', value: int(Math.floor(random() * 5000)) });
  const first = timeMs - Math.floor(random() * 30 * 86_400_000);
  return JSON.stringify({
    event_date: new Date(timeMs).toISOString().slice(0, 10).replace(/-/g, ''),
    event_timestamp: String(us),
    event_name: name,
    event_params: params,
    event_previous_timestamp: String(us - Math.floor(random() * 600_000_000)),
    event_bundle_sequence_id: String(1 + Math.floor(random() * 400)),
    event_server_timestamp_offset: String(Math.floor(random() * 5_000_000)),
    user_pseudo_id: userPseudoId,
    user_properties: [
      {
        key: 'first_open_time',
        value: { int_value: String(Math.floor(first / 3_600_000) * 3_600_000), set_timestamp_micros: String(first * 1000) },
      },
      { key: 'ad_frequency', value: { string_value: '3', set_timestamp_micros: String(first * 1000 + 812) } },
      { key: 'initial_extra_steps', value: { string_value: '5', set_timestamp_micros: String(first * 1000 + 812) } },
      {
        key: 'num_levels_available',
        value: { string_value: String(5 + Math.floor(random() * 30)), set_timestamp_micros: String(us - 4_000_000) },
      },
    ],
    user_first_touch_timestamp: String(first * 1000),
    device: android
      ? {
          category: 'mobile',
          mobile_brand_name: 'Samsung',
          mobile_model_name: 'SM-G930F',
          mobile_marketing_name: 'Galaxy S7',
          mobile_os_hardware_model: 'SM-G930F',
          operating_system: 'ANDROID',
          operating_system_version: '8.0.0',
          language: 'en-us',
          is_limited_ad_tracking: 'No',
          time_zone_offset_seconds: '-14400',
        }
      : {
          category: random() < 0.2 ? 'tablet' : 'mobile',
          mobile_brand_name: 'Apple',
          mobile_model_name: 'iPhone',
          mobile_os_hardware_model: 'iPhone9,1',
          operating_system: 'IOS',
          operating_system_version: '12.0',
          vendor_id: '9D6A3E5C9E6B4A9D8C2F1E7B6A5D4C3B',
          language: 'en-gb',
          is_limited_ad_tracking: 'No',
          time_zone_offset_seconds: '3600',
        },
    geo: oneOf(random, [
      {
        continent: 'Americas',
        country: 'United States',
        region: 'Texas',
        city: 'Houston',
        sub_continent: 'Northern America',
        metro: '(not set)',
      },
      {
        continent: 'Europe',
        country: 'United Kingdom',
        region: 'England',
        city: 'London',
        sub_continent: 'Northern Europe',
        metro: '(not set)',
      },
      { continent: 'Asia', country: 'India', region: 'Karnataka', city: 'Bengaluru', sub_continent: 'Southern Asia', metro: '(not set)' },
    ]),
    app_info: android
      ? {
          id: 'com.labpixies.flood',
          version: '2.62',
          firebase_app_id: '1:300830567303:android:9b9ba2ce17104d0c',
          install_source: 'com.android.vending',
        }
      : { id: 'com.google.flood2', version: '2.6.2', firebase_app_id: '1:300830567303:ios:2a9a8b5c1e1e0b6d', install_source: 'iTunes' },
    traffic_source: { name: '(direct)', medium: '(none)', source: '(direct)' },
    stream_id: android ? '1051193346' : '1051193347',
    platform: android ? 'ANDROID' : 'IOS',
    items: [],
  });
}

/** A Flood-It user_pseudo_id: 32 upper-case hexadecimal digits. */
export function ga4UserId(random: () => number): string {
  return Array.from({ length: 32 }, () => '0123456789ABCDEF'[Math.floor(random() * 16)]).join('');
}

/** `datetime.now().isoformat()`: local time without a zone, µs, the fraction left out when it is zero. */
export function pythonIsoformat(timeMs: number, zone: string, micros: number): string {
  const local = DateTime.fromMillis(timeMs, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss");
  const us = (timeMs % 1000) * 1000 + micros;
  return us === 0 ? local : `${local}.${String(us).padStart(6, '0')}`;
}

/**
 * the sales producer's publisher_simulator: TXN- and 6 digits, amount |gauss(150, 100)| kept within 10–1000 with 2
 * decimals, `datetime.now().isoformat()` (local time of `zone`, no zone in the text), a store; serialised
 * as Python's json.dumps does (", " and ": " separators, floats always with a decimal point).
 */
export function transactionMessage(timeMs: number, random: () => number, zone = 'UTC'): string {
  const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const amount = Math.round(Math.max(10, Math.min(Math.abs(150 + 100 * gauss), 1000)) * 100) / 100;
  return pythonJsonDumps({
    transaction_id: `TXN-${100000 + Math.floor(random() * 900000)}`,
    amount,
    timestamp: pythonIsoformat(timeMs, zone, Math.floor(random() * 1000)),
    store_id: STORES[Math.floor(random() * STORES.length)]!,
  });
}

/** Python's json.dumps of a flat dict of strings and floats. */
export function pythonJsonDumps(o: Record<string, string | number>): string {
  const value = (v: string | number) => (typeof v === 'string' ? JSON.stringify(v) : Number.isInteger(v) ? `${v}.0` : String(v));
  return `{${Object.entries(o)
    .map(([k, v]) => `${JSON.stringify(k)}: ${value(v)}`)
    .join(', ')}}`;
}

/** One of `xs` (an array's items or a string's characters), drawn by `r`. */
const oneOf = <T>(r: () => number, xs: ArrayLike<T>): T => xs[Math.floor(r() * xs.length)]!;

/** An `n`-digit number (no leading zero) as randomuser.me draws them. */
const digits = (r: () => number, n: number) => 10 ** (n - 1) + Math.floor(r() * (9 * 10 ** (n - 1) - 1));

/**
 * Nationalities of the randomuser.me API (version 1.4) with what differs between them: names in the
 * local script, the postcode (a number for some countries, text for others) and the national id.
 */
const NATS: {
  nat: string;
  country: string;
  first: string[];
  last: string[];
  states: string[];
  cities: string[];
  postcode: (r: () => number) => string | number;
  id: (r: () => number) => { name: string; value: string | null };
}[] = [
  {
    nat: 'US',
    country: 'United States',
    first: ['Jennie', 'Brandon', 'Kelly', 'Dwayne'],
    last: ['Nichols', 'Hughes', 'Warren', 'Stevens'],
    states: ['Michigan', 'Texas', 'Oregon'],
    cities: ['Billings', 'Garland', 'Salem'],
    postcode: (r) => digits(r, 5),
    id: (r) => ({ name: 'SSN', value: `${digits(r, 3)}-${digits(r, 2)}-${digits(r, 4)}` }),
  },
  {
    nat: 'GB',
    country: 'United Kingdom',
    first: ['Oliver', 'Amelia', 'Harry'],
    last: ['Walker', 'Roberts', 'Wright'],
    states: ['Cumbria', 'Norfolk'],
    cities: ['Carlisle', 'Norwich'],
    postcode: (r) =>
      `${oneOf(r, 'ABCDEFGHJ')}${Math.floor(r() * 9)} ${Math.floor(r() * 9)}${oneOf(r, 'ABDEFGHJLN')}${oneOf(r, 'PQRSTUWXYZ')}`,
    id: (r) => ({ name: 'NINO', value: `WB ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)} Q` }),
  },
  {
    nat: 'DE',
    country: 'Germany',
    first: ['Jürgen', 'Käthe', 'Günter'],
    last: ['Müller', 'Schäfer', 'Weiß'],
    states: ['Bayern', 'Sachsen'],
    cities: ['München', 'Görlitz'],
    postcode: (r) => digits(r, 5),
    id: () => ({ name: 'SVNR', value: null }),
  },
  {
    nat: 'IR',
    country: 'Iran',
    first: ['محمدمهدی', 'نازنین', 'آرش'],
    last: ['رضایی', 'کریمی', 'احمدی'],
    states: ['تهران', 'اصفهان'],
    cities: ['تهران', 'کاشان'],
    postcode: (r) => digits(r, 5),
    id: () => ({ name: '', value: null }),
  },
  {
    nat: 'UA',
    country: 'Ukraine',
    first: ['Олександр', 'Оксана', 'Тарас'],
    last: ['Шевченко', 'Коваленко', 'Бондаренко'],
    states: ['Київська', 'Львівська'],
    cities: ['Київ', 'Львів'],
    postcode: (r) => digits(r, 5),
    id: () => ({ name: '', value: null }),
  },
  {
    nat: 'CA',
    country: 'Canada',
    first: ['Zoé', 'Liam', 'Chloé'],
    last: ['Gagné', 'Roy', 'Tremblay'],
    states: ['Québec', 'Ontario'],
    cities: ['Lévis', 'Ottawa'],
    postcode: (r) =>
      `${oneOf(r, 'ABCEGHJK')}${Math.floor(r() * 9)}${oneOf(r, 'ABCEGHJ')} ${Math.floor(r() * 9)}${oneOf(r, 'KLMNP')}${Math.floor(r() * 9)}`,
    id: (r) => ({ name: 'SIN', value: String(digits(r, 9)) }),
  },
  {
    nat: 'BR',
    country: 'Brazil',
    first: ['João', 'Letícia', 'Conceição'],
    last: ['da Mota', 'Araújo', 'Gonçalves'],
    states: ['Paraná', 'Pará'],
    cities: ['Maringá', 'Belém'],
    postcode: (r) => digits(r, 5),
    id: (r) => ({
      name: 'CPF',
      value: `${digits(r, 3)}.${digits(r, 3)}.${digits(r, 3)}-${digits(r, 2)}`,
    }),
  },
  {
    nat: 'NL',
    country: 'Netherlands',
    first: ['Sem', 'Ilse', 'Daan'],
    last: ['van der Berg', 'de Vries', 'Bakker'],
    states: ['Drenthe', 'Utrecht'],
    cities: ['Assen', 'Zeist'],
    postcode: (r) => `${digits(r, 4)} ${oneOf(r, 'ABCDEFGH')}${oneOf(r, 'KLMNPRST')}`,
    id: (r) => ({ name: 'BSN', value: String(digits(r, 8)) }),
  },
];

/**
 * randomuser.me registrations: a randomuser.me API response (`GET https://randomuser.me/api/?results=N`, version 1.4) with
 * `results` users, every nested field the API returns; 100 results are about 105 KiB.
 */
export function randomUserResponse(results: number, random: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => oneOf(random, '0123456789abcdef')).join('');
  const ascii = (t: string) =>
    t
      .normalize('NFD')
      .replace(/[^\x00-\x7f]/g, '')
      .replace(/\s+/g, '')
      .toLowerCase() || 'user';
  /** A time in the `years` years from `fromYear` (days 1 to 28), to the millisecond or to the minute. */
  const randomTime = (fromYear: number, years: number, precision: 'ms' | 'minute') => {
    const year = fromYear + Math.floor(random() * years);
    const month = Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    const hour = Math.floor(random() * 24);
    const minute = Math.floor(random() * 60);
    if (precision === 'minute') return new Date(Date.UTC(year, month, day, hour, minute));
    return new Date(Date.UTC(year, month, day, hour, minute, Math.floor(random() * 60), Math.floor(random() * 1000)));
  };
  const users = Array.from({ length: results }, () => {
    const n = oneOf(random, NATS);
    const gender = random() < 0.5 ? 'female' : 'male';
    const first = oneOf(random, n.first);
    const last = oneOf(random, n.last);
    const dob = randomTime(1945, 60, 'ms');
    const registered = randomTime(2002, 20, 'minute');
    const portrait = `${gender === 'female' ? 'women' : 'men'}/${Math.floor(random() * 100)}.jpg`;
    const phone = () => `(${digits(random, 3)}) ${digits(random, 3)}-${digits(random, 4)}`;
    return {
      gender,
      name: {
        title: gender === 'female' ? oneOf(random, ['Ms', 'Mrs', 'Miss', 'Madame']) : oneOf(random, ['Mr', 'Monsieur']),
        first,
        last,
      },
      location: {
        street: {
          number: 1 + Math.floor(random() * 9999),
          name: oneOf(random, ['Valwood Pkwy', 'Hauptstraße', 'Rue de la Gare', 'خیابان شهید نامجو', 'Шевченка']),
        },
        city: oneOf(random, n.cities),
        state: oneOf(random, n.states),
        country: n.country,
        postcode: n.postcode(random),
        coordinates: { latitude: (random() * 180 - 90).toFixed(4), longitude: (random() * 360 - 180).toFixed(4) },
        timezone: oneOf(random, [
          { offset: '+9:30', description: 'Adelaide, Darwin' },
          { offset: '-5:00', description: 'Eastern Time (US & Canada), Bogota, Lima' },
          { offset: '+1:00', description: 'Brussels, Copenhagen, Madrid, Paris' },
        ]),
      },
      email: `${ascii(first)}.${ascii(last)}@example.com`,
      login: {
        uuid: `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`,
        username: `${oneOf(random, ['yellow', 'silver', 'happy', 'tiny', 'heavy', 'organic'])}${oneOf(random, ['peacock', 'koala', 'rabbit', 'tiger', 'bird', 'fish'])}${Math.floor(random() * 1000)}`,
        password: oneOf(random, ['addison', 'pumpkin', 'trouble', 'sunshine']),
        salt: hex(8),
        md5: hex(32),
        sha1: hex(40),
        sha256: hex(64),
      },
      dob: { date: dob.toISOString(), age: 2026 - dob.getUTCFullYear() },
      registered: { date: registered.toISOString(), age: 2026 - registered.getUTCFullYear() },
      phone: phone(),
      cell: phone(),
      id: n.id(random),
      picture: {
        large: `https://randomuser.me/api/portraits/${portrait}`,
        medium: `https://randomuser.me/api/portraits/med/${portrait}`,
        thumbnail: `https://randomuser.me/api/portraits/thumb/${portrait}`,
      },
      nat: n.nat,
    };
  });
  return JSON.stringify({ results: users, info: { seed: hex(16), results, page: 1, version: '1.4' } });
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

/**
 * Event time of the i-th message of a replay: from `start`, advancing `speed` times faster than
 * publishing (with a rate, evenly: message i at start + i × speed / rate s); undefined = now.
 */
export function replayClock(
  start: number | undefined,
  speed: number,
  rate: number | undefined,
  t0: number,
): ((i: number) => number) | undefined {
  if (start === undefined) return undefined;
  return (i) => Math.round(start + (rate !== undefined ? (i * 1000) / rate : Date.now() - t0) * speed);
}

/** Publishes clicks, transactions or user registrations in the seeds' exact formats. */
export async function generateEvents(pubsub: PubSub, opts: EventOptions): Promise<GeneratedEvents> {
  const random = opts.random ?? Math.random;
  const topic = pubsub.topic(opts.topic, { batching: { maxMessages: 500, maxMilliseconds: 10 } });
  const userIds = Array.from({ length: opts.users ?? 50 }, () => ga4UserId(random));
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
          ? transactionMessage(t, random, opts.timezone)
          : randomUserResponse(opts.results ?? 1 + Math.floor(random() * 3), random);
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
    if ((i + 1) % 100 === 0 || i + 1 === opts.count)
      opts.onProgress?.({ sent: i + 1, duplicates: out.duplicates, malformed: out.malformed });
  }
  await Promise.all(inFlight);
  await topic.flush();
  return out;
}
