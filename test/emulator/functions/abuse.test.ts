import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCapturePhoto } from '../../../cli/generators/capture-photo.js';
import { loadSchemas } from '../../../shared/export/schemas.js';
import { createLogger } from '../../../shared/core/logger.js';
import { clickRow, randomUserResponse } from '../../../cli/generators/events.js';
import { closeWorlds, inbound, testWorld, useEmulatorProject } from '../../support/fixtures.js';

beforeAll(() => {
  useEmulatorProject();
});
afterAll(closeWorlds);

const SQL = `x'); DROP TABLE speedcam.users; -- "\\u0000`;
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const ts = (ms: number) => new Date(ms).toISOString();

/** Hostile and broken messages for each input, with the reason each must be dead-lettered for. */
function corpus(now: number): { source: 'obs' | 'clicks' | 'transactions' | 'users'; data: string | Buffer; reason: string }[] {
  const timed = (o: Record<string, unknown>) =>
    JSON.stringify({
      radar_id: 'nyc-5th-ave-apple-zara',
      vehicle_id: 'KXT4821',
      timestamp: ts(now),
      location: [40.7638, -73.9729],
      camera: 'entry',
      ...o,
    });
  return [
    { source: 'obs', data: '{"vehicle_id": "aB3xY9", "speed": 57', reason: 'malformed_json' },
    // V8 parses 20,000 levels of nesting; the result is not a valid observation
    { source: 'obs', data: `{"vehicle_id":${deep(20000)}}`, reason: 'invalid_fields' },
    { source: 'obs', data: deep(30000), reason: 'not_an_object' },
    { source: 'obs', data: `{"vehicle_id":"${'A'.repeat(60000)}","speed":30,"location":[40.76,-73.97]}`, reason: 'invalid_fields' },
    {
      source: 'obs',
      data: `{"vehicle_id":"aB3xY9","speed":30,"location":[${Array(8000).fill(40.7).join(',')}]}`,
      reason: 'invalid_fields',
    },
    { source: 'obs', data: `{"vehicle_id":"${'B'.repeat(70000)}"}`, reason: 'oversized' },
    {
      source: 'obs',
      data: Buffer.concat([Buffer.from('{"vehicle_id":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]),
      reason: 'not_utf8',
    },
    { source: 'obs', data: '{"vehicle_id":"aB3xY9","speed":Infinity,"location":[40.76,-73.97]}', reason: 'malformed_json' },
    { source: 'obs', data: '{"vehicle_id":"aB3xY9","speed":1e999,"location":[40.76,-73.97]}', reason: 'invalid_fields' },
    { source: 'obs', data: '{"vehicle_id":"../../../etc/passwd","speed":30,"location":[40.7638,-73.9729]}', reason: 'invalid_fields' },
    {
      source: 'obs',
      data: '{"vehicle_id":"ab\\u0000\\r\\n{\\"severity\\":\\"ERROR\\"}","speed":30,"location":[40.7638,-73.9729]}',
      reason: 'invalid_fields',
    },
    { source: 'obs', data: JSON.stringify({ vehicle_id: SQL, speed: 30, location: [40.7638, -73.9729] }), reason: 'invalid_fields' },
    { source: 'obs', data: timed({ timestamp: '1970-01-01T00:00:00Z' }), reason: 'timestamp_out_of_range' },
    { source: 'obs', data: timed({ timestamp: '9999-12-31T23:59:59Z' }), reason: 'timestamp_out_of_range' },
    { source: 'obs', data: timed({ image_uri: 'gs://speedcam-captures/../../etc/passwd\u0000' }), reason: 'invalid_fields' },
    { source: 'obs', data: timed({ radar_id: '../radar' }), reason: 'invalid_fields' },
    { source: 'clicks', data: JSON.stringify({ user_pseudo_id: 'u', event_name: 'x', event_timestamp: 'NaN' }), reason: 'invalid_fields' },
    {
      source: 'clicks',
      data: JSON.stringify({ user_pseudo_id: 'u', event_name: 'x', event_timestamp: 1 }),
      reason: 'timestamp_out_of_range',
    },
    {
      source: 'clicks',
      data: JSON.stringify({ user_pseudo_id: 'u', event_name: 'x', event_timestamp: '9999999999999999999' }),
      reason: 'timestamp_out_of_range',
    },
    {
      source: 'clicks',
      data: JSON.stringify({ user_pseudo_id: ['u'], event_name: 'x', event_timestamp: now * 1000 }),
      reason: 'invalid_fields',
    },
    {
      source: 'transactions',
      data: JSON.stringify({ transaction_id: 'TXN-1', amount: 'NaN', timestamp: ts(now), store_id: 'NYC01' }),
      reason: 'invalid_fields',
    },
    {
      source: 'transactions',
      data: JSON.stringify({ transaction_id: 'TXN-2', amount: 1e308 * 10, timestamp: ts(now), store_id: 'NYC01' }),
      reason: 'invalid_fields',
    },
    {
      source: 'transactions',
      data: JSON.stringify({ transaction_id: 'TXN-3', amount: 5, timestamp: 'yesterday', store_id: 'NYC01' }),
      reason: 'timestamp_out_of_range',
    },
    { source: 'users', data: JSON.stringify({ results: [{ gender: 'x' }] }), reason: 'invalid_fields' },
    { source: 'users', data: JSON.stringify({ results: 'all of them' }), reason: 'invalid_fields' },
  ];
}

describe('bad-input and abuse corpus, through the functions and the flush', () => {
  it('dead-letters every case with its reason and the original payload; nothing crashes; logs stay one JSON line each', async () => {
    const lines: string[] = [];
    // Event time from the payload, so that the timestamp cases are read (with the default publish time
    // a field the pipeline does not use is only required to be present, as in the seeds).
    const payloadTime = {
      SPEEDCAM_PIPELINES: JSON.stringify({ clicks: { event_time: 'payload' }, transactions: { event_time: 'payload' } }),
    };
    const w = testWorld(payloadTime, { logger: createLogger({ minSeverity: 'DEBUG', write: (l) => lines.push(l) }) });
    const now = w.clock.now();
    const cases = corpus(now);
    const handlers = {
      obs: (m: ReturnType<typeof inbound>) => w.rt.speedCheck.handle(m),
      clicks: (m: ReturnType<typeof inbound>) => w.rt.windows.clicks.handle(m),
      transactions: (m: ReturnType<typeof inbound>) => w.rt.windows.transactions.handle(m),
      users: (m: ReturnType<typeof inbound>) => w.rt.registrations.handle(m),
    };
    for (const [i, c] of cases.entries()) {
      await expect(
        handlers[c.source](inbound(c.data, { messageId: `abuse-${i}`, attributes: { note: 'evil\n"attr' } })),
        `case ${i}`,
      ).resolves.toBeDefined();
    }
    const dls = w.publisher.on(w.config.topics.deadLetters);
    expect(dls.map((d) => d.data['reason'])).toEqual(cases.map((c) => c.reason));
    for (const [i, d] of dls.entries()) {
      const original = cases[i]!.data;
      const payload =
        d.data['payload_encoding'] === 'base64' ? Buffer.from(String(d.data['payload']), 'base64') : Buffer.from(String(d.data['payload']));
      expect(payload.equals(Buffer.from(original)), `payload of case ${i}`).toBe(true);
      expect(d.data['attributes']).toEqual({ note: 'evil\n"attr' });
    }
    // every log line is one parseable JSON object: no id or payload could forge a line
    for (const l of lines) {
      expect(l.includes('\n')).toBe(false);
      expect(() => JSON.parse(l)).not.toThrow();
    }
  });

  it('SQL-looking strings reach the warehouse as data, verbatim, and every table survives', async () => {
    const w = testWorld();
    const now = Math.floor(w.clock.now() / 60_000) * 60_000 + 20_000;
    w.clock.t = now;
    await w.rt.windows.clicks.handle(inbound(clickRow(SQL, now - 1000, Math.random)));
    const user = JSON.parse(randomUserResponse(1, Math.random)) as { results: { name: { first: string }; login: { username: string } }[] };
    user.results[0]!.name.first = SQL;
    user.results[0]!.login.username = `robert'); DROP TABLE students;--`;
    await w.rt.registrations.handle(inbound(JSON.stringify(user)));
    w.clock.advance(120_000);
    await w.rt.flush.run();
    expect(await w.query('SELECT user_pseudo_id, event_count FROM speedcam.user_event_counts')).toEqual([
      { user_pseudo_id: SQL, event_count: 1 },
    ]);
    expect(await w.query('SELECT first_name, login_username FROM speedcam.users')).toEqual([
      { first_name: SQL, login_username: `robert'); DROP TABLE students;--` },
    ]);
    expect((await w.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'speedcam'"))[0]!['n']).toBe(
      loadSchemas().size,
    );
  });

  it('a speeding message whose ids try to escape the buckets gives a fine with safe object names', async () => {
    const w = testWorld({}, { ocr: { detect: async () => [] } });
    const dir = w.config.objects.kind === 'local' ? resolve(w.config.objects.dir) : '';
    expect(dir).not.toBe('');
    // A real photo, so that the fine stores its analysed photo through the real path (sharp, the object store).
    let x = 11;
    const { image } = await renderCapturePhoto('KXT4821', () => (x = (x * 48271) % 2147483647) / 2147483647, 'jpeg');
    const capture = join(dir, w.config.buckets.captures, 'cam', 'photo.jpg');
    mkdirSync(dirname(capture), { recursive: true });
    writeFileSync(capture, image);
    const body = {
      passage_id: '../../x\u0000y',
      radar_id: '../../etc',
      vehicle_id: 'a/../../b',
      avg_speed: 80,
      speed_limit: 40,
      coordinates: [40.76, -73.97],
      is_Ticketed: true,
      license_plate: null,
      image_uri: `gs://${w.config.buckets.captures}/cam/photo.jpg`,
      first_seen: ts(w.clock.now()),
      last_seen: ts(w.clock.now()),
    };
    const fine = (await w.rt.fines.handle(inbound(JSON.stringify(body))))!;
    expect(fine.fine_id).toMatch(/^F[0-9A-F]{19}$/);
    expect(fine.photo_source).toBe('image_uri');
    expect(fine.review_reason).toBe('plate_not_read');
    // the radar id became one plain segment inside the evidence bucket
    const evidence = join(dir, w.config.buckets.evidence, '.._.._etc', `${fine.fine_id}.png`);
    expect(fine.image_uri).toBe(`gs://${w.config.buckets.evidence}/.._.._etc/${fine.fine_id}.png`);
    expect(fine.image_url).toBe(pathToFileURL(evidence).href);
    expect(readFileSync(evidence).subarray(1, 4).toString()).toBe('PNG');
    // nothing was written outside the two buckets' own folders, nor under a name from the hostile ids
    const files = (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((d) => d.isFile())
      .map((d) => relative(dir, join(d.parentPath, d.name)));
    expect(files.filter((f) => !f.endsWith('.metadata.json')).sort()).toEqual(
      [
        join(w.config.buckets.captures, 'cam', 'photo.jpg'),
        join(w.config.buckets.evidence, '.._.._etc', `${fine.fine_id}.png`),
        // the original capture, kept with the fine's evidence (shared/fines/capture-copy.ts)
        join(w.config.buckets.evidence, '.._.._etc', `${fine.fine_id}-capture.jpg`),
      ].sort(),
    );
    expect(existsSync(resolve(dir, w.config.buckets.evidence, '../../etc'))).toBe(false);
    expect(existsSync(resolve(dir, '../etc'))).toBe(false);
  });
});
