import type { ExportSettings } from '../export/settings.js';
import { fineNotificationAttributes, type FineNotification } from '../contracts/fine-notification.js';
import type { Faults } from '../core/faults.js';
import { sha256 } from '../core/hashing.js';
import type { Publisher } from '../core/publisher.js';
import type { Exporter } from '../export/exporter.js';
import type { Row, TableDeclaration } from '../export/warehouse.js';
import type { PhotoSource } from './photo-sources.js';
import type { Box } from './plate.js';
import type { Topics } from '../contracts/topics.js';

/**
 * The fine as stored, notified and exported: light enough for the flush, which re-sends notifications
 * and exports fined_vehicles without loading the fines' image and OCR libraries.
 */

/** Why a person looks at a fine: the list its notification declares (shared/contracts/fine-notification.ts). */
export type FineReviewReason = NonNullable<FineNotification['review_reason']>;

/**
 * Where a fine stands. `issued`: no doubt, notified at once. `pending_review`: some review reason; held (no
 * notification) until a person decides: `confirmed` or `corrected` (then notified, once), or `rejected`
 * (never notified).
 */
export type FineStatus = 'issued' | 'pending_review' | 'confirmed' | 'corrected' | 'rejected';

/** A plate the OCR also considered, for the reviewer (best first; the first is the read itself). */
export interface PlateAlternative {
  plate: string;
  confidence: number;
}

/** A camera photo of the passage (entry and exit for a timed section), as its observations referenced it. */
export interface CapturePhoto {
  camera: string | null;
  uri: string;
  at: string | null;
}

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
  /** fined because avg_speed > speed_threshold, by this tolerance rule (docs/tolerances.md) */
  speed_threshold?: number;
  tolerance?: string | null;
  /** that photo as analysed, copied into the evidence bucket (the captures bucket deletes it after the non-offender retention) */
  capture_copy_uri?: string | null;
  /** where that photo came from: the observation's image_uri, the captures bucket or the cars API */
  photo_source: PhotoSource | null;
  first_seen: string;
  last_seen: string;
  issued_at: string;
  /** the reader's time on this photo (detection and recognition) */
  ocr_ms: number | null;
  /** how long the photo waited for the reader behind the instance's other photos (it reads one at a time) */
  ocr_wait_ms?: number | null;
  /** absent on fines stored before reviews existed: read as `issued` (statusOf) */
  status?: FineStatus;
  /** where the plate is in the camera photo (the page zooms on it) */
  plate_box?: Box | null;
  plate_alternatives?: PlateAlternative[];
  /** every camera photo of the passage the observations referenced (the entry's and the exit's) */
  captures?: CapturePhoto[];
  /** the plate the OCR read, kept when a reviewer corrects license_plate */
  read_plate?: string | null;
  reviewed_by?: string | null;
  reviewed_at?: string | null;
  /** why a reviewer rejected the fine */
  review_note?: string | null;
}

export function statusOf(r: Pick<FineRecord, 'status'>): FineStatus {
  return r.status ?? 'issued';
}

/** Whether a fine's notification may leave: never while it waits for a person, never once rejected. */
export function notifiable(r: Pick<FineRecord, 'status'>): boolean {
  const s = statusOf(r);
  return s === 'issued' || s === 'confirmed' || s === 'corrected';
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

/**
 * Publishes the fine notification, then marks it sent (the flush re-sends unmarked ones). A held or rejected
 * fine is never published, whatever its mark says.
 */
export async function notifyFine(
  deps: {
    config: { topics: Pick<Topics, 'fineNotifications'> };
    publisher: Publisher;
    faults: Faults;
    fines: Pick<FineStore, 'markNotified'>;
  },
  record: FineRecord,
): Promise<void> {
  if (!notifiable(record)) return;
  const message = fineNotification(record);
  // event_id: the same on every publish of this notification, so consumers drop repeats by it.
  await deps.publisher.publish(
    deps.config.topics.fineNotifications,
    Buffer.from(JSON.stringify(message)),
    fineNotificationAttributes(message),
  );
  deps.faults.check('fine.afterPublish');
  await deps.fines.markNotified(record.fine_id);
}

/** What the page needs but the notice and the warehouse do not. */
const pageOnly = ({ plate_box: _b, plate_alternatives: _a, ...r }: FineRecord) => r;

/** The fine-notifications message (shared/contracts/fine-notification.ts) of a notifiable fine. */
export function fineNotification(r: FineRecord): FineNotification {
  const status = statusOf(r);
  if (status === 'pending_review' || status === 'rejected') throw new Error(`fine ${r.fine_id} is ${status}: it is not notified`);
  return { ...pageOnly(r), status, is_Ticketed: true };
}

/**
 * A fined_vehicles row; row_id = fine_id. A decision re-exports the row with a higher row_revision (the time
 * of the decision): its _CHANGE_SEQUENCE_NUMBER, so the Write API upsert keeps the newest.
 */
export function fineRow(r: FineRecord): Row {
  const { captures, ...rest } = pageOnly(r);
  return {
    row_id: r.fine_id,
    ...rest,
    status: statusOf(r),
    capture_uris: (captures ?? []).map((c) => c.uri),
    row_revision: Date.parse(r.reviewed_at ?? r.issued_at),
    is_Ticketed: true,
  };
}

/** Every fine: day-partitioned by issue time, clustered by radar and plate. */
export const FINED_VEHICLES: TableDeclaration = { name: 'fined_vehicles', time: 'issued_at', cluster: ['radar_id', 'license_plate'] };

/** fined_vehicles: every fine record once, by fine id; notifications a crash left unsent are re-sent. */
export function finesExporter(
  deps: Parameters<typeof notifyFine>[0] & { config: Pick<ExportSettings, 'exportGraceMs'>; fines: FineStore },
): Exporter<StoredFine> {
  return {
    name: 'fines',
    table: FINED_VEHICLES.name,
    // the fine function has this long to publish its notification before the flush re-sends it
    lagMs: deps.config.exportGraceMs,
    scan: (from, to, limit) => deps.fines.scanForExport(from, to, limit),
    toRow: (f) => fineRow(f.record),
    async after(page) {
      // A held fine is never sent from here; a decided one is, if its function died before marking it.
      const pending = page.filter((f) => f.pendingNotify && notifiable(f.record));
      for (const f of pending) await notifyFine(deps, f.record);
      return pending.length;
    },
  };
}
