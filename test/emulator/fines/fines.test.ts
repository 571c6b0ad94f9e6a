import { PLATE_REVIEW_BELOW } from '../../../shared/fines/settings.js';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { PLATE_BOX_COLOUR } from '../../../shared/fines/evidence-photo.js';
import { fineIdOf } from '../../../shared/fines/fine-record.js';
import sharp from 'sharp';
import { gsUri } from '../../../shared/fines/object-names.js';
import type { FaultPoint } from '../../../shared/core/faults.js';
import type { TextDetector } from '../../../shared/fines/ports.js';
import { renderCapturePhoto } from '../../../cli/generators/capture-photo.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inbound, speedingBody, testWorld } from '../../support/fixtures.js';
import type { InboundMessage } from '../../../shared/core/pubsub-message.js';
import { useOcrWorlds } from '../../support/ocr-worlds.js';

const ocr = useOcrWorlds();

function world(detector: TextDetector = ocr, env: Record<string, string> = {}) {
  const objects = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'objects-')));
  const t = testWorld(env, { objects, ocr: detector });
  const rows = () => t.query('SELECT fine_id, license_plate, review_reason, image_sha256 FROM speedcam.fined_vehicles');
  return { ...t, objects, fine: (msg: InboundMessage) => t.rt.fines.handle(msg), flush: () => t.rt.flush.run(), rows };
}

type World = ReturnType<typeof world>;

/** A speeding decision as the speed check publishes it, and the camera's photo where the convention puts it. */
async function speeding(w: World, vehicleId: string, opts: { plate?: string; photo?: Buffer | null; imageUri?: string } = {}) {
  const radar = w.config.radars.get(w.config.defaultRadarId)!;
  const t = w.clock.now();
  let plateBox = null;
  if (opts.photo !== null) {
    const rendered = await renderCapturePhoto(opts.plate ?? 'KXT4821', () => 0.42);
    plateBox = rendered.plateBox;
    await w.objects.put(gsUri(w.config.buckets.captures, `${radar.id}/${vehicleId}/${t}.png`), opts.photo ?? rendered.image, {
      contentType: 'image/png',
    });
  }
  const body = speedingBody(w, vehicleId, { avgSpeed: 61.5, seenForMs: 30_000, imageUri: opts.imageUri ?? null });
  return { msg: inbound(JSON.stringify(body), { messageId: `sp-${vehicleId}` }), plateBox, passageId: body.passage_id };
}

async function deliverUntilDone(w: World, msg: ReturnType<typeof inbound>) {
  for (let i = 0; i < 5; i++) {
    try {
      return await w.fine(msg);
    } catch {
      /* redelivered */
    }
  }
  throw new Error('never succeeded');
}

