import type { FineSettings } from './settings.js';
import type { Annotation } from './evidence-photo.js';
import { findPhoto, type PhotoResult } from './photo-sources.js';
import type { Box } from './plate.js';
import type { ObjectStore } from './ports.js';

/** What a fine's photo is found and annotated by: the fields a speeding message and a fine record share. */
export interface FinePassage {
  radar_id: string;
  vehicle_id: string;
  avg_speed: number;
  speed_limit: number;
  first_seen: string;
  last_seen: string;
}

/** The camera photo of a passage: `imageUri` first, then the captures bucket, then the cars API. */
export function findFinePhoto(
  objects: ObjectStore,
  config: Pick<FineSettings, 'buckets' | 'photos'>,
  p: FinePassage,
  imageUri: string | null,
): Promise<PhotoResult> {
  return findPhoto(
    objects,
    { capturesBucket: config.buckets.captures, ...config.photos },
    {
      radarId: p.radar_id,
      vehicleId: p.vehicle_id,
      imageUri,
      firstSeenMs: Date.parse(p.first_seen),
      lastSeenMs: Date.parse(p.last_seen),
    },
  );
}

/** The analysed photo's annotation of a fine: the plate (as read, or as a reviewer confirmed it), speed, limit, radar, time. */
export function fineAnnotation(
  config: { radars: ReadonlyMap<string, { name: string }> },
  p: FinePassage,
  fineId: string,
  plate: { plate: string | null; confidence: number | null; box: Box | null },
): Annotation {
  return {
    plate: plate.plate,
    plateConfidence: plate.confidence,
    plateBox: plate.box,
    avgSpeedKmh: p.avg_speed,
    speedLimitKmh: p.speed_limit,
    radarName: config.radars.get(p.radar_id)?.name ?? p.radar_id,
    observedAt: p.last_seen,
    fineId,
  };
}
