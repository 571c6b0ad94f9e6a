import type { WindowEvent } from './aggregate.js';
import type { WindowShard } from './window-state.js';

/**
 * Where the window pipelines keep their events and what the flush exported (Firestore in Google Cloud:
 * shared/platform/firestore/firestore-window-store.ts). Events go into batch documents, never updated; each window
 * has a state document once exported.
 */
export interface WindowStore {
  /** Writes the events, grouped by window, in one commit (blind creates: no read, no contention). */
  append(pipeline: string, windowSizeMs: number, events: readonly WindowEvent[]): Promise<void>;
  /** Earliest window end, latest write and greatest event time of the pipeline's batches; null when none. */
  probe(pipeline: string): Promise<PipelineProbe | null>;
  /** Batches of windows ending at or before `endAtMost`, earliest first, and the read time of the query. */
  batchesEndingBy(
    pipeline: string,
    endAtMost: number,
    limit: number,
  ): Promise<{ batches: WindowBatch[]; readTimeMs: number; full: boolean }>;
  /** All batches of one window, and the read time of that query. */
  readWindow(pipeline: string, windowStart: number): Promise<{ batches: WindowBatch[]; readTimeMs: number }>;
  getState(pipeline: string, windowStart: number): Promise<WindowState>;
  /** The listed shards of an exported window. */
  getShards(pipeline: string, windowStart: number, state: WindowState, indexes: Iterable<number>): Promise<Map<number, WindowShard>>;
  /** Records the window exported (or revised): its aggregates and the digests of its counted events. */
  saveState(
    pipeline: string,
    windowStart: number,
    s: { aggregatedAsOfMs: number; revision: number; shards: number; changed: ReadonlyMap<number, WindowShard> },
  ): Promise<void>;
  deleteBatches(pipeline: string, docIds: readonly string[]): Promise<void>;
  /** Records the early pane just written of an open window (merged into its state document; the export replaces it). */
  saveEarlyPane(pipeline: string, windowStart: number, pane: EarlyPane): Promise<void>;
}

/** The latest early pane of an open window. */
export interface EarlyPane {
  /** read time of the batches it was computed from: a batch created after it is news for the next pane */
  asOfMs: number;
  /** the flush's clock when it was written: the next pane is due early_s after */
  atMs: number;
}

export interface WindowBatch {
  docId: string;
  windowStart: number;
  windowEnd: number;
  /** server commit time */
  createdMs: number;
  /** the writing instance's clock at the commit: the flush's processing-time rules compare with it */
  writtenAtMs: number;
  events: WindowEvent[];
}

/** What the flush needs to know of a pipeline's open windows, from three one-document queries. */
export interface PipelineProbe {
  /** end of the earliest window that has batches */
  earliestEnd: number;
  /** the latest batch's writtenAtMs: the pipeline is idle when it is older than the lateness */
  newestWrittenMs: number;
  /** the greatest event time stored in any batch: how far the data has moved */
  maxSeenMs: number;
}

export interface WindowState {
  exported: boolean;
  /** read time of the query whose batches made the latest rows */
  aggregatedAsOfMs: number | null;
  /** row_revision of the latest rows (the read time that made them) */
  revision: number | null;
  shards: number;
  /** the only shard, kept in the state document, when the window has one */
  inline: WindowShard | null;
  /** the latest early pane written while the window was open (null once exported, or when none was) */
  early?: EarlyPane | null;
}
