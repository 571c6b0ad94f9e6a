import { mkdtempSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { gsUri } from '../../../shared/fines/object-names.js';
import { renderCapturePhoto } from '../../../cli/generators/capture-photo.js';
import { inbound, speedingBody, testWorld } from '../../support/fixtures.js';
import { useOcrWorlds } from '../../support/ocr-worlds.js';

const ocr = useOcrWorlds();

describe('a fine keeps the photo it was judged on', () => {
  it('copies the original capture into the evidence bucket (once), so the captures lifecycle may delete it', async () => {
    const objects = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'objects-')));
    const w = testWorld({}, { objects, ocr });
    const radar = w.config.radars.get(w.config.defaultRadarId)!;
    const { image } = await renderCapturePhoto('KXT4821', () => 0.42);
    const capture = gsUri(w.config.buckets.captures, `${radar.id}/Keep01/${w.clock.now()}.png`);
    await objects.put(capture, image, { contentType: 'image/png' });
    const body = speedingBody(
      w,
      'Keep01',
      { avgSpeed: 58.2, seenForMs: 20_000, imageUri: capture },
      { speed_threshold: 55, tolerance: '{"percent":5,"plus_kmh":0,"min_kmh":5,"applies_to":"measured"}' },
    );
    const fine = (await w.rt.fines.handle(inbound(JSON.stringify(body), { messageId: 'keep-1' })))!;
    expect(fine.capture_uri).toBe(capture);
    // the fine states the rule it was judged by
    expect(fine).toMatchObject({ speed_limit: 40, speed_threshold: 55, tolerance: body.tolerance });
    expect(fine.capture_copy_uri).toBe(gsUri(w.config.buckets.evidence, `${radar.id}/${fine.fine_id}-capture.png`));
    expect((await objects.get(fine.capture_copy_uri!))!.equals(image)).toBe(true);
    expect(w.publisher.on(w.config.topics.fineNotifications)[0]!.data['capture_copy_uri']).toBe(fine.capture_copy_uri);

    // The captures bucket's lifecycle deletes the original; the fine's copy stays, and a redelivery changes nothing.
    await unlink(objects.path(capture));
    const again = (await w.rt.fines.handle(inbound(JSON.stringify(body), { messageId: 'keep-2' })))!;
    expect(again.capture_copy_uri).toBe(fine.capture_copy_uri);
    expect((await objects.get(fine.capture_copy_uri!))!.equals(image)).toBe(true);

    // And the warehouse row carries it.
    w.clock.advance(60_000);
    await w.rt.flush.run();
    expect(await w.query(`SELECT capture_copy_uri, speed_threshold FROM speedcam.fined_vehicles`)).toEqual([
      { capture_copy_uri: fine.capture_copy_uri, speed_threshold: 55 },
    ]);
  });
});
