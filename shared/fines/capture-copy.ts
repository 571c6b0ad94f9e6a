import { sha256 } from '../core/hashing.js';
import { PHOTO_CONTENT_TYPES } from './image.js';
import { gsUri, objectName } from './object-names.js';
import type { Photo } from './photo-sources.js';
import type { ObjectStore } from './ports.js';

/**
 * Keeps the camera photo a fine was judged on: a copy in the evidence bucket (under its retention policy), since
 * the captures bucket deletes every photo after the non-offender retention (docs/data-retention.md). Created once
 * (ifGenerationMatch=0): a retry of the same fine finds its copy there and keeps it. Returns the copy's gs:// URI.
 */
export async function keepCapture(
  objects: ObjectStore,
  evidenceBucket: string,
  radarId: string,
  fineId: string,
  photo: Pick<Photo, 'bytes' | 'uri' | 'info'>,
): Promise<string> {
  const format = photo.info.format;
  const uri = gsUri(evidenceBucket, `${objectName(radarId, fineId)}-capture.${format === 'jpeg' ? 'jpg' : format}`);
  await objects.create(uri, photo.bytes, {
    contentType: PHOTO_CONTENT_TYPES[format],
    metadata: { sha256: sha256(photo.bytes), fine_id: fineId, source_uri: photo.uri.slice(0, 1024) },
  });
  return uri;
}
