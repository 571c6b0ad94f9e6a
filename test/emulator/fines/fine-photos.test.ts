import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { gsUri } from '../../../shared/fines/object-names.js';
import { ObjectAccessDenied, type ObjectStore } from '../../../shared/fines/ports.js';
import { plateForVehicle } from '../../../cli/generators/plates.js';
import { startCarsApi, type CarsApi } from '../../../cli/cars-api.js';
import { renderCapturePhoto } from '../../../cli/generators/capture-photo.js';
import { inbound, speedingBody, testWorld } from '../../support/fixtures.js';
import type { InboundMessage } from '../../../shared/core/pubsub-message.js';
import { useOcrWorlds } from '../../support/ocr-worlds.js';

const ocr = useOcrWorlds();
let cars: CarsApi;

beforeAll(async () => {
  cars = await startCarsApi();
});
afterAll(async () => {
  await cars.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An object store that behaves like another one, except where a test says otherwise. */
class ScriptedStore implements ObjectStore {
  getFails: ((uri: string) => Error | null) | null = null;
  creates = 0;
  constructor(readonly inner: LocalObjectStore) {}
  async get(uri: string) {
    const e = this.getFails?.(uri);
    if (e) throw e;
    return this.inner.get(uri);
  }
  put(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }) {
    return this.inner.put(uri, bytes, opts);
  }
  async create(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }) {
    this.creates++;
    return this.inner.create(uri, bytes, opts);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  viewUrl(uri: string) {
    return this.inner.viewUrl(uri);
  }
}

function world(env: Record<string, string> = {}) {
  const objects = new ScriptedStore(new LocalObjectStore(mkdtempSync(join(tmpdir(), 'objects-'))));
  const t = testWorld({ SPEEDCAM_PHOTO_ALLOW_LOOPBACK: 'true', ...env }, { objects, ocr });
  return { ...t, objects, fine: (msg: InboundMessage) => t.rt.fines.handle(msg) };
}
type World = ReturnType<typeof world>;

function speeding(w: World, vehicleId: string, imageUri: string | null = null) {
  const body = speedingBody(w, vehicleId, { avgSpeed: 58.2, seenForMs: 20_000, imageUri });
  return inbound(JSON.stringify(body), { messageId: `sp-${vehicleId}` });
}

describe('fines from the cars API (the radar producer: observations carry no photo)', () => {
  it('gets the JPEG the API names, reads its plate, and stores the analysed photo', async () => {
    const w = world({ SPEEDCAM_CARS_API: cars.url });
    const fine = (await w.fine(speeding(w, 'aB3xY9')))!;
    expect(fine).toMatchObject({ photo_source: 'cars_api', license_plate: plateForVehicle('aB3xY9'), review_reason: null });
    expect(fine.capture_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/photos\/aB3xY9\.jpg$/);
    expect(cars.requests).toContainEqual({ path: '/cars', vehicleId: 'aB3xY9', radarId: w.config.defaultRadarId });
    const stored = (await w.objects.get(fine.image_uri!))!;
    expect(sha(stored)).toBe(fine.image_sha256);
    expect((await sharp(stored).metadata()).format).toBe('png');
    expect(w.publisher.on(w.config.topics.fineNotifications)[0]!.data).toMatchObject({
      image_url: fine.image_url,
      license_plate: fine.license_plate,
    });
  });

  it('without loopback allowed (production), a cars API on 127.0.0.1 is never called: flagged photo_forbidden', async () => {
    const w = world({ SPEEDCAM_CARS_API: cars.url, SPEEDCAM_PHOTO_ALLOW_LOOPBACK: 'false' });
    const before = cars.requests.length;
    expect(await w.fine(speeding(w, 'Prod01'))).toMatchObject({ review_reason: 'photo_forbidden', image_url: null, license_plate: null });
    expect(cars.requests.length).toBe(before);
  });
});

describe('a camera capture in WebP, and a photo from another country', () => {
  it('reads a WebP capture', async () => {
    const w = world();
    const { image } = await renderCapturePhoto('KXT4821', () => 0.42, 'webp');
    const radar = w.config.radars.get(w.config.defaultRadarId)!;
    await w.objects.put(gsUri(w.config.buckets.captures, `${radar.id}/WebP01/${w.clock.now()}.webp`), image, { contentType: 'image/webp' });
    expect(await w.fine(speeding(w, 'WebP01'))).toMatchObject({ photo_source: 'capture', license_plate: 'KXT4821' });
  });

  it("reads a Swedish plate where the radar expects Sweden's formats", async () => {
    const w = world({ SPEEDCAM_PLATE_FORMATS: 'se' });
    await w.objects.put('gs://speedcam-captures/cam/se.jpg', readFileSync('test/fixtures/plates/005-se.jpg'), {
      contentType: 'image/jpeg',
    });
    expect(await w.fine(speeding(w, 'Swede1', 'gs://speedcam-captures/cam/se.jpg'))).toMatchObject({
      photo_source: 'image_uri',
      license_plate: 'FWP91P',
    });
  });
});

describe('photos the function may not read, and storage that is down', () => {
  it('403 on the photo: the fine is recorded, flagged photo_forbidden and held for review (no notice), not retried', async () => {
    const w = world();
    w.objects.getFails = (uri) => (uri.includes('captures') ? new ObjectAccessDenied(`403 on ${uri}`) : null);
    const fine = await w.fine(speeding(w, 'Denied', 'gs://speedcam-captures/cam/x.jpg'));
    expect(fine).toMatchObject({ review_reason: 'photo_forbidden', license_plate: null, status: 'pending_review' });
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);
  });

  it('storage unavailable: thrown (the platform retries), and the retry issues the fine once', async () => {
    const w = world();
    const radar = w.config.radars.get(w.config.defaultRadarId)!;
    const { image } = await renderCapturePhoto('JKL1234', () => 0.3);
    await w.objects.put(gsUri(w.config.buckets.captures, `${radar.id}/Flaky1/${w.clock.now()}.png`), image, { contentType: 'image/png' });
    w.objects.getFails = () => Object.assign(new Error('503 Service Unavailable'), { code: 503 });
    const msg = speeding(w, 'Flaky1');
    await expect(w.fine(msg)).rejects.toThrow(/503/);
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);
    w.objects.getFails = null;
    expect(await w.fine(msg)).toMatchObject({ license_plate: 'JKL1234', review_reason: null });
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(1);
  });
});

