import { renderCapturePhoto } from '../../cli/generators/capture-photo.js';
import { FUNCTIONS } from '../../functions/catalog.js';
import { registerFunctions } from '../../functions/register.js';
import { gsUri } from '../../shared/fines/object-names.js';
import type { ObjectStore } from '../../shared/fines/ports.js';
import type { PaddleTextDetector } from '../../shared/platform/ocr/paddle-text-detector.js';
import { inbound, speedingBody, type testWorld } from './fixtures.js';
import { useFunctionServer } from './function-server.js';
import { useOcrWorlds } from './ocr-worlds.js';

/**
 * Serves the review function on a free port for this test file (it calls runtime(), so each test sets its world's
 * runtime), with one model OCR reader; all closed after the file.
 */
export function useReviewServer(): { ocr: PaddleTextDetector; base: () => string } {
  const ocr = useOcrWorlds();
  const { base } = useFunctionServer('review', () => registerFunctions(FUNCTIONS, 'review'));
  return { ocr, base };
}

/**
 * A speeding decision of a timed section: the entry and exit cameras' photos of `plate` stored in the captures
 * bucket, named by the observations (photos), the exit's as image_uri. `garbage` = exit bytes no decoder reads.
 */
export async function speedingDecision(
  w: Pick<ReturnType<typeof testWorld>, 'config' | 'clock'>,
  objects: ObjectStore,
  vehicleId: string,
  o: { plate: string; reported?: string | undefined; garbage?: Buffer | undefined; avgSpeed: number },
) {
  const radar = w.config.radars.get(w.config.defaultRadarId)!;
  const t = w.clock.now();
  const entry = gsUri(w.config.buckets.captures, `${radar.id}/${vehicleId}/${t}-entry.png`);
  const exit = gsUri(w.config.buckets.captures, `${radar.id}/${vehicleId}/${t + 30_000}.png`);
  const rendered = await renderCapturePhoto(o.plate, () => 0.42);
  await objects.put(entry, rendered.image, { contentType: 'image/png' });
  await objects.put(exit, o.garbage ?? rendered.image, { contentType: 'image/png' });
  const body = speedingBody(
    w,
    vehicleId,
    { avgSpeed: o.avgSpeed, seenForMs: 30_000, imageUri: exit },
    {
      license_plate: o.reported ?? null,
      photos: [
        { camera: 'entry', uri: entry, at: new Date(t).toISOString() },
        { camera: 'exit', uri: exit, at: new Date(t + 30_000).toISOString() },
      ],
    },
  );
  return { passageId: body.passage_id, message: inbound(JSON.stringify(body), { messageId: `sp-${vehicleId}` }) };
}
