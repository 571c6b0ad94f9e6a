import type { Radar } from './config.js';
import type { Observation } from './observation.js';
import type { ApplyResult, ObservationOutcome, PassageDecision, PassageState } from './passage.js';
import type { InboundMessage } from './pubsub-message.js';

/** Where a decided passage's document lives, so its publish can be marked done there. */
export interface DecisionRef {
  collection: string;
  docId: string;
  decision: PassageDecision;
}

export interface BatchOutcome extends ApplyResult {
  /** decisions taken in this step: to publish now */
  toPublish: DecisionRef[];
  /**
   * earlier decisions that a redelivery met still flagged: their closer may have crashed before
   * publishing, so they are published again unless a publish mark is found (isPublished)
   */
  unconfirmed: DecisionRef[];
}

export interface ExportedPassage {
  ref: DecisionRef;
  pendingPublish: boolean;
  exportAtMs: number;
}

/** An observation as the log keeps it: the observation, and the message it came in (for a dead letter). */
export interface LoggedObservation {
  obs: Observation;
  msg: InboundMessage;
}

/** One log document: the observations one instance committed together, in commit order. */
export interface LogEntry {
  id: string;
  /** server commit time, ms (the log's order) */
  createdAtMs: number;
  items: LoggedObservation[];
}

/** A position in a radar's log: every entry committed at or before it has been read. */
export interface LogCursor {
  /** Firestore timestamp as seconds and nanoseconds (the log's commit times are finer than ms) */
  seconds: number;
  nanos: number;
}

/** One vehicle's observation batches, in log order, to apply on top of its passage document. */
export interface VehicleBatches {
  vehicleId: string;
  batches: Observation[][];
}

export interface SweptVehicle {
  vehicleId: string;
  /** the passage state after the batches (as written) */
  state: PassageState;
  outcomes: Map<string, ObservationOutcome>;
  toPublish: DecisionRef[];
  unconfirmed: DecisionRef[];
}

/** The state port of the speed check (Firestore in Google Cloud and on the emulator). */
export interface PassageStore {
  /**
   * Applies a batch of one (radar, vehicle) in one transaction. With `assumeNew`, a batch that forms one
   * closed passage by itself is first written with a create (no read): it only falls back to the
   * transaction when the vehicle's document exists.
   */
  applyBatch(radar: Radar, vehicleId: string, batch: readonly Observation[], opts?: { assumeNew?: boolean }): Promise<BatchOutcome>;
  closeIfExpired(docId: string, radarOf: (id: string) => Radar | undefined): Promise<DecisionRef | null>;
  findExpiredOpen(limit: number): Promise<string[]>;
  /** records that these decisions were published (one write for all of them) */
  markPublished(...refs: DecisionRef[]): Promise<void>;
  /** whether a decision's publish was recorded (after a redelivery, before publishing it again) */
  isPublished(passageId: string): Promise<boolean>;
  scanForExport(collection: 'passages' | 'archive', fromMs: number, toMs: number, limit: number): Promise<ExportedPassage[]>;

  /** Appends observations that did not complete a passage where they arrived to the radar's log (one blind create). */
  appendLog(radarId: string, items: readonly LoggedObservation[]): Promise<void>;
  /** Who sweeps a radar's log now (a plain read): null when nobody holds a live lease. */
  sweepHolder(radarId: string): Promise<string | null>;
  /** Takes the radar's sweep lease if it is free or expired; returns the log position to continue from. */
  acquireSweep(radarId: string, owner: string, leaseMs: number): Promise<LogCursor | null>;
  /** Log entries committed after the cursor, in commit order, and the cursor after them. */
  readLog(radarId: string, after: LogCursor, limit: number): Promise<{ entries: LogEntry[]; next: LogCursor }>;
  /**
   * In one transaction fenced by the lease: reads the vehicles' passage documents, applies each vehicle's
   * batches in order, writes what changed, and moves the log position (and releases the lease if asked).
   * `beforeCommit` sees every outcome first (dead letters for late observations go out before the commit
   * that skips them). Null when the lease was lost.
   */
  commitSweep(
    radar: Radar,
    owner: string,
    vehicles: readonly VehicleBatches[],
    position: { cursor: LogCursor; leaseMs: number; release: boolean },
    beforeCommit: (swept: readonly SweptVehicle[]) => Promise<void>,
  ): Promise<SweptVehicle[] | null>;
}