describe('evidence is created once (a retention policy forbids rewriting it)', () => {
  it('a retry after a crash between the upload and the record finds the same picture there: success, no conflict', async () => {
    const w = world({ SPEEDCAM_CARS_API: cars.url });
    w.faults.arm('fine.beforeRecord');
    const msg = speeding(w, 'Crash2');
    await expect(w.fine(msg)).rejects.toThrow(/injected/);
    const fine = (await w.fine(msg))!;
    expect(w.objects.creates).toBe(4); // per attempt, the capture's copy and the analysed photo: the second attempt's answered 'exists'
    expect(fine.review_reason).not.toBe('evidence_conflict');
    expect(fine.license_plate).toBe(plateForVehicle('Crash2'));
    expect(sha((await w.objects.get(fine.image_uri!))!)).toBe(fine.image_sha256);
  });

  it('a different picture already stored under the fine: kept, the record points at it, flagged evidence_conflict', async () => {
    const w = world({ SPEEDCAM_CARS_API: cars.url });
    const msg = speeding(w, 'Clash1');
    // an earlier attempt stored another analysed photo under this fine's name (another photo from the API)
    const probe = world({ SPEEDCAM_CARS_API: cars.url });
    const other = (await probe.fine(speeding(probe, 'Other1')))!;
    const otherBytes = (await probe.objects.get(other.image_uri!))!;
    const name = other.image_uri!.replace(/F[0-9A-F]+\.png$/, '');
    const { fineIdOf } = await import('../../../shared/fines/fine-record.js');
    const { passage_id } = JSON.parse(msg.data.toString()) as { passage_id: string };
    const target = `${name}${fineIdOf(passage_id)}.png`;
    expect(await w.objects.create(target, otherBytes, { contentType: 'image/png' })).toBe('created');
    const fine = (await w.fine(msg))!;
    expect(fine).toMatchObject({ image_uri: target, review_reason: 'evidence_conflict', image_sha256: sha(otherBytes) });
    expect(sha((await w.objects.get(target))!)).toBe(sha(otherBytes)); // not rewritten
  });
});
