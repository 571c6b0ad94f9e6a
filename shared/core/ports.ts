/** The small interfaces the domain code depends on; adapters live in shared/platform. */

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export interface Publisher {
  /** Resolves once the message is accepted by Pub/Sub (every publish is awaited). */
  publish(topic: string, data: Buffer, attributes?: Record<string, string>): Promise<string>;
}

export type Row = Record<string, unknown> & { row_id: string };

/** A row the warehouse refused for good (schema, type, size): it is not retried, it goes to dead_letters. */
export interface RejectedRow {
  row: Row;
  /** the warehouse's own reason code (BigQuery insertErrors reason, e.g. `invalid`; DuckDB's error class) */
  reason: string;
  /** the warehouse's message */
  error: string;
}

export interface Warehouse {
  /**
   * Idempotent: a row whose row_id is already there replaces it (BigQuery: insertId dedupe). Rows the
   * warehouse rejects permanently are returned, the others land; a transient failure throws (retry all).
   */
  upsert(table: string, rows: readonly Row[]): Promise<{ rejected: RejectedRow[] }>;
  close(): Promise<void>;
}

/** Counts billable Firestore operations so benchmarks and the demo can report them per event. */
export class OpsCounter {
  reads = 0;
  writes = 0;
  deletes = 0;
  transactions = 0;
  snapshot() {
    return { reads: this.reads, writes: this.writes, deletes: this.deletes, transactions: this.transactions };
  }
}

/**
 * Fault injection for crash-retry tests and the chaos run: each named point calls `check`, which
 * throws when a test armed that point. Off (a no-op) unless something arms it.
 */
export class Faults {
  private armed = new Map<string, number>();
  /** how many faults were injected, by point */
  readonly injected = new Map<string, number>();

  /**
   * @param chances probability per call of a fault at each point (the chaos run's transient failures);
   *   empty by default, so production code never fails on purpose.
   */
  constructor(
    private readonly chances: ReadonlyMap<string, number> = new Map(),
    private readonly random: () => number = Math.random,
  ) {}

  /** "point:probability,point:probability" (SPEEDCAM_FAULTS) */
  static fromSpec(spec: string): Faults {
    const chances = new Map<string, number>();
    for (const part of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
      const [point, p] = part.split(':');
      const n = Number(p);
      if (!point || !(n >= 0 && n <= 1)) throw new Error(`SPEEDCAM_FAULTS: "${part}" is not point:probability (0-1)`);
      chances.set(point, n);
    }
    return new Faults(chances);
  }

  arm(point: FaultPoint, times = 1): void {
    this.armed.set(point, (this.armed.get(point) ?? 0) + times);
  }
  check(point: FaultPoint): void {
    const n = this.armed.get(point) ?? 0;
    const chance = this.chances.get(point) ?? 0;
    if (n > 0 || (chance > 0 && this.random() < chance)) {
      if (n > 0) this.armed.set(point, n - 1);
      this.injected.set(point, (this.injected.get(point) ?? 0) + 1);
      throw new InjectedFault(point);
    }
  }
}
export type FaultPoint =
  | 'observation.beforeCommit'
  | 'observation.afterCommit'
  | 'sweep.beforeCommit'
  | 'sweep.afterCommit'
  | 'decision.afterPublish'
  | 'deadLetter.beforePublish'
  | 'deadLetterSink.beforeWrite'
  | 'flush.afterClose'
  | 'flush.afterWarehouse'
  | 'fine.beforeRecord'
  | 'fine.afterRecord'
  | 'fine.afterPublish'
  | 'window.beforeCommit'
  | 'window.afterCommit'
  | 'window.afterWarehouse'
  | 'window.afterMark';

export class InjectedFault extends Error {
  constructor(readonly point: string) {
    super(`injected fault at ${point}`);
    this.name = 'InjectedFault';
  }
}

/**
 * OCR: texts found in a photo's bytes (Cloud Vision in Google Cloud, tesseract.js locally). `formats`
 * are the plate formats the radar expects, a hint an engine may use to decide when a read is sure.
 */
export interface TextDetector {
  detect(image: { bytes: Buffer; formats?: readonly string[] }): Promise<import('../fines/plate.js').TextDetection[]>;
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
