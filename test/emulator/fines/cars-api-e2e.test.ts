import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PubSub, type Message } from '@google-cloud/pubsub';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT } from '../../../shared/speed/radar.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import { startStack, type Stack } from '../../../cli/stack.js';
import { expectedSpaceMean, stackOnTestEmulators } from '../../support/fixtures.js';

/**
 * The radar producer's stream, unchanged (no photos, no radar attribute for the default radar), through the real
 * local stack, with SPEEDCAM_CARS_API pointing at an outside server (not the stack's own) that serves
 * JPEG photos of nine countries' plates, as the seed's cars API serves photos from a bucket. A second
 * radar on the same section uses the seeds' arithmetic mean (`average_speed: arithmetic`).
 */
const PHOTOS = ['000-us-ny', '004-uk', '006-de', '008-fr', '010-nl', '017-se', '019-es', '021-it', '023-pl'];
const manifest = JSON.parse(readFileSync('test/fixtures/plates/manifest.json', 'utf8')) as { photos: { file: string; plate: string }[] };
const truthOf = (photo: string) => manifest.photos.find((p) => p.file === `${photo}.jpg`)!.plate;

let stack: Stack;
let ps: PubSub;
let api: Server;
const apiCalls: URLSearchParams[] = [];
const photoOf = new Map<string, string>();
const notes = new Map<string, Record<string, unknown>>();
const decisions = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  api = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v1/car') {
      apiCalls.push(url.searchParams);
      return res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          image_url: `http://${req.headers.host}/bucket/${photoOf.get(url.searchParams.get('vehicle_id') ?? '') ?? PHOTOS[0]}.jpg`,
        }),
      );
    }
    const m = /^\/bucket\/([a-z0-9-]+)\.jpg$/.exec(url.pathname);
    if (m && PHOTOS.includes(m[1]!))
      return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(readFileSync(`test/fixtures/plates/${m[1]}.jpg`));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/car`;
  const at = stackOnTestEmulators();
  stack = await startStack({
    ...at,
    flushIntervalMs: 1000,
    dataDir: mkdtempSync(join(tmpdir(), 'speedcam-carsapi-')),
    env: {
      SPEEDCAM_EXPORT_GRACE_S: '1',
      SPEEDCAM_CARS_API: apiUrl,
      SPEEDCAM_PHOTO_ALLOW_LOOPBACK: 'true', // the test server is on this machine
      SPEEDCAM_PLATE_FORMATS: 'us-ny,uk,de,fr,nl,se,es,it,pl',
      SPEEDCAM_RADARS: JSON.stringify([
        { id: 'nyc-5th-ave-apple-zara', entry: FIFTH_AVENUE_ENTRY, exit: FIFTH_AVENUE_EXIT },
        { id: 'seed-rule', entry: FIFTH_AVENUE_ENTRY, exit: FIFTH_AVENUE_EXIT, average_speed: 'arithmetic' },
      ]),
    },
    echoSeverity: 'ERROR',
  });
  expect(stack.info.carsApi).toBe(apiUrl); // the stack's own cars API is not started
  ps = new PubSub({ projectId: at.project });
  const listen = async (topic: string, into: Map<string, Record<string, unknown>>) => {
    const [sub] = await ps.topic(topic).createSubscription(`carsapi-${topic}`);
    sub.on('message', (m: Message) => {
      const body = JSON.parse(m.data.toString()) as Record<string, unknown>;
      into.set(String(body['vehicle_id']), body);
      m.ack();
    });
  };
  await listen(stack.info.topics.fineNotifications, notes);
  await listen(stack.info.topics.speedingVehicles, decisions);
  await listen(stack.info.topics.nonFinedVehicles, decisions);
});

afterAll(async () => {
  await ps?.close();
  await stack?.stop();
  await new Promise<void>((r) => api?.close(() => r()));
});

describe('cars API photos of several countries, through the local stack', () => {
  it('every fine carries the analysed photo and the plate; the API saw each vehicle_id; the arithmetic radar follows the seed rule', async () => {
    const pts = sectionPoints(FIFTH_AVENUE_ENTRY, FIFTH_AVENUE_EXIT, 10);
    const topic = ps.topic(stack.info.topics.vehicleObservations);
    let x = 5;
    const rand = () => (x = (x * 48271) % 2147483647) / 2147483647;
    const fast = PHOTOS.map((photo, i) => {
      const id = `Car${String(i).padStart(3, '0')}`;
      photoOf.set(id, photo);
      return { id, speeds: pts.map(() => 55 + rand() * 30) };
    });
    // the seed's distribution on the arithmetic radar: 75 % of spot speeds 25–40, 25 % 40–90
    const arithmeticMeanOf = Array.from({ length: 8 }, (_, i) => ({
      id: `Ari${String(i).padStart(3, '0')}`,
      speeds: pts.map(() => (rand() < 0.75 ? 25 + rand() * 15 : 40 + rand() * 50)),
    }));
    arithmeticMeanOf.push({ id: 'AriWrong', speeds: [30, 30, 30, 30, 30, 90, 90, 30, 30, 30] }); // arithmetic 42, space-mean 36.8
    arithmeticMeanOf.forEach((v, i) => photoOf.set(v.id, PHOTOS[i % PHOTOS.length]!));
    const sends: Promise<string>[] = [];
    for (const v of fast)
      for (const [j, p] of pts.entries()) sends.push(topic.publishMessage({ data: Buffer.from(spotSpeedMessage(v.id, v.speeds[j]!, p)) }));
    for (const v of arithmeticMeanOf)
      for (const [j, p] of pts.entries())
        sends.push(
          topic.publishMessage({ data: Buffer.from(spotSpeedMessage(v.id, v.speeds[j]!, p)), attributes: { radar_id: 'seed-rule' } }),
        );
    await Promise.all(sends);

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const finedByArithmeticMean = arithmeticMeanOf.filter((v) => mean(v.speeds) > 40);
    // A fine with a review reason is held (no notice) until a person decides: it is in the review queue instead.
    const review = stack.info.review!;
    let held: Record<string, unknown>[] = [];
    await vi.waitFor(
      async () => {
        expect(decisions.size).toBe(fast.length + arithmeticMeanOf.length);
        const res = await fetch(`${review.url}reviews?status=pending`, { headers: { authorization: `Bearer ${review.token}` } });
        held = ((await res.json()) as { reviews: Record<string, unknown>[] }).reviews;
        expect(notes.size + held.length).toBe(fast.length + finedByArithmeticMean.length);
      },
      { timeout: 90_000, interval: 500 },
    );
    for (const h of held) {
      expect(h['review_reason']).not.toBeNull();
      expect(notes.has(String(h['vehicle_id']))).toBe(false);
    }

    // the arithmetic radar: speeds and decisions are the seed's rule exactly
    for (const v of arithmeticMeanOf) {
      const d = decisions.get(v.id)!;
      expect(d['radar_id']).toBe('seed-rule');
      expect(d['method']).toBe('arithmetic_mean');
      expect(d['avg_speed'] as number).toBeCloseTo(mean(v.speeds), 9);
      expect(d['is_Ticketed']).toBe(mean(v.speeds) > 40);
    }
    expect(decisions.get('AriWrong')!['is_Ticketed']).toBe(true);
    // …while the default radar keeps space-mean (distance over time)
    for (const v of fast) expect(decisions.get(v.id)!['avg_speed'] as number).toBeCloseTo(expectedSpaceMean(v.speeds, pts), 6);

    // every notified fine: the analysed photo (a PNG on disk), a plate, the photo from the cars API
    let exact = held.filter((h) => h['license_plate'] === truthOf(photoOf.get(String(h['vehicle_id']))!)).length;
    const misses: string[] = held
      .filter((h) => h['license_plate'] !== truthOf(photoOf.get(String(h['vehicle_id']))!))
      .map((h) => `${photoOf.get(String(h['vehicle_id']))}: held, read ${String(h['license_plate'])} (${String(h['review_reason'])})`);
    for (const [vehicle, n] of notes) {
      expect(n).toMatchObject({ photo_source: 'cars_api', is_Ticketed: true, status: 'issued', review_reason: null });
      expect(n['license_plate']).toEqual(expect.any(String));
      expect(String(n['capture_uri'])).toMatch(/\/bucket\/[a-z0-9-]+\.jpg$/);
      const file = fileURLToPath(String(n['image_url']));
      expect(existsSync(file)).toBe(true);
      expect((await sharp(file).metadata()).format).toBe('png');
      if (n['license_plate'] === truthOf(photoOf.get(vehicle)!)) exact++;
      else {
        misses.push(
          `${photoOf.get(vehicle)}: read ${String(n['license_plate'])} (${String(n['review_reason'])}), truth ${truthOf(photoOf.get(vehicle)!)}`,
        );
        expect.fail(`a wrong plate left in a notice without review: ${misses.at(-1)}`);
      }
      // the cars API was asked for this very vehicle, with its radar
      expect(apiCalls.some((q) => q.get('vehicle_id') === vehicle && q.get('radar_id') === n['radar_id'])).toBe(true);
    }
    // nine countries' formats at once make partial reads fit more often than one country's would
    expect(exact, misses.join('; ')).toBeGreaterThanOrEqual(Math.ceil((notes.size + held.length) * 0.85));
    // only fined vehicles are photographed
    expect(new Set(apiCalls.map((q) => q.get('vehicle_id')))).toEqual(
      new Set([...notes.keys(), ...held.map((h) => String(h['vehicle_id']))]),
    );
  });
});
