import type { ImageAnnotatorClient } from '@google-cloud/vision';
import type { TextDetector } from '../../fines/ports.js';
import type { Box, TextDetection } from '../../fines/plate.js';

interface Vertex {
  x?: number | null;
  y?: number | null;
}
interface Poly {
  vertices?: Vertex[] | null;
}
/** The parts of Vision's AnnotateImageResponse that TEXT_DETECTION fills. */
export interface VisionTextResponse {
  textAnnotations?: { description?: string | null; boundingPoly?: Poly | null; score?: number | null; locale?: string | null }[] | null;
  fullTextAnnotation?: {
    text?: string | null;
    pages?:
      | {
          blocks?:
            | {
                paragraphs?:
                  | {
                      words?:
                        { boundingBox?: Poly | null; confidence?: number | null; symbols?: { text?: string | null }[] | null }[] | null;
                    }[]
                  | null;
              }[]
            | null;
        }[]
      | null;
  } | null;
  error?: { code?: number | null; message?: string | null } | null;
}

function boxOf(poly: Poly | null | undefined): Box {
  const vs = poly?.vertices ?? [];
  const xs = vs.map((v) => v.x ?? 0);
  const ys = vs.map((v) => v.y ?? 0);
  return xs.length
    ? { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) }
    : { x0: 0, y0: 0, x1: 0, y1: 0 };
}

/**
 * Detections from a Vision response. `textAnnotations[0]` is the whole text, the rest are words with
 * their boundingPoly; word confidences come from `fullTextAnnotation` (matched by text and box) when
 * Vision gives them.
 */
export function parseVisionResponse(res: VisionTextResponse): TextDetection[] {
  if (res.error?.message) throw new Error(`Vision error ${res.error.code ?? ''}: ${res.error.message}`);
  const words = (res.textAnnotations ?? []).slice(1);
  const confidences = new Map<string, number>();
  for (const page of res.fullTextAnnotation?.pages ?? [])
    for (const block of page.blocks ?? [])
      for (const para of block.paragraphs ?? [])
        for (const w of para.words ?? []) {
          const text = (w.symbols ?? []).map((s) => s.text ?? '').join('');
          const b = boxOf(w.boundingBox);
          if (typeof w.confidence === 'number' && w.confidence > 0) confidences.set(`${text}@${b.x0},${b.y0}`, w.confidence);
        }
  return words
    .filter((w) => (w.description ?? '').trim().length > 0)
    .map((w) => {
      const box = boxOf(w.boundingPoly);
      const text = (w.description ?? '').trim();
      return { text, box, confidence: confidences.get(`${text}@${box.x0},${box.y0}`) ?? null };
    });
}

/**
 * Cloud Vision TEXT_DETECTION on the photo's bytes, already downloaded and checked by the fine path
 * (as the radar producer's pipeline sends `content`): no second read from Cloud Storage, no storage grant for
 * Vision, and the same call for photos from the cars API or an https URL.
 */
export class VisionTextDetector implements TextDetector {
  constructor(private readonly client: Pick<ImageAnnotatorClient, 'textDetection'>) {}

  async detect(image: { bytes: Buffer; onStart?: () => void }): Promise<TextDetection[]> {
    image.onStart?.();
    const [res] = await this.client.textDetection({ image: { content: image.bytes } });
    return parseVisionResponse(res as VisionTextResponse);
  }
}
