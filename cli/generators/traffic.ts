import { randomInt } from 'node:crypto';
import type { PubSub } from '@google-cloud/pubsub';
import type { Radar } from '../../shared/speed/radar.js';
import { gsUri, objectName } from '../../shared/fines/object-names.js';
import type { ObjectStore } from '../../shared/fines/ports.js';
import { radarThresholdKmh } from '../../shared/speed/average-speed.js';
import { renderCapturePhoto } from './capture-photo.js';
import { plateForVehicle, plateId } from './plates.js';

export interface TrafficOptions {
  mode: 'seed' | 'timed';
  vehicles: number;
  /** vehicles per second; undefined = the seed generator's own cadence (3×5 vehicles, then 1–10 s pause) */
  rate?: number;
  /** seed mode: probability of a 40–90 km/h spot speed (the seed's 0.25); timed mode: share of speeding vehicles */
  speedingShare: number;
  /** probability that a message is published twice (a publisher-side duplicate, new messageId) */
  duplicateShare: number;
  radar: Radar;
  /** seed mode: the radar_id attribute to attach; the seed publishes none (the default radar) */
  radarAttribute?: string;
  topic: string;
  random?: () => number;
  /**
   * timed mode: where the cameras' photos go (captures bucket, referenced by the exit's image_uri);
   * without it no photos are taken. Seed mode takes none, as the radar producer: the cars API photographs those.
   */
  captures?: { store: ObjectStore; bucket: string };
  onProgress?: (p: TrafficProgress) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface TrafficProgress {
  vehicles: number;
  messages: number;
  duplicates: number;
  elapsedMs: number;
}

/** What was generated for one vehicle: the truth the demo and tests compare against. */
export interface GeneratedVehicle {
  vehicleId: string;
  messages: string[];
  /** the spot speeds (seed) or the travel speed (timed), km/h */
  speeds: number[];
  /** the licence plate in the photo (the truth OCR is measured against) */
  plate: string;
  captureUri: string | null;
  lastPublishAckMs: number;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** the radar producer: six characters from string.ascii_letters + string.digits, drawn with `secrets`. */
export function shortVehicleId(): string {
  return Array.from({ length: 6 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
}

/** Python's repr of a float, as json.dumps writes it (40 → 40.0). */
export function pyFloat(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** the radar producer's getVehicleLocation: `points` positions equally spaced from start to end. */
export function sectionPoints(start: readonly [number, number], end: readonly [number, number], points: number): [number, number][] {
  return Array.from({ length: points }, (_, i) => {
    const f = i / (points - 1);
    return [start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1])];
  });
}

/** One seed-format message exactly as the radar producer publishes it: json.dumps of the payload dict. */
export function spotSpeedMessage(vehicleId: string, speed: number, location: readonly [number, number]): string {
  return `{"vehicle_id": "${vehicleId}", "speed": ${pyFloat(speed)}, "location": [${pyFloat(location[0])}, ${pyFloat(location[1])}]}`;
}

/** the radar producer's getVehicleSpeed: 75 % uniform in 25–40, 25 % uniform in 40–90 (the share is an option). */
export function spotSpeed(random: () => number, fastShare: number): number {
  return random() < 1 - fastShare ? 25 + random() * 15 : 40 + random() * 50;
}

export function spotSpeedVehicleMessages(
  radar: Radar,
  random: () => number,
  fastShare: number,
  vehicleId = shortVehicleId(),
): { vehicleId: string; messages: string[]; speeds: number[] } {
  const speeds: number[] = [];
  const messages = sectionPoints(radar.entry, radar.exit, 10).map((loc) => {
    const v = spotSpeed(random, fastShare);
    speeds.push(v);
    return spotSpeedMessage(vehicleId, v, loc);
  });
  return { vehicleId, messages, speeds };
}

export function timedVehicleMessages(
  radar: Radar,
  random: () => number,
  speedingShare: number,
  nowMs: number,
  plate = plateId(),
  imageUri?: string,
  entryImageUri?: string,
): { vehicleId: string; messages: string[]; speeds: number[] } {
  const limit = radarThresholdKmh(radar);
  const v = random() < speedingShare ? limit + 1 + random() * 50 : 20 + random() * (limit - 21);
  const travelMs = (radar.lengthKm / v) * 3_600_000;
  const exitMs = nowMs;
  const entryMs = Math.round(exitMs - travelMs);
  const obs = (camera: string, t: number, loc: readonly [number, number], image?: string) =>
    JSON.stringify({
      radar_id: radar.id,
      vehicle_id: plate,
      timestamp: new Date(t).toISOString(),
      location: loc,
      camera,
      plate,
      ...(image ? { image_uri: image } : {}),
    });
  return {
    vehicleId: plate,
    messages: [obs('entry', entryMs, radar.entry, entryImageUri), obs('exit', exitMs, radar.exit, imageUri)],
    speeds: [v],
  };
}

/**
 * Publishes vehicles to Pub/Sub (the emulator when PUBSUB_EMULATOR_HOST is set, else the real project).
 * Each vehicle's messages go out in one burst, as the seed generator sends them.
 */
export async function generateTraffic(pubsub: PubSub, opts: TrafficOptions): Promise<GeneratedVehicle[]> {
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const topic = pubsub.topic(opts.topic, { batching: { maxMessages: 100, maxMilliseconds: 5 } });
  const attributes = opts.mode === 'seed' && opts.radarAttribute ? { radar_id: opts.radarAttribute } : undefined;
  const out: GeneratedVehicle[] = [];
  const progress: TrafficProgress = { vehicles: 0, messages: 0, duplicates: 0, elapsedMs: 0 };
  let started = Date.now();

  /** a timed vehicle's plate and its cameras' photos, in the captures bucket already */
  type Photographed = { plate: string; captureUri: string; entryUri: string };
  const photograph = async (): Promise<Photographed> => {
    const plate = plateId();
    const captures = opts.captures!;
    // captures/<radar>/<vehicle>/<time ms>.png for the exit (the one the fine reads), <time ms>-entry.png for
    // the entry (the review page shows both).
    const now = Date.now();
    const [exit, entry] = await Promise.all([renderCapturePhoto(plate, random), renderCapturePhoto(plate, random)]);
    const captureUri = gsUri(captures.bucket, `${objectName(opts.radar.id, plate)}/${now}.png`);
    const entryUri = gsUri(captures.bucket, `${objectName(opts.radar.id, plate)}/${now}-entry.png`);
    await Promise.all([
      captures.store.put(captureUri, exit.image, { contentType: 'image/png' }),
      captures.store.put(entryUri, entry.image, { contentType: 'image/png' }),
    ]);
    return { plate, captureUri, entryUri };
  };
  // The cameras' photos are drawn before the observations go out: drawing them is CPU-bound, and drawn at
  // each vehicle's due time they held back the publishes, which then went out in bunches (60 vehicles in
  // 0.1–3 s instead of 5 s at 12/s, measured 2026-12-07). A radar publishes as vehicles pass; its cameras
  // took the photos already.
  const photographed: Photographed[] = [];
  const photographs = opts.captures !== undefined && opts.mode === 'timed';
  if (photographs && opts.rate !== undefined) for (let i = 0; i < opts.vehicles; i++) photographed.push(await photograph());
  started = Date.now(); // the rate runs from the first publish

  const sendVehicle = async (index: number) => {
    // Seed mode: the plate the cars API photographs for this id (the truth fines are checked against).
    const shortId = opts.mode === 'seed' ? shortVehicleId() : null;
    const photos = photographed[index] ?? (photographs ? await photograph() : undefined);
    const plate = shortId ? plateForVehicle(shortId) : (photos?.plate ?? plateId());
    const vehicleId = shortId ?? plate;
    const captureUri = photos?.captureUri ?? null;
    const entryUri = photos?.entryUri ?? null;
    const v =
      opts.mode === 'seed'
        ? spotSpeedVehicleMessages(opts.radar, random, opts.speedingShare, vehicleId)
        : timedVehicleMessages(opts.radar, random, opts.speedingShare, Date.now(), plate, captureUri ?? undefined, entryUri ?? undefined);
    const sends: Promise<string>[] = [];
    for (const m of v.messages) {
      const data = Buffer.from(m);
      sends.push(topic.publishMessage({ data, attributes }));
      if (random() < opts.duplicateShare) {
        sends.push(topic.publishMessage({ data, attributes }));
        progress.duplicates++;
      }
    }
    await Promise.all(sends);
    progress.messages += sends.length;
    progress.vehicles++;
    progress.elapsedMs = Date.now() - started;
    opts.onProgress?.({ ...progress });
    out.push({ ...v, plate, captureUri, lastPublishAckMs: Date.now() });
  };

  if (opts.rate !== undefined) {
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < opts.vehicles; i++) {
      const due = started + (i * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(sendVehicle(i));
    }
    await Promise.all(inFlight);
  } else {
    // the radar producer's run_generator: 3 threads of 5 vehicles each, then sleep uniform(1, 10) s.
    while (progress.vehicles < opts.vehicles) {
      const n = Math.min(15, opts.vehicles - out.length);
      await Promise.all(Array.from({ length: n }, (_, k) => sendVehicle(out.length + k)));
      if (out.length < opts.vehicles) await sleep(1000 + random() * 9000);
    }
  }
  await topic.flush();
  return out;
}

/** Malformed observations from the bad-input corpus (truncated, wrong types, out of range, off the section, not an object). */
export const MALFORMED_OBSERVATIONS: readonly string[] = [
  '{"vehicle_id": "aB3xY9", "speed": 57.3',
  '{"vehicle_id": "aB3xY9", "speed": "fast", "location": [40.7638, -73.9729]}',
  '{"vehicle_id": "aB3xY9", "speed": -12.5, "location": [40.7638, -73.9729]}',
  '{"vehicle_id": "aB3xY9", "speed": 30.1, "location": [91.0, -73.9729]}',
  '{"vehicle_id": "aB3xY9", "speed": 30.1, "location": [40.7, -74.5]}',
  '[1, 2, 3]',
];
