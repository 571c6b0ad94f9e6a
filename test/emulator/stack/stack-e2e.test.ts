import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DuckDbWarehouse } from '../../../shared/platform/duckdb-warehouse.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import { startStack, type Stack } from '../../../cli/stack.js';
import { plateForVehicle } from '../../../cli/generators/plates.js';
import { expectedSpaceMean, stackOnTestEmulators } from '../../support/fixtures.js';

/**
 * From publish to outputs and warehouse rows through the real local stack: functions-framework servers
 * fed the Pub/Sub push envelope, Firestore and Pub/Sub emulators, DuckDB warehouse, flush.
 */
let stack: Stack;
let ps: PubSub;
const received = new Map<string, { topic: string; body: Record<string, unknown> }[]>();

beforeAll(async () => {
  const at = stackOnTestEmulators();
  stack = await startStack({
    ...at,
    flushIntervalMs: 1000,
    dataDir: mkdtempSync(join(tmpdir(), 'speedcam-e2e-')),
    env: { SPEEDCAM_EXPORT_GRACE_S: '1' },
    echoSeverity: 'ERROR',
  });
  ps = new PubSub({ projectId: at.project });
  for (const topic of [stack.info.topics.nonFinedVehicles, stack.info.topics.speedingVehicles, stack.info.topics.deadLetters]) {
    const [sub] = await ps.topic(topic).createSubscription(`e2e-${topic}`);
    sub.on('message', (m: Message) => {
      const key = m.attributes['passage_id'] ?? m.attributes['dead_letter_id'] ?? m.id;
      received.set(key, [...(received.get(key) ?? []), { topic, body: JSON.parse(m.data.toString()) as Record<string, unknown> }]);
      m.ack();
    });
  }
});

afterAll(async () => {
  await ps?.close();
  await stack?.stop();
});

describe('local stack end to end', () => {
  it('publishes → decisions on the output topics and rows in the warehouse, exactly once each', async () => {
    const radar = stack.runtime.config.radars.get(stack.runtime.config.defaultRadarId)!;
    const pts = sectionPoints(radar.entry, radar.exit, 10);
    const topic = ps.topic(stack.info.topics.vehicleObservations);
    let x = 7;
    const rand = () => (x = (x * 48271) % 2147483647) / 2147483647;
    const seed = Array.from({ length: 20 }, (_, i) => {
      const id = `E2e${String(i).padStart(3, '0')}`;
      const speeds = pts.map(() => (rand() < 0.75 ? 25 + rand() * 15 : 40 + rand() * 50));
      return { id, speeds, msgs: pts.map((p, j) => spotSpeedMessage(id, speeds[j]!, p)) };
    });
    const now = Date.now();
    const timed = [
      { id: 'TMD0001', seconds: 30 }, // 59.8 km/h: fined
      { id: 'TMD0002', seconds: 60 }, // 29.9 km/h
    ];
    const publishes: Promise<string>[] = [];
    for (const v of seed) for (const m of v.msgs) publishes.push(topic.publishMessage({ data: Buffer.from(m) }));
    for (const v of seed.slice(0, 3)) publishes.push(topic.publishMessage({ data: Buffer.from(v.msgs[4]!) })); // publisher duplicates
    for (const t of timed) {
      // the exit first: out-of-order arrival
      const mk = (camera: string, ms: number, loc: readonly [number, number]) =>
        JSON.stringify({ radar_id: radar.id, vehicle_id: t.id, timestamp: new Date(ms).toISOString(), location: loc, camera, plate: t.id });
      publishes.push(topic.publishMessage({ data: Buffer.from(mk('exit', now, radar.exit)) }));
      publishes.push(topic.publishMessage({ data: Buffer.from(mk('entry', now - t.seconds * 1000, radar.entry)) }));
    }
    publishes.push(topic.publishMessage({ data: Buffer.from('{"vehicle_id": oops') }));
    publishes.push(
      topic.publishMessage({
        data: Buffer.from('{"vehicle_id":"E2e999","speed":30,"location":[40.7638,-73.9729]}'),
        attributes: { radar_id: 'no-such-radar' },
      }),
    );
    await Promise.all(publishes);

    await vi.waitFor(
      () => {
        const decisions = [...received.values()].filter((v) => v[0]!.topic !== stack.info.topics.deadLetters);
        expect(decisions).toHaveLength(22);
        expect(received.size).toBe(24);
      },
      { timeout: 30_000, interval: 250 },
    );

    // every decision exactly once, on the right topic, with the right speed
    for (const v of seed) {
      const [d, ...dups] = [...received.entries()].find(([k]) => k.includes(`~${v.id}~`))![1];
      expect(dups).toHaveLength(0);
      const expected = expectedSpaceMean(v.speeds, pts);
      expect(d!.body['avg_speed'] as number).toBeCloseTo(expected, 6);
      expect(d!.body['is_Ticketed']).toBe(expected > 40);
      expect(d!.topic).toBe(expected > 40 ? stack.info.topics.speedingVehicles : stack.info.topics.nonFinedVehicles);
      expect(d!.body['observations']).toBe(10);
    }
    for (const t of timed) {
      const [d] = [...received.entries()].find(([k]) => k.includes(`~${t.id}~`))![1];
      expect(d!.body['avg_speed'] as number).toBeCloseTo(radar.lengthKm / (t.seconds / 3600), 6);
      expect(d!.body['license_plate']).toBe(d!.body['is_Ticketed'] ? t.id : null);
    }
    const dead = [...received.values()]
      .filter((v) => v[0]!.topic === stack.info.topics.deadLetters)
      .map((v) => v[0]!.body['reason'])
      .sort();
    expect(dead).toEqual(['malformed_json', 'unknown_radar']);

    // the flush lands every passage and dead letter in the warehouse once
    await vi.waitFor(
      async () => {
        const wh = await DuckDbWarehouse.open(stack.info.warehouse, { readOnly: true });
        try {
          expect(await wh.query('SELECT count(*) AS n, count(DISTINCT passage_id) AS d FROM speedcam.vehicle_passages')).toEqual([
            { n: 22, d: 22 },
          ]);
          expect(await wh.query('SELECT reason FROM speedcam.dead_letters ORDER BY reason')).toEqual([
            { reason: 'malformed_json' },
            { reason: 'unknown_radar' },
          ]);
          const fined = await wh.query('SELECT count(*) AS n FROM speedcam.vehicle_passages WHERE is_Ticketed');
          const speeding = [...received.values()].filter((v) => v[0]!.topic === stack.info.topics.speedingVehicles).length;
          expect(fined[0]!['n']).toBe(speeding);
          // the radar producer sends no photos: the stack's cars API photographs each fined vehicle, once per fine
          expect(
            await wh.query(
              'SELECT count(*) AS n, count(DISTINCT passage_id) AS d, count(image_url) AS photos, count(license_plate) AS plates, min(photo_source) AS s, max(photo_source) AS s2 FROM speedcam.fined_vehicles',
            ),
          ).toEqual([{ n: speeding, d: speeding, photos: speeding, plates: speeding, s: 'cars_api', s2: 'cars_api' }]);
          const fines = await wh.query('SELECT vehicle_id, license_plate, image_url FROM speedcam.fined_vehicles');
          for (const f of fines) expect(existsSync(fileURLToPath(String(f['image_url'])))).toBe(true);
          const exact = fines.filter((f) => f['license_plate'] === plateForVehicle(String(f['vehicle_id']))).length;
          expect(exact).toBeGreaterThanOrEqual(fines.length - 1);
        } finally {
          await wh.close();
        }
      },
      { timeout: 30_000, interval: 500 },
    );
  });
});
