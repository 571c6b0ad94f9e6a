import type { TextDetection } from './plate.js';

/** What the fines need from outside: OCR and object storage (Google Cloud's, or local stand-ins: shared/platform). */

/**
 * OCR: texts found in a photo's bytes (a PP-OCRv4 model run by onnxruntime-node, or Cloud Vision: shared/platform/ocr). `formats`
 * are the plate formats the radar expects, a hint an engine may use to decide when a read is sure.
 */
export interface TextDetector {
  /**
   * `onStart` is called when the reader starts on this photo: a reader that takes one photo at a time (the
   * model's one thread) calls it after the photos ahead of it, so the caller can tell waiting from reading.
   * `enough` says whether what a reader found is all the caller needs: a reader that can look again more
   * closely (the model's first, cheaper look, off by default) stops there when it is; others ignore it.
   */
  detect(image: {
    bytes: Buffer;
    formats?: readonly string[];
    onStart?: () => void;
    enough?: (detections: TextDetection[]) => boolean;
  }): Promise<TextDetection[]>;
}

/** Object storage addressed by gs://bucket/name URIs (Cloud Storage, or a local directory). */
export interface ObjectStore {
  /** null when there is no such object; ObjectAccessDenied when this identity may not read it */
  get(uri: string): Promise<Buffer | null>;
  put(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }): Promise<void>;
  /**
   * Writes the object only if none exists under that name (Cloud Storage: ifGenerationMatch 0), so an
   * object under a retention policy is never rewritten; 'exists' when one was already there.
   */
  create(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }): Promise<'created' | 'exists'>;
  /** URIs of the objects whose name starts with the prefix */
  list(prefixUri: string): Promise<string[]>;
  /** the URL a person opens to see the object (never a public one) */
  viewUrl(uri: string): string;
}

/** The identity may not read (or list) the object: permanent, a retry would fail the same way. */
export class ObjectAccessDenied extends Error {
  override name = 'ObjectAccessDenied';
}