describe('fine issuance', () => {
  it('reads the plate, stores the analysed photo with its SHA-256, records the fine and notifies with image_url', async () => {
    const w = world();
    const { msg, plateBox, passageId } = await speeding(w, 'aB3xY9', { plate: 'KXT4821' });
    const fine = (await w.fine(msg))!;
    expect(fine).toMatchObject({
      fine_id: fineIdOf(passageId),
      license_plate: 'KXT4821',
      review_reason: null,
      passage_id: passageId,
      status: 'issued',
    });
    // trusted at the default review threshold (PLATE_REVIEW_BELOW.model), not a lower one
    expect(w.config.plateReviewBelow).toBe(PLATE_REVIEW_BELOW.model);
    expect(fine.plate_confidence).toBeGreaterThanOrEqual(w.config.plateReviewBelow);
    const notes = w.publisher.on(w.config.topics.fineNotifications);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.data).toMatchObject({
      fine_id: fine.fine_id,
      is_Ticketed: true,
      license_plate: 'KXT4821',
      image_url: fine.image_url,
      radar_id: 'nyc-5th-ave-apple-zara',
      avg_speed: 61.5,
      speed_limit: 40,
    });
    expect(fine.image_url).toMatch(/^file:\/\/.*speedcam-evidence\/nyc-5th-ave-apple-zara\/F[0-9A-F]+\.png$/);

    // The analysed photo: a PNG whose box is drawn where the plate is.
    const png = (await w.objects.get(fine.image_uri!))!;
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(png).digest('hex')).toBe(fine.image_sha256);
    const raw = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const img = { width: raw.info.width, height: raw.info.height, data: raw.data };
    const isBox = (x: number, y: number) => {
      const i = 4 * (y * img.width + x);
      return (
        Math.abs(img.data[i]! - PLATE_BOX_COLOUR[0]) < 30 &&
        Math.abs(img.data[i + 1]! - PLATE_BOX_COLOUR[1]) < 30 &&
        Math.abs(img.data[i + 2]! - PLATE_BOX_COLOUR[2]) < 30
      );
    };
    const pb = plateBox!;
    const midY = Math.round((pb.y0 + pb.y1) / 2);
    const redOnRow = [...Array(img.width).keys()].filter((x) => isBox(x, midY));
    expect(redOnRow.length).toBeGreaterThan(4);
    // the box's sides on the plate's middle row lie at the plate, not elsewhere in the photo
    expect(Math.min(...redOnRow)).toBeGreaterThan(pb.x0 - 20);
    expect(Math.max(...redOnRow)).toBeLessThan(pb.x1 + 20);
    expect(Math.max(...redOnRow) - Math.min(...redOnRow)).toBeGreaterThan((pb.x1 - pb.x0) * 0.6);
    // nothing drawn in the top of the photo (the windscreen), far from the plate
    expect([...Array(img.width).keys()].some((x) => isBox(x, 60))).toBe(false);
    expect(img.height).toBeGreaterThan(480); // the banner with speed, limit, radar and time
  });

  it('the same speeding message twice: one fine, one notification, one warehouse row', async () => {
    const w = world();
    const { msg } = await speeding(w, 'Twice9');
    const a = await w.fine(msg);
    const b = await w.fine(msg);
    expect(b).toEqual(a);
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(1);
    w.clock.advance(60_000);
    await w.flush();
    expect(await w.rows()).toHaveLength(1);
  });

  const points: FaultPoint[] = ['fine.beforeRecord', 'fine.afterRecord', 'fine.afterPublish'];
  it.each(points)('a crash at %s and the retry: one fine record, one row, notifications all of one fine_id', async (point) => {
    const w = world();
    w.faults.arm(point);
    const { msg } = await speeding(w, 'Crash7');
    await deliverUntilDone(w, msg);
    const notes = w.publisher.on(w.config.topics.fineNotifications);
    expect(new Set(notes.map((x) => x.attributes['fine_id'])).size).toBe(1);
    // only a crash between the publish and its mark repeats the notification (same fine_id, same body)
    expect(notes).toHaveLength(point === 'fine.afterPublish' ? 2 : 1);
    if (notes.length === 2) expect(notes[0]!.data).toEqual(notes[1]!.data);
    // a stable event_id on every publish: a consumer drops the repeat by it
    expect(notes.map((x) => x.attributes['event_id'])).toEqual(notes.map((x) => x.attributes['fine_id']));
    w.clock.advance(60_000);
    await w.flush();
    expect(await w.rows()).toHaveLength(1);
  });

  it('a crash after the record and no redelivery: the flush sends the notification', async () => {
    const w = world();
    w.faults.arm('fine.afterRecord');
    const { msg } = await speeding(w, 'Lost42');
    await expect(w.fine(msg)).rejects.toThrow(/injected/);
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);
    w.clock.advance(60_000);
    expect((await w.flush()).republished).toBe(1);
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(1);
  });

  it('no photo: the fine is recorded, held for manual plate review, and no notice leaves (not even from the flush)', async () => {
    const w = world();
    const { msg } = await speeding(w, 'NoPic1', { photo: null });
    expect(await w.fine(msg)).toMatchObject({
      license_plate: null,
      review_reason: 'photo_missing',
      image_url: null,
      status: 'pending_review',
    });
    expect(await w.fine(msg)).toMatchObject({ status: 'pending_review' });
    w.clock.advance(60_000);
    expect((await w.flush()).republished).toBe(0);
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);
    expect(await w.query('SELECT status, review_reason FROM speedcam.fined_vehicles')).toEqual([
      { status: 'pending_review', review_reason: 'photo_missing' },
    ]);
  });

  it('an unreadable photo: issued and flagged, the original kept as the image to review', async () => {
    const w = world();
    const { msg } = await speeding(w, 'Broken', { photo: Buffer.from('not a png at all') });
    const fine = (await w.fine(msg))!;
    expect(fine).toMatchObject({ license_plate: null, review_reason: 'photo_unreadable' });
    expect(fine.image_url).toMatch(/speedcam-captures/);
  });

  it('an OCR error: issued and flagged ocr_error, with the analysed photo', async () => {
    const failing: TextDetector = {
      detect: async () => {
        throw new Error('UNAVAILABLE: vision');
      },
    };
    const w = world(failing);
    const { msg } = await speeding(w, 'OcrErr');
    const fine = (await w.fine(msg))!;
    expect(fine).toMatchObject({ license_plate: null, review_reason: 'ocr_error' });
    expect(fine.image_uri).toMatch(/^gs:\/\/speedcam-evidence\//);
  });

  it('a plate the camera reported that OCR reads differently is flagged plate_mismatch', async () => {
    const w = world();
    const { msg } = await speeding(w, 'KXT4821', { plate: 'KXT4821' });
    const body = JSON.parse(msg.data.toString());
    const fine = await w.fine({ ...msg, data: Buffer.from(JSON.stringify({ ...body, license_plate: 'ABC1234' })) });
    expect(fine).toMatchObject({ license_plate: 'KXT4821', review_reason: 'plate_mismatch', status: 'pending_review' });
    expect(fine!.plate_alternatives![0]).toMatchObject({ plate: 'KXT4821' });
    expect(fine!.plate_box).not.toBeNull();
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);
  });

  it('a radar that expects no plate formats: the plate is read, and the fine held for a person', async () => {
    const w = world(ocr, { SPEEDCAM_PLATE_FORMATS: '' });
    const { msg } = await speeding(w, 'KXT4821', { plate: 'KXT4821' });
    expect(await w.fine(msg)).toMatchObject({
      license_plate: 'KXT4821',
      review_reason: 'plate_format_unexpected',
      status: 'pending_review',
    });
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);
  });

  it('tells the reader a read is enough (no closer look) only when it needs no person', async () => {
    const verdicts: boolean[] = [];
    const watching: TextDetector = {
      detect: async (image) => {
        const found = await ocr.detect(image);
        verdicts.push(image.enough!(found));
        return found;
      },
    };
    const w = world(watching);
    const trusted = await speeding(w, 'KXT4821', { plate: 'KXT4821' });
    expect(await w.fine(trusted.msg)).toMatchObject({ license_plate: 'KXT4821', review_reason: null });
    const { msg } = await speeding(w, 'LMN5832', { plate: 'LMN5832' });
    const body = JSON.parse(msg.data.toString());
    const claimed = await w.fine({ ...msg, data: Buffer.from(JSON.stringify({ ...body, license_plate: 'ABC1234' })) });
    expect(claimed).toMatchObject({ license_plate: 'LMN5832', review_reason: 'plate_mismatch' });
    expect(verdicts).toEqual([true, false]);
  });

  it('an image_uri that tries to leave its bucket is never read: no photo, flagged photo_forbidden', async () => {
    const w = world();
    const { msg } = await speeding(w, 'Evil01', { photo: null, imageUri: 'gs://speedcam-captures/../../etc/passwd' });
    expect(await w.fine(msg)).toMatchObject({ review_reason: 'photo_forbidden', license_plate: null, image_url: null });
  });

  it('a malformed speeding message goes to the dead letters', async () => {
    const w = world();
    expect(await w.fine(inbound('{"passage_id": 3}'))).toBeNull();
    expect(w.publisher.on(w.config.topics.deadLetters)[0]!.data).toMatchObject({ source: 'speeding-vehicles', reason: 'invalid_fields' });
  });

  it('a speeding message that is no JSON object is refused by the same checks as every input', async () => {
    const w = world();
    for (const bad of ['', 'not json', '[1]']) expect(await w.fine(inbound(bad))).toBeNull();
    expect(w.publisher.on(w.config.topics.deadLetters).map((m) => m.data['reason'])).toEqual([
      'empty_payload',
      'malformed_json',
      'not_an_object',
    ]);
  });
});
