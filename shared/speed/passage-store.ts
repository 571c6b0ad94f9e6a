import type { Radar } from './radar.js';
import type { Observation } from './observation.js';
import type { ApplyResult, ObservationOutcome, PassageDecision, PassageState } from './passage.js';
import type { InboundMessage } from '../core/pubsub-message.js';

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

/** Where an episode has read a radar's log up to (the commit time of the last entry it read). */
export interface LogCursor {
  /** Firestore timestamp as seconds and nanoseconds (the log's commit times are finer than ms) */
  seconds: number;
  nanos: number;
}

export interface SweepLease {
  /** the owner of a live lease; null when free or expired */
  holder: string | null;
  /** the lease document's version as read (null: no document yet) */
  version: string | null;
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
  /**
   * Reads the passage documents (current and archived) committed in [fromMs, toMs) (exportAt, which is indexed),
   * at most `limit` per collection, and deletes those whose expireAt has passed (a passage not fined: its
   * decision + the non-offender retention). Firestore's TTL deletes them too, but up to a day late. `next`: where
   * the next call starts (toMs when every page was short).
   */
  deleteExpired(fromMs: number, toMs: number, limit: number): Promise<{ scanned: number; deleted: number; next: number }>;
  /** records that these decisions were published (one write for all of them) */
  markPublished(...refs: DecisionRef[]): Promise<void>;
  /** whether a decision's publish was recorded (after a redelivery, before publishing it again) */
  isPublished(passageId: string): Promise<boolean>;
  scanForExport(collection: 'passages' | 'archive', fromMs: number, toMs: number, limit: number): Promise<ExportedPassage[]>;

  /** Appends observations that did not complete a passage where they arrived to the radar's log (one blind create). */
  appendLog(radarId: string, items: readonly LoggedObservation[]): Promise<void>;
  /** Who sweeps a radar's log now (a plain read, no lock). */
  sweepLease(radarId: string): Promise<SweepLease>;
  /**
   * Takes the radar's sweep lease, if it is still as `seen` showed it (free, expired or ours): a write
   * with a precondition, so instances racing for it do not wait on each other's locks; one wins.
   */
  acquireSweep(radarId: string, owner: string, leaseMs: number, seen: SweepLease): Promise<boolean>;
  /**
   * The radar's log entries in commit order: those committed after `after`, or all of them (null). An
   * entry stays in the log until the sweep that wrote its observations deletes it.
   */
  readLog(radarId: string, after: LogCursor | null, limit: number): Promise<{ entries: LogEntry[]; last: LogCursor | null }>;
  /**
   * In one transaction fenced by the lease: reads the vehicles' passage documents, applies each vehicle's
   * batches in order, writes what changed, deletes the log entries whose observations are now all written,
   * renews the lease (or releases it). `beforeCommit` sees every outcome first (dead letters for late
   * observations go out before the commit that deletes them). Null when the lease was lost.
   */
  commitSweep(
    radar: Radar,
    owner: string,
    vehicles: readonly VehicleBatches[],
    then: { deleteEntries: readonly string[]; leaseMs: number; release: boolean },
    beforeCommit: (swept: readonly SweptVehicle[]) => Promise<void>,
  ): Promise<SweptVehicle[] | null>;
}
