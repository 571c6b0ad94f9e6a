import type { Config } from '../config.js';
import type { Faults } from '../core/faults.js';
import { sha256 } from '../core/hashing.js';
import type { Publisher } from '../core/publisher.js';
import type { Exporter } from '../export/exporter.js';
import type { Row, TableDeclaration } from '../export/warehouse.js';
import type { PhotoProblem, PhotoSource } from './photo-sources.js';

/**
 * The fine as stored, notified and exported: light enough for the flush, which re-sends notifications
 * and exports fined_vehicles without loading the fines' image and OCR libraries.
 */

export type FineReviewReason =
  | PhotoProblem
  | 'ocr_error'
  | 'plate_not_read'
  | 'low_confidence'
  | 'plate_format_unexpected'
  | 'plate_mismatch'
  | 'evidence_conflict';

/** The fine as stored, notified and exported (the original pipeline's fined_vehicles columns and more). */
export interface FineRecord {
  fine_id: string;
  passage_id: string;
  radar_id: string;
  vehicle_id: string;
  avg_speed: number;
  speed_limit: number;
  coordinates: number[];
  license_plate: string | null;
  plate_confidence: number | null;
  review_reason: FineReviewReason | null;
  /** the analysed photo, for a person to open (authenticated URL in Google Cloud, file URL locally) */
  image_url: string | null;
  image_uri: string | null;
  image_sha256: string | null;
  /** the camera photo that was analysed (gs:// or the URL it was fetched from) */
  capture_uri: string | null;
  /** where that photo came from: the observation's image_uri, the captures bucket or the cars API */
  photo_source: PhotoSource | null;
  first_seen: string;
  last_seen: string;
  issued_at: string;
  ocr_ms: number | null;
}

export interface StoredFine {
  record: FineRecord;
  pendingNotify: boolean;
}

export interface FineStore {
  get(fineId: string): Promise<StoredFine | null>;
  /** stores the record unless one exists; returns what is stored */
  createOnce(record: FineRecord): Promise<StoredFine>;
  markNotified(fineId: string): Promise<void>;
  scanForExport(fromMs: number, toMs: number, limit: number): Promise<(StoredFine & { exportAtMs: number })[]>;
}

export function fineIdOf(passageId: string): string {
  return `F${sha256(`fine|${passageId}`).slice(0, 19).toUpperCase()}`;
}

/** Publishes the fine notification, then marks it sent (the flush re-sends unmarked ones). */
export async function notifyFine(deps: { config: Pick<Config, 'topics'>; publisher: Publisher; faults: Faults; fines: Pick<FineStore, 'markNotified'> }, record: FineRecord): Promise<void> {
  await deps.publisher.publish(deps.config.topics.fineNotifications, Buffer.from(JSON.stringify(fineNotification(record))), {
    fine_id: record.fine_id,
    passage_id: record.passage_id,
    // The same on every publish of this notification: consumers drop repeats by it.
    event_id: record.fine_id,
  });
  deps.faults.check('fine.afterPublish');
  await deps.fines.markNotified(record.fine_id);
}

export function fineNotification(r: FineRecord): Record<string, unknown> {
  return { ...r, is_Ticketed: true };
}

/** A fined_vehicles row; row_id = fine_id. */
export function fineRow(r: FineRecord): Row {
  return { row_id: r.fine_id, ...r, is_Ticketed: true };
}

/** Every fine: day-partitioned by issue time, clustered by radar and plate. */
export const FINED_VEHICLES: TableDeclaration = { name: 'fined_vehicles', time: 'issued_at', cluster: ['radar_id', 'license_plate'] };

/** fined_vehicles: every fine record once, by fine id; notifications a crash left unsent are re-sent. */
export function finesExporter(deps: Parameters<typeof notifyFine>[0] & { config: Pick<Config, 'exportGraceMs'>; fines: FineStore }): Exporter<StoredFine> {
  return {
    name: 'fines',
    table: FINED_VEHICLES.name,
    // the fine function has this long to publish its notification before the flush re-sends it
    lagMs: deps.config.exportGraceMs,
    scan: (from, to, limit) => deps.fines.scanForExport(from, to, limit),
    toRow: (f) => fineRow(f.record),
    async after(page) {
      const pending = page.filter((f) => f.pendingNotify);
      for (const f of pending) await notifyFine(deps, f.record);
      return pending.length;
    },
  };
}
