import type { Radar } from './config.js';
import type { Observation } from './observation.js';
import type { ApplyResult, PassageDecision } from './passage.js';

/** Where a decided passage's document lives, so its publish can be marked done there. */
export interface DecisionRef {
  collection: string;
  docId: string;
  decision: PassageDecision;
}

export interface BatchOutcome extends ApplyResult {
  /** decisions to publish now: those taken in this step, and earlier ones still unpublished */
  toPublish: DecisionRef[];
}

export interface ExportedPassage {
  ref: DecisionRef;
  pendingPublish: boolean;
  exportAtMs: number;
}

/** The state port of the speed check (Firestore in Google Cloud and on the emulator). */
export interface PassageStore {
  applyBatch(radar: Radar, vehicleId: string, batch: readonly Observation[]): Promise<BatchOutcome>;
  closeIfExpired(docId: string, radarOf: (id: string) => Radar | undefined): Promise<DecisionRef | null>;
  findExpiredOpen(limit: number): Promise<string[]>;
  markPublished(ref: DecisionRef): Promise<void>;
  scanForExport(collection: 'passages' | 'archive', fromMs: number, toMs: number, limit: number): Promise<ExportedPassage[]>;
}
